/// Makes text safe inside an nft double-quoted string: nft strings cannot escape quotes, so anything
/// outside a conservative printable set becomes `_`, and the result is cut to nft's 128-byte limit.
public enum NFTQuoting {
    public static let maximumCommentBytes = 127

    public static func comment(_ text: String) -> String {
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
}
