import NetAddress

/// An absolute domain name as a list of labels (leftmost first). It exists so that every name in
/// a zone is built from labels and escaped once, on output: no input can add a label, a comment
/// or a line to a zone file.
public struct DomainName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public private(set) var labels: [String]

    public init(labels: [String]) { self.labels = labels }

    /// Parses a dotted name (a trailing dot is allowed); nil for an empty label or a name that is
    /// not made of letters, digits, hyphens and underscores.
    public init?(dotted text: String) {
        let bare = text.hasSuffix(".") ? String(text.dropLast()) : text
        if bare.isEmpty { self.labels = []; return }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Self.isPlain) }) else { return nil }
        self.labels = parts
    }

    /// `labels` in front of this name.
    public func prepending(_ prefix: String...) -> DomainName { DomainName(labels: prefix + labels) }

    /// The wire length of the name (RFC 1035: at most 255) and whether every label fits in 63 bytes.
    public var isValid: Bool {
        labels.allSatisfy { !$0.isEmpty && $0.utf8.count <= 63 } && labels.reduce(1) { $0 + $1.utf8.count + 1 } <= 255
    }

    /// Presentation form with a trailing dot; bytes other than letters, digits, `-` and `_` are
    /// written as `\DDD` (RFC 1035 section 5.1).
    public var description: String {
        guard !labels.isEmpty else { return "." }
        // Built as bytes: this runs for every record of a zone, several times.
        var out: [UInt8] = []
        out.reserveCapacity(labels.reduce(0) { $0 + $1.utf8.count + 1 })
        for label in labels {
            for byte in label.utf8 {
                if Self.isPlain(byte) {
                    out.append(byte)
                } else {
                    out += [UInt8(ascii: "\\"), UInt8(ascii: "0") + byte / 100, UInt8(ascii: "0") + byte / 10 % 10, UInt8(ascii: "0") + byte % 10]
                }
            }
            out.append(UInt8(ascii: "."))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Orders names as DNSSEC's canonical order does (RFC 4034 section 6.1): by labels from the
    /// right, case-insensitively, so a zone lists a name's children right after it.
    public static func < (lhs: DomainName, rhs: DomainName) -> Bool {
        for (left, right) in zip(lhs.labels.reversed(), rhs.labels.reversed()) where left.lowercased() != right.lowercased() {
            return Array(left.lowercased().utf8).lexicographicallyPrecedes(Array(right.lowercased().utf8))
        }
        return lhs.labels.count < rhs.labels.count
    }

    static func isPlain(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): return true
        default: return false
        }
    }
}

/// One resource record of a generated zone: the data the Kubernetes DNS specification requires,
/// typed, so the zone text and the JSON form come from the same values.
public struct DNSRecord: Sendable, Hashable, Comparable {
    /// The record types `kubenft dns` writes.
    public enum RecordData: Sendable, Hashable {
        case soa(primary: DomainName, mailbox: DomainName, serial: UInt32, refresh: Int, retry: Int, expire: Int, minimum: Int)
        case ns(DomainName)
        case a(IPAddress)
        case aaaa(IPAddress)
        case cname(DomainName)
        case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DomainName)
        case txt(String)
        case ptr(DomainName)

        /// The RR type mnemonic.
        public var type: String {
            switch self {
            case .soa: "SOA"
            case .ns: "NS"
            case .a: "A"
            case .aaaa: "AAAA"
            case .cname: "CNAME"
            case .srv: "SRV"
            case .txt: "TXT"
            case .ptr: "PTR"
            }
        }

        /// Sort rank: SOA and NS first, as servers and readers expect them at the apex.
        var rank: Int {
            switch self {
            case .soa: 0
            case .ns: 1
            case .a: 2
            case .aaaa: 3
            case .cname: 4
            case .srv: 5
            case .txt: 6
            case .ptr: 7
            }
        }

        /// RDATA in presentation format.
        public var presentation: String {
            switch self {
            case let .soa(primary, mailbox, serial, refresh, retry, expire, minimum):
                "\(primary) \(mailbox) \(serial) \(refresh) \(retry) \(expire) \(minimum)"
            case .ns(let name), .cname(let name), .ptr(let name): name.description
            case .a(let address), .aaaa(let address): address.description
            case let .srv(priority, weight, port, target): "\(priority) \(weight) \(port) \(target)"
            case .txt(let text): "\"" + text.filter { $0 != "\"" && $0 != "\\" && !$0.isNewline } + "\""
            }
        }
    }

    public var name: DomainName
    public var ttl: Int
    public var data: RecordData

    public init(name: DomainName, ttl: Int, data: RecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }

    public static func < (lhs: DNSRecord, rhs: DNSRecord) -> Bool {
        if lhs.name != rhs.name { return lhs.name < rhs.name }
        if lhs.data.rank != rhs.data.rank { return lhs.data.rank < rhs.data.rank }
        return lhs.data.presentation < rhs.data.presentation
    }
}
