/// Name rules from Kubernetes' validation, kept as pure functions returning the problem text.
enum Validation {
    /// IANA_SVC_NAME (RFC 6335): 1-15 lower-case letters, digits and '-', at least one letter,
    /// no leading, trailing or doubled '-'.
    static func ianaServiceNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 15 else { return "must be 1-15 characters" }
        var hasLetter = false
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"):
                hasLetter = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            case UInt8(ascii: "-"):
                if index == 0 || index == bytes.count - 1 { return "must not begin or end with '-'" }
                if bytes[index - 1] == UInt8(ascii: "-") { return "must not contain '--'" }
            default:
                return "must contain only lower-case letters, digits and '-'"
            }
        }
        return hasLetter ? nil : "must contain at least one letter"
    }

    /// DNS_LABEL (RFC 1123), which service port names follow.
    static func dnsLabelProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { return "must be 1-63 characters" }
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                break
            case UInt8(ascii: "-") where index != 0 && index != bytes.count - 1:
                break
            default:
                return "must consist of lower-case letters, digits and '-', and start and end with a letter or digit"
            }
        }
        return nil
    }
}
