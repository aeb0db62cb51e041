import NetAddress

/// Name, label and address rules from Kubernetes' validation (apimachinery's `IsDNS1123Label`,
/// `IsQualifiedName`, `IsValidLabelValue`, core's `ValidateNonSpecialIP`, ...), kept as pure functions
/// returning the problem text.
enum Validation {
    /// The API server's limit on the total size of an object's annotations.
    static let maximumAnnotationBytes = 256 * 1024

    /// IANA_SVC_NAME (RFC 6335): 1-15 lower-case letters, digits and '-', at least one letter,
    /// no leading, trailing or doubled '-'.
    static func ianaServiceNameProblem(_ name: String) -> String? {
        withBytes(name) { bytes in ianaServiceNameProblem(bytes) }
    }

    private static func ianaServiceNameProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
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

    /// DNS_LABEL (RFC 1123): namespaces, service port names, endpoint port names.
    static func dnsLabelProblem(_ name: String) -> String? {
        withBytes(name) { bytes in
            guard !bytes.isEmpty, bytes.count <= 63 else { return "must be 1-63 characters" }
            guard isLabel(bytes, firstMayBeDigit: true) else {
                return "must consist of lower-case letters, digits and '-', and start and end with a letter or digit"
            }
            return nil
        }
    }

    /// DNS-1035 label: Service names (they become DNS labels and environment variables).
    static func dns1035LabelProblem(_ name: String) -> String? {
        withBytes(name) { bytes in
            guard !bytes.isEmpty, bytes.count <= 63 else { return "must be 1-63 characters" }
            guard isLabel(bytes, firstMayBeDigit: false) else {
                return "must consist of lower-case letters, digits and '-', start with a letter and end with a letter or digit"
            }
            return nil
        }
    }

    /// DNS-1123 subdomain: most object names, node names, externalName.
    static func dnsSubdomainProblem(_ name: String) -> String? {
        withBytes(name) { bytes in dnsSubdomainProblem(bytes) }
    }

    private static func dnsSubdomainProblem(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard !bytes.isEmpty, bytes.count <= 253 else { return "must be 1-253 characters" }
        var start = 0
        for end in 0...bytes.count where end == bytes.count || bytes[end] == UInt8(ascii: ".") {
            let part = UnsafeBufferPointer(rebasing: bytes[start..<end])
            if part.isEmpty || !isLabel(part, firstMayBeDigit: true) {
                return "must consist of lower-case letters, digits, '-' and '.', and start and end with a letter or digit"
            }
            start = end + 1
        }
        return nil
    }

    /// A label or annotation key: an optional DNS-subdomain prefix and '/', then a name of at most
    /// 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit.
    static func qualifiedNameProblem(_ key: String) -> String? {
        // ASCII keys (all but a few) split on the byte '/'; others on the character, as before.
        if let problem = withBytes(key, { bytes -> String?? in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return nil }
            guard let slash = bytes.firstIndex(of: UInt8(ascii: "/")) else {
                return .some(labelNameProblem(bytes, empty: "must not be empty"))
            }
            let prefix = UnsafeBufferPointer(rebasing: bytes[..<slash])
            let name = UnsafeBufferPointer(rebasing: bytes[(slash + 1)...])
            if name.contains(UInt8(ascii: "/")) { return .some("must be a name with an optional DNS subdomain prefix and '/'") }
            if prefix.isEmpty { return .some("prefix part must not be empty") }
            if let problem = dnsSubdomainProblem(prefix) { return .some("prefix part " + problem) }
            return .some(labelNameProblem(name, empty: "name part must not be empty"))
        }) {
            return problem
        }
        let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return labelNameProblem(String(parts[0]), empty: "must not be empty")
        case 2:
            if parts[0].isEmpty { return "prefix part must not be empty" }
            if let problem = dnsSubdomainProblem(String(parts[0])) { return "prefix part " + problem }
            return labelNameProblem(String(parts[1]), empty: "name part must not be empty")
        default:
            return "must be a name with an optional DNS subdomain prefix and '/'"
        }
    }

    /// A label value: empty, or at most 63 letters, digits, '-', '_' and '.', starting and ending
    /// with a letter or digit.
    static func labelValueProblem(_ value: String) -> String? {
        value.isEmpty ? nil : labelNameProblem(value, empty: "")
    }

    private static func labelNameProblem(_ name: String, empty: String) -> String? {
        withBytes(name) { bytes in labelNameProblem(bytes, empty: empty) }
    }

    private static func labelNameProblem(_ bytes: UnsafeBufferPointer<UInt8>, empty: String) -> String? {
        if bytes.isEmpty { return empty }
        if bytes.count > 63 { return "must be no more than 63 characters" }
        for (index, byte) in bytes.enumerated() {
            let alphanumeric = isAlphanumeric(byte, upperCase: true)
            let edge = index == 0 || index == bytes.count - 1
            if alphanumeric { continue }
            if !edge, byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") { continue }
            return "must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit"
        }
        return nil
    }

    /// Why an endpoint address or an external IP cannot be used, as the API server's
    /// `ValidateNonSpecialIP` decides (unspecified, loopback, link-local — which includes the cloud
    /// metadata address 169.254.169.254 — and link-local multicast), plus every multicast range and
    /// IPv4-mapped IPv6 addresses, which a DNAT can never serve and recent API servers refuse.
    static func specialAddressProblem(_ address: IPAddress) -> String? {
        if address.isUnspecified { return "may not be unspecified (0.0.0.0, ::)" }
        if address.isLoopback { return "may not be in the loopback range (127.0.0.0/8, ::1/128)" }
        for (range, problem) in specialRanges where range.contains(address) { return problem }
        return nil
    }

    private static let specialRanges: [(CIDR, String)] = [
        ("169.254.0.0/16", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
        ("fe80::/10", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
        ("224.0.0.0/4", "may not be a multicast address (224.0.0.0/4, ff00::/8)"),
        ("ff00::/8", "may not be a multicast address (224.0.0.0/4, ff00::/8)"),
        ("::ffff:0.0.0.0/96", "may not be an IPv4-mapped IPv6 address"),
    ].compactMap { text, problem in CIDR(text).map { ($0, problem) } }

    /// Free text kubenft prints (such as an admin policy rule name): no control characters, bounded.
    static func displayTextProblem(_ text: String, maximumBytes: Int) -> String? {
        if text.utf8.count > maximumBytes { return "must be no more than \(maximumBytes) bytes" }
        return displayCharactersProblem(text)
    }

    /// The same with a limit in characters (Unicode scalars), as a CRD's `maxLength` counts them.
    static func displayTextProblem(_ text: String, maximumCharacters: Int) -> String? {
        if text.unicodeScalars.count > maximumCharacters { return "must be no more than \(maximumCharacters) characters" }
        return displayCharactersProblem(text)
    }

    private static func displayCharactersProblem(_ text: String) -> String? {
        // Printable ASCII is neither a control nor a format character.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return nil }
        for scalar in text.unicodeScalars where scalar.properties.generalCategory == .control
            || scalar.properties.generalCategory == .format || scalar == "\u{2028}" || scalar == "\u{2029}" {
            return "must not contain control or format characters"
        }
        return nil
    }

    /// Text quoted for a diagnostic: control characters and quotes escaped, long text cut.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars.prefix(80) {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}" {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        if text.unicodeScalars.count > 80 { out += "..." }
        return out + "\""
    }

    /// The text's UTF-8 bytes, without copying a native string.
    private static func withBytes<Result>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        var text = text
        return text.withUTF8(body)
    }

    private static func isLabel(_ bytes: UnsafeBufferPointer<UInt8>, firstMayBeDigit: Bool) -> Bool {
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
        guard isAlphanumeric(first, upperCase: false), isAlphanumeric(last, upperCase: false) else { return false }
        if !firstMayBeDigit, !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) { return false }
        return bytes.allSatisfy { isAlphanumeric($0, upperCase: false) || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ byte: UInt8, upperCase: Bool) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || (upperCase && (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte))
    }
}
