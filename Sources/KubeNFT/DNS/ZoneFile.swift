import KubeManifest
import NetAddress
import NFTRuleset

/// One zone built from the cluster's records: the forward zone of the cluster domain, or a reverse
/// zone (`in-addr.arpa.` / `ip6.arpa.`) holding the PTR records of one address range. It exists so
/// the text and JSON outputs, and the SOA serial, are computed from the same sorted records.
public struct ZoneFile: Sendable {
    /// What the zone holds.
    public enum Kind: Sendable, Hashable {
        case forward
        /// PTR records of the addresses in this range; the zone's apex is the range rounded down to
        /// a label boundary (8 bits for IPv4, 4 for IPv6).
        case reverse(CIDR)
    }

    public private(set) var origin: DomainName
    public private(set) var serial: UInt32
    /// SOA and NS first, then every record in canonical name order; no duplicates.
    public private(set) var records: [DNSRecord]
    /// The zone lines of `records` after SOA and NS, rendered once for the serial and the text.
    private let bodyLines: [[UInt8]]

    /// Builds the zone. `serial` nil derives it from the records (a 32-bit FNV-1a of their text),
    /// so the same cluster always gives the same zone.
    public init(kind: Kind, clusterDomain: DomainName, ttl: Int, serial: UInt32?, records all: [DNSRecord]) {
        let origin: DomainName
        let selected: [Int]
        switch kind {
        case .forward:
            origin = clusterDomain
            selected = all.indices.filter { if case .ptr = all[$0].data { return false } else { return true } }
        case .reverse(let range):
            origin = Self.reverseOrigin(range)
            selected = all.indices.filter { index in
                guard case .ptr = all[index].data, let address = Self.address(ofReverse: all[index].name) else { return false }
                return range.contains(address)
            }
        }
        // Records are copied once, into the zone; until then they are read where they lie in `all`.
        let order = Self.canonicalOrder(of: all, selected: selected, threshold: InHalves.threshold)
        let lines = Self.lines(of: all, order: order, threshold: InHalves.threshold)
        let hash = serial ?? Self.contentHash(ofLines: lines)
        let primary = clusterDomain.prepending("ns", "dns")
        let soa = DNSRecord(name: origin, ttl: ttl, data: .soa(primary: primary, mailbox: clusterDomain.prepending("hostmaster"),
                                                                serial: hash, refresh: 7200, retry: 1800, expire: 86400, minimum: ttl))
        self.origin = origin
        self.serial = hash
        var records = [soa, DNSRecord(name: origin, ttl: ttl, data: .ns(primary))]
        records.reserveCapacity(order.count + 2)
        for index in order { records.append(all[index]) }
        self.records = records
        self.bodyLines = lines
    }

    /// FNV-1a of the records' lines `name ttl type data`, one after another (rendered in two
    /// halves at once from `threshold` records on).
    static func contentHash(of records: [DNSRecord], threshold: Int) -> UInt32 {
        contentHash(ofLines: lines(of: records, threshold: threshold))
    }

    /// FNV-1a of the lines `name ttl type data` read off the zone's own lines `name<TAB>ttl<TAB>IN
    /// <TAB>type<TAB>data`: the separators before and after the TTL and after the type become
    /// spaces, `IN` and its tab are left out, and the data is hashed as it is. Exact, since a
    /// name is written with its tabs and newlines escaped and a TTL and a type are digits and
    /// letters, so a line's first four tabs are always the separators; the zone is rendered once
    /// for both uses.
    static func contentHash(ofLines pieces: [[UInt8]]) -> UInt32 {
        var hash: UInt32 = 0x811C_9DC5
        var tabs = 0
        var skipped = 0
        for piece in pieces {
            for byte in piece {
                if tabs == 2 && skipped < 3 {
                    // `IN` and its tab: not part of the hashed line.
                    skipped += 1
                    if skipped == 3 { tabs = 3 }
                    continue
                }
                var hashed = byte
                if byte == UInt8(ascii: "\t") && tabs < 4 {
                    tabs += 1
                    hashed = UInt8(ascii: " ")
                } else if byte == UInt8(ascii: "\n") {
                    tabs = 0
                    skipped = 0
                }
                hash = (hash ^ UInt32(hashed)) &* 0x0100_0193
            }
        }
        return hash
    }

    /// `10.96.0.0/12` → `10.in-addr.arpa.`; `fd00:10:96::/112` → the nibbles of the first 112 bits.
    public static func reverseOrigin(_ range: CIDR) -> DomainName {
        let full = ServiceDiscovery.reverseName(range.address).labels
        switch range.family {
        case .v4:
            let kept = range.prefixLength / 8
            return DomainName(labels: Array(full.suffix(kept + 2)))
        case .v6:
            let kept = range.prefixLength / 4
            return DomainName(labels: Array(full.suffix(kept + 2)))
        }
    }

    /// The address a full reverse name stands for; nil for any other name.
    static func address(ofReverse name: DomainName) -> IPAddress? {
        let labels = name.labels
        if labels.count == 6, labels.suffix(2) == ["in-addr", "arpa"] {
            let bytes = labels.prefix(4).reversed().compactMap { UInt8($0) }
            return bytes.count == 4 ? IPAddress(bytes: bytes) : nil
        }
        if labels.count == 34, labels.suffix(2) == ["ip6", "arpa"] {
            let nibbles = labels.prefix(32).reversed().compactMap { UInt8($0, radix: 16) }
            guard nibbles.count == 32 else { return nil }
            return IPAddress(bytes: stride(from: 0, to: 32, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] })
        }
        return nil
    }

    /// The indices of the `selected` records in canonical order (names compared from the right,
    /// case folded; then the type's rank; then the data's text), one per distinct record: of equal
    /// records the first is kept. Every name's key is written once into one buffer, and the data's text is rendered only for
    /// records whose name and type another record shares. From `threshold` records on, the keys
    /// are written and sorted in two halves at once.
    static func canonicalOrder(of records: [DNSRecord], selected: [Int], threshold: Int) -> [Int] {
        let keys = CanonicalKeys(count: selected.count, threshold: threshold) { records[selected[$0]].name }
        let ranks = selected.map { records[$0].data.rank }
        let order = keys.sortedIndices(threshold: threshold) { ranks[$0] < ranks[$1] }
        var out: [Int] = []
        out.reserveCapacity(order.count)
        var start = 0
        while start < order.count {
            var end = start + 1
            while end < order.count, ranks[order[end]] == ranks[order[start]], keys.equal(order[end], order[start]) { end += 1 }
            if end - start == 1 {
                out.append(selected[order[start]])
            } else {
                // Same name and type: by the data's text (input order among equal texts), once each.
                let members = order[start..<end].map { selected[$0] }
                let texts = members.map { records[$0].data.presentation }
                let group = texts.indices.sorted { (left: Int, right: Int) -> Bool in
                    if texts[left] != texts[right] { return texts[left] < texts[right] }
                    return members[left] < members[right]
                }
                var previous: String?
                for index in group where texts[index] != previous {
                    previous = texts[index]
                    out.append(members[index])
                }
            }
            start = end
        }
        return out
    }

    /// RFC 1035 master-file text: `$ORIGIN` and `$TTL`, then one absolute record per line.
    public var text: String { text(threshold: InHalves.threshold) }

    /// `text`, with the lines of at least `threshold` records rendered in two halves at once
    /// (the lines kept from `init` when `threshold` is the default).
    func text(threshold: Int) -> String {
        var head = ZoneText()
        head.append("; generated by kubenft dns from Kubernetes objects (DNS schema \(ServiceDiscovery.schemaVersion))\n")
        head.append("$ORIGIN ")
        head.append(origin)
        head.append("\n$TTL \(records.first?.ttl ?? 5)\n")
        for record in records.prefix(2) { head.append(record) }
        let pieces = [head.bytes] + (threshold == InHalves.threshold ? bodyLines : Self.lines(of: Array(records.dropFirst(2)), threshold: threshold))
        let count = pieces.reduce(0) { $0 + $1.count }
        return String(unsafeUninitializedCapacity: count) { buffer in
            var offset = 0
            for piece in pieces {
                _ = UnsafeMutableBufferPointer(rebasing: buffer[offset...]).initialize(from: piece)
                offset += piece.count
            }
            return offset
        }
    }

    /// The zone lines of `records` (see `ZoneText.append(_:)`), in pieces whose concatenation is
    /// the lines written one after another.
    static func lines(of records: [DNSRecord], threshold: Int) -> [[UInt8]] {
        lines(of: records, order: Array(records.indices), threshold: threshold)
    }

    /// The lines of `records[order[0]]`, `records[order[1]]`, … in the same pieces.
    static func lines(of records: [DNSRecord], order: [Int], threshold: Int) -> [[UInt8]] {
        InHalves.map(order.count, threshold: threshold) { range in
            var out = ZoneText()
            out.bytes.reserveCapacity(range.count * 64)
            for position in range { out.append(records[order[position]]) }
            return out.bytes
        }
    }

    /// `{"origin": …, "serial": …, "records": [{"name", "ttl", "class", "type", "data"}]}`, one
    /// record a line, in the same order as the text.
    public var json: String {
        var out = "{\n  \"origin\": \(Self.quoted(origin.description)),\n  \"serial\": \(serial),\n  \"records\": ["
        for (index, record) in records.enumerated() {
            out += index == 0 ? "\n    " : ",\n    "
            out += "{\"name\": \(Self.quoted(record.name.description)), \"ttl\": \(record.ttl), \"class\": \"IN\", "
            out += "\"type\": \"\(record.data.type)\", \"data\": \(Self.quoted(record.data.presentation))}"
        }
        return out + "\n  ]\n}\n"
    }

    /// A JSON string literal, escaped as every other JSON kubenft prints.
    static func quoted(_ text: String) -> String { JSONText.string(text).serialized() }
}
