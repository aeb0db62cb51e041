import KubeManifest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Record lines of a zone written as bytes into one growing buffer: the text of a large zone (a
/// hundred thousand records and more) is built without a string per name, number or line. Each
/// piece is written exactly as `DomainName.description` and `RecordData.presentation` spell it.
struct ZoneText {
    var bytes: [UInt8] = []
    /// The last TTL written and its digits: every record of a zone has the same TTL.
    private var ttl: (value: Int, digits: [UInt8])?

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    /// The name's presentation form, as `DomainName.description` writes it.
    mutating func append(_ name: DomainName) {
        guard !name.labels.isEmpty else { bytes.append(UInt8(ascii: ".")); return }
        for label in name.labels {
            // Most labels need no escape: copied whole.
            if label.utf8.allSatisfy(DomainName.isPlain) {
                bytes.append(contentsOf: label.utf8)
                bytes.append(UInt8(ascii: "."))
                continue
            }
            for byte in label.utf8 {
                if DomainName.isPlain(byte) {
                    bytes.append(byte)
                } else {
                    bytes.append(UInt8(ascii: "\\"))
                    bytes.append(UInt8(ascii: "0") + byte / 100)
                    bytes.append(UInt8(ascii: "0") + byte / 10 % 10)
                    bytes.append(UInt8(ascii: "0") + byte % 10)
                }
            }
            bytes.append(UInt8(ascii: "."))
        }
    }

    mutating func append(number: Int) {
        if let ttl, ttl.value == number {
            bytes.append(contentsOf: ttl.digits)
            return
        }
        let digits = Array(String(number).utf8)
        ttl = (number, digits)
        bytes.append(contentsOf: digits)
    }

    /// `name TTL IN TYPE data` and a newline, the fields apart by tabs.
    mutating func append(_ record: DNSRecord) {
        let separator = UInt8(ascii: "\t")
        append(record.name)
        bytes.append(separator)
        append(number: record.ttl)
        bytes.append(separator)
        bytes.append(UInt8(ascii: "I"))
        bytes.append(UInt8(ascii: "N"))
        bytes.append(separator)
        append(record.data.type)
        bytes.append(separator)
        switch record.data {
        case .ns(let name), .cname(let name), .ptr(let name):
            append(name)
        case let .srv(priority, weight, port, target):
            append("\(priority) \(weight) \(port) ")
            append(target)
        default:
            append(record.data.presentation)
        }
        bytes.append(UInt8(ascii: "\n"))
    }
}

/// The canonical sort keys of many names (labels from the right, each lower-cased and ended by a
/// zero byte) in one buffer, so sorting compares bytes in place instead of allocating a key per
/// name or per comparison.
struct CanonicalKeys {
    private var bytes: [UInt8] = []
    /// Where each name's key starts in `bytes`; one more entry than names, for the end.
    private var starts: [Int] = [0]

    /// The keys of `names`; from `threshold` names on, those of each half are written at once
    /// on two threads and joined.
    init(_ names: [DomainName], threshold: Int = InHalves.threshold) {
        self.init(count: names.count, threshold: threshold) { names[$0] }
    }

    /// The keys of the names `name(0)` … `name(count - 1)`, written as `init(_:threshold:)` writes them.
    init(count: Int, threshold: Int = InHalves.threshold, name: @Sendable (Int) -> DomainName) {
        let halves = InHalves.map(count, threshold: threshold) { range in
            var keys = CanonicalKeys()
            keys.append(range.lazy.map(name))
            return keys
        }
        self = halves[0]
        for half in halves.dropFirst() {
            let offset = bytes.count
            bytes.append(contentsOf: half.bytes)
            starts.append(contentsOf: half.starts.dropFirst().map { $0 + offset })
        }
    }

    private init() {}

    private mutating func append(_ names: some Collection<DomainName>) {
        starts.reserveCapacity(names.count + 1)
        for name in names {
            for label in name.labels.reversed() {
                if label.utf8.allSatisfy({ $0 < 0x80 && !($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) }) {
                    // ASCII without capitals: the key is the label itself.
                    bytes.append(contentsOf: label.utf8)
                } else if label.utf8.allSatisfy({ $0 < 0x80 }) {
                    for byte in label.utf8 {
                        bytes.append(byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte)
                    }
                } else {
                    bytes.append(contentsOf: label.lowercased().utf8)
                }
                bytes.append(0)
            }
            starts.append(bytes.count)
        }
    }

    /// Lexicographic order of the keys of names `left` and `right` (a key that is a prefix of the
    /// other comes first).
    func compare(_ left: Int, _ right: Int) -> Int {
        bytes.withUnsafeBufferPointer { buffer in
            let leftCount = starts[left + 1] - starts[left], rightCount = starts[right + 1] - starts[right]
            let common = min(leftCount, rightCount)
            if common > 0 {
                let order = memcmp(buffer.baseAddress! + starts[left], buffer.baseAddress! + starts[right], common)
                if order != 0 { return Int(order) }
            }
            return leftCount - rightCount
        }
    }

    func equal(_ left: Int, _ right: Int) -> Bool { compare(left, right) == 0 }

    /// Indices of the names in key order; `less` orders names with equal keys, then input order.
    /// From `threshold` names on, each half is sorted on its own thread and the two are merged.
    func sortedIndices(threshold: Int = InHalves.threshold, thenBy less: @Sendable (Int, Int) -> Bool) -> [Int] {
        // A total order (input order breaks every tie), so the merge of sorted halves is the sort.
        @Sendable func before(_ left: Int, _ right: Int) -> Bool {
            let order = compare(left, right)
            if order != 0 { return order < 0 }
            if less(left, right) { return true }
            if less(right, left) { return false }
            return left < right
        }
        let halves = InHalves.map(starts.count - 1, threshold: threshold) { range in range.sorted(by: before) }
        guard halves.count == 2 else { return halves[0] }
        return Concurrently.merge(halves[0], halves[1], secondFirst: before)
    }
}
