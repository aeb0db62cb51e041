/// Makes text safe inside an nft double-quoted string: nft strings cannot escape quotes, so anything
/// outside a conservative printable set becomes `_`, and the result is cut to nft's 128-byte limit.
public enum NFTQuoting {
    public static let maximumCommentBytes = 127

    public static func comment(_ text: String) -> String {
        let bytes = text.utf8
        if bytes.count <= maximumCommentBytes && bytes.allSatisfy(isPlain) { return text }
        var out = ""
        out.reserveCapacity(min(text.utf8.count, maximumCommentBytes))
        for scalar in text.unicodeScalars {
            let allowed = scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\"
                && scalar != "$" && scalar != "#" && scalar != ";" && scalar.value != 0x7F
            out.unicodeScalars.append(allowed ? scalar : "_")
            if out.utf8.count >= maximumCommentBytes { break }
        }
        return out
    }

    /// Printable ASCII that needs no change inside an nft string.
    @inline(__always)
    static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != UInt8(ascii: "$")
            && byte != UInt8(ascii: "#") && byte != UInt8(ascii: ";")
    }
}
