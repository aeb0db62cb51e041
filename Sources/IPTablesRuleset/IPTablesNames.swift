/// iptables names for nft chains and sets. iptables chain names are at most 28 bytes; nft names such as
/// `svc4-shop/api/tcp/http` are longer and contain `/`. A name that fits as `KUBENFT-` plus its
/// upper-cased form is kept readable; any other becomes `KUBENFT-` + up to six letters of its first
/// word + `-` + a 64-bit FNV-1a hash of the whole name in base 32, a function of the name alone, so
/// every reference agrees. The translator checks that no two names collide.
enum IPTablesNames {
    static let prefix = "KUBENFT-"
    static let maximumChainBytes = 28

    /// The dispatcher chain one built-in chain jumps to, e.g. `KUBENFT-PREROUTING`.
    static func dispatcher(_ builtin: String) -> String { prefix + builtin }

    static func chain(_ nftName: String) -> String {
        let upper = nftName.uppercased()
        let readable = prefix + upper
        if readable.utf8.count <= maximumChainBytes && upper.utf8.allSatisfy(isPlain) && upper.first != "-" {
            return readable
        }
        let word = nftName.prefix { $0 != "-" && $0 != "/" }.uppercased().utf8.filter(isPlainLetter)
        let head = String(decoding: word.prefix(6), as: UTF8.self)
        return prefix + (head.isEmpty ? "X" : head) + "-" + base32Hash(nftName)
    }

    /// The `-m recent --name` list for a dynamic (affinity) set: lists live in /proc, so no `/`.
    static func recentList(_ nftName: String) -> String { prefix + "AFF-" + base32Hash(nftName) }

    /// The `-m hashlimit --hashlimit-name` of a rate limit: `kn` and 13 base-32 digits, within the
    /// 15 bytes every hashlimit revision accepts.
    static func hashlimit(_ key: String) -> String { "kn" + base32Hash(key).lowercased() }

    private static func isPlain(_ byte: UInt8) -> Bool {
        isPlainLetter(byte) || byte == UInt8(ascii: "-")
    }

    private static func isPlainLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    /// 64-bit FNV-1a of the UTF-8 bytes in 13 base-32 digits (`A-Z2-7`).
    static func base32Hash(_ text: String) -> String {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        var digits: [UInt8] = []
        for index in 0..<13 {
            let digit = index == 12 ? (value & 0xF) : ((value >> UInt64(59 - index * 5)) & 0x1F)
            digits.append(alphabet[Int(digit)])
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
