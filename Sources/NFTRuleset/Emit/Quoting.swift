/// Makes text from input or from the kernel safe in nft's syntax. Everything here works on Unicode
/// scalars, never on `Character`s: a `Character` can hold several scalars ("\r\n" is one), so a
/// character-level test would let a line break through.
public enum NFTQuoting {
    public static let maximumCommentBytes = 127
    /// The kernel's name limit (256 bytes with the terminating NUL).
    public static let maximumIdentifierBytes = 255

    /// Text for inside an nft double-quoted string: nft strings cannot escape quotes, so anything
    /// outside a conservative printable set becomes `_`, and the result is cut to nft's 128-byte limit.
    public static func comment(_ text: String) -> String {
        let bytes = text.utf8
        if bytes.count <= maximumCommentBytes && bytes.allSatisfy(isPlain) { return text }
        var out = ""
        out.reserveCapacity(min(text.utf8.count, maximumCommentBytes))
        for scalar in text.unicodeScalars {
            let allowed = scalar.isASCII && isPlain(UInt8(scalar.value))
            out.unicodeScalars.append(allowed ? scalar : "_")
            if out.utf8.count >= maximumCommentBytes { break }
        }
        return out
    }

    /// Text for a `# …` line: one line whatever the input, with every control character, line or
    /// paragraph separator replaced by a space.
    public static func noteLine(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            out.unicodeScalars.append(DisplayText.isUnsafe(scalar) ? " " : scalar)
        }
        return out
    }

    /// A table, chain or set name as nft's scanner reads one bare word (`[A-Za-z_.][A-Za-z0-9_./-]*`,
    /// at most 255 bytes). nft 1.0.6 has no quoted identifiers, so any other name, such as one a
    /// foreign process put into our table, is reduced to that alphabet and made unique with `__` and a
    /// 64-bit FNV-1a hash of its bytes. The mapping is a function of the name alone, so a definition
    /// and every reference to it still agree.
    public static func identifier(_ name: String) -> String {
        if isPlainIdentifier(name) { return name }
        var out = ""
        for scalar in name.unicodeScalars {
            out.unicodeScalars.append(scalar.isASCII && isIdentifierByte(UInt8(scalar.value)) ? scalar : "_")
        }
        if let first = out.utf8.first, cannotStartIdentifier(first) { out = "_" + out }
        let suffix = "__" + fnv1a(name)
        let room = maximumIdentifierBytes - suffix.utf8.count
        if out.utf8.count > room { out = String(decoding: out.utf8.prefix(room), as: UTF8.self) }
        return out + suffix
    }

    /// A symbolic value (`established`, an interface name read from the kernel): a bare word when it is
    /// one, else a double-quoted string whose unsafe characters are replaced as in `comment`.
    public static func word(_ text: String) -> String {
        isPlainWord(text) ? text : "\"" + comment(text) + "\""
    }

    /// The value `word` shows, without quotes: what the JSON form carries, so both forms load alike
    /// (nft's JSON reader also refuses a NUL, even escaped).
    public static func wordValue(_ text: String) -> String {
        isPlainWord(text) ? text : comment(text)
    }

    static func isPlainWord(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { isIdentifierByte($0) }
    }

    /// True when `name` is printed unchanged by `identifier`.
    public static func isPlainIdentifier(_ name: String) -> Bool {
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= maximumIdentifierBytes, !cannotStartIdentifier(first) else { return false }
        return bytes.allSatisfy(isIdentifierByte)
    }

    /// Printable ASCII that needs no change inside an nft string.
    @inline(__always)
    static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "$")
            && byte != UInt8(ascii: "#") && byte != UInt8(ascii: ";")
    }

    @inline(__always)
    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "-")
    }

    @inline(__always)
    static func cannotStartIdentifier(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/")
    }

    /// 64-bit FNV-1a of the UTF-8 bytes, as 16 hex digits: stable across runs and platforms, so
    /// names derived from it are too. The compiler's identifiers use the same function.
    public static func fnv1a(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Makes text from input or from the kernel safe to print on a terminal or in a line-oriented
/// report: control characters (C0, DEL, C1), line and paragraph separators and bidirectional
/// overrides become visible `\u{…}` escapes, so one printed item is always exactly one line and
/// cannot move the cursor, recolour the terminal or reorder what follows.
public enum DisplayText {
    public static func escaped(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Scalars that can break a line, act on a terminal, or reorder text.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x2028, 0x2029: return true
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        case 0xFEFF: return true
        default: return false
        }
    }
}
