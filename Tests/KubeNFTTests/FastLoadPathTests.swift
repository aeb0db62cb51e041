import Foundation
@testable import KubeManifest
@testable import KubeNFT
import NetAddress
import Testing

/// The shortcuts of the load path and of `kubenft dns` (in-place stable sorts, line-break jumps
/// when cutting parts, byte keys and byte rendering of zones) must give exactly what the plain
/// algorithms they replace give; each is checked against that plain algorithm on varied input.
@Suite("Fast load path")
struct FastLoadPathTests {
    /// A deterministic generator, so a failure names input that can be rebuilt.
    struct Numbers {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    @Test("sortStably orders as a stable sort does, equal keys in input order", arguments: [0, 1, 2, 17, 300])
    func stableSort(count: Int) {
        var numbers = Numbers(state: UInt64(count) + 1)
        let items = (0..<count).map { index in (key: "k\(numbers.next(count / 3 + 1))", index: index) }
        let reference = items.enumerated().sorted { left, right in
            left.element.key != right.element.key ? left.element.key < right.element.key : left.offset < right.offset
        }.map(\.element.index)
        var sorted = items
        sorted.sortStably { $0.key }
        #expect(sorted.map(\.index) == reference)
        var again = sorted
        again.sortStably { $0.key }
        #expect(again.map(\.index) == reference)
        var reversed = Array(items.reversed())
        reversed.sortStably(by: { $0.key }, >)
        #expect(reversed.map(\.key) == reference.reversed().map { items[$0].key })
    }

    @Test("names sort as Strings do: packed ASCII names, long ones, non-ASCII ones, and mixes", arguments: [2, 9, 40, 500])
    func nameSort(count: Int) {
        var numbers = Numbers(state: UInt64(count) &* 7 + 3)
        // Short and long ASCII names sharing prefixes, with a few non-ASCII ones (which fall
        // back to String comparison, also against packed ones).
        let ascii: [String] = ["a", "b", "-", "/", ".", "z", "0", "9", "A", "Z", "~", " ", "\u{7f}"]
        let other: [String] = ["é", "e\u{301}", "ß", "\u{1F600}"]
        let items: [(name: String, index: Int)] = (0..<count).map { index in
            var name = ""
            for _ in 0..<numbers.next(24) {
                let pick = numbers.next(100)
                name += pick < 96 ? ascii[pick % ascii.count] : other[pick % other.count]
            }
            return (name: name, index: index)
        }
        let reference = items.enumerated().sorted { left, right in
            left.element.name != right.element.name ? left.element.name < right.element.name : left.offset < right.offset
        }.map(\.element.index)
        var sorted = items
        sorted.sortStably(byName: { $0.name })
        #expect(sorted.map(\.index) == reference)
        #expect(PackedName("abc")! < PackedName("abcd")! && PackedName("abd")! > PackedName("abcz")!)
        #expect(PackedName(String(repeating: "a", count: 17)) == nil && PackedName("é") == nil)
    }

    @Test("canonicalize puts pods in namespace/name order, duplicates in input order")
    func canonicalPods() {
        let location = SourceLocation(file: "p.yaml", line: 1, column: 1)
        var cluster = Cluster()
        let names = [("b", "x"), ("a", "y"), ("a-b", "a"), ("a", "y"), ("a", "b/c"), ("", "z")]
        for (index, (namespace, name)) in names.enumerated() {
            var meta = ObjectMeta(name: name, namespace: namespace, location: location)
            meta.location.line = index + 1
            cluster.pods.append(Pod(meta: meta))
        }
        let reference = cluster.pods.enumerated().sorted { left, right in
            let (l, r) = (left.element.meta.qualifiedName, right.element.meta.qualifiedName)
            return l != r ? l < r : left.offset < right.offset
        }.map(\.element.meta.location.line)
        cluster.canonicalize()
        #expect(cluster.pods.map(\.meta.location.line) == reference)
    }

    @Test("qualified names sort as their Strings do: byte keys, long and non-ASCII names, empty namespaces",
          arguments: [2, 9, 40, 700])
    func qualifiedNameSort(count: Int) {
        var numbers = Numbers(state: UInt64(count) &* 13 + 5)
        // Bytes around `/` (which joins namespace and name) and around the ASCII limit.
        let ascii: [String] = ["a", "b", "-", ".", "/", "0", "z", "~", "\u{7f}", "\u{0}", "."]
        func word(_ nonASCII: Bool) -> String {
            var text = ""
            for _ in 0..<numbers.next(30) {
                text += nonASCII && numbers.next(40) == 0 ? ["é", "e\u{301}", "\u{1F600}"][numbers.next(3)] : ascii[numbers.next(ascii.count)]
            }
            return text
        }
        for nonASCII in [false, true] {
            // A few namespaces shared by many objects, some empty (cluster-scoped).
            let namespaces = (0..<4).map { $0 == 0 ? "" : word(nonASCII) }
            let items: [(namespace: String, name: String, tag: [Int])] = (0..<count).map { index in
                (namespaces[numbers.next(namespaces.count)], numbers.next(5) == 0 ? "same" : word(nonASCII), [index])
            }
            let reference = items.enumerated().sorted { left, right in
                let l = left.element.namespace.isEmpty ? left.element.name : "\(left.element.namespace)/\(left.element.name)"
                let r = right.element.namespace.isEmpty ? right.element.name : "\(right.element.namespace)/\(right.element.name)"
                return l != r ? l < r : left.offset < right.offset
            }.map(\.element.tag)
            var sorted = items
            sorted.sortStably(namespace: { $0.namespace }, name: { $0.name })
            // Elements are moved whole: each keeps its own tag array and strings.
            #expect(sorted.map(\.tag) == reference, "non-ASCII: \(nonASCII)")
            #expect(sorted.map { $0.namespace + "/" + $0.name } == reference.map { items[$0[0]].namespace + "/" + items[$0[0]].name })
            var again = sorted
            again.sortStably(namespace: { $0.namespace }, name: { $0.name })
            #expect(again.map(\.tag) == reference)
        }
    }

    @Test("line breaks counted eight bytes at a time equal a byte-by-byte count")
    func lineBreaksCounted() {
        var numbers = Numbers(state: 0x11E5)
        // Bytes next to the line break in value and in their high bit, where a word trick could miscount.
        let alphabet: [UInt8] = [0x0A, 0x8A, 0x0B, 0x09, 0x00, 0x7F, 0x80, 0xFF, 0x4A, 0x0A]
        var mismatches: [String] = []
        var checked = 0
        for _ in 0..<40 {
            let bytes = (0..<80).map { _ in alphabet[numbers.next(alphabet.count)] }
            bytes.withUnsafeBufferPointer { buffer in
                for start in 0..<9 {
                    for count in 0...(bytes.count - start) {
                        let expected = bytes[start..<start + count].filter { $0 == 0x0A }.count
                        let counted = DocumentSplitter.lineBreaks(buffer.baseAddress! + start, count: count)
                        if counted != expected { mismatches.append("\(bytes[start..<start + count]): \(counted), not \(expected)") }
                        checked += 1
                    }
                }
            }
        }
        #expect(mismatches.count == 0, "\(mismatches.prefix(3))")
        #expect(checked > 20_000)
    }

    @Test("a streamed source is cut where a whole one is", arguments: [1, 3, 7, 64, 4096])
    func splitterMatchesWholeCut(chunk: Int) {
        var text = ""
        var numbers = Numbers(state: UInt64(chunk))
        for index in 0..<60 {
            let separator = ["---\n", "--- # c\n", "---\r\n", "----\n", "  ---\n", "---x\n", "---\t\n"][numbers.next(7)]
            text += separator + "kind: Pod\nmetadata:\n  name: p\(index)\n" + String(repeating: "a: b\n", count: numbers.next(12))
        }
        text += "---"
        let bytes = Array(text.utf8)
        for size in [1, 40, 200, 1000] {
            let whole = ManifestSource(name: "s.yaml", bytes: bytes).documentParts(size: size)
            var splitter = DocumentSplitter(size: size)
            var streamed: [DocumentBytes] = []
            var offset = 0
            while offset < bytes.count {
                splitter.append(Array(bytes[offset..<min(offset + chunk, bytes.count)]))
                offset += chunk
                while let part = splitter.next(final: false) { streamed.append(part) }
            }
            while let part = splitter.next(final: true) { streamed.append(part) }
            #expect(streamed.map(\.bytes.count) == whole.map(\.range.count), "size \(size)")
            #expect(streamed.flatMap(\.bytes) == bytes, "size \(size)")
            #expect(streamed.map(\.lineOffset) == whole.map(\.lineOffset), "size \(size)")
        }
    }

    /// The canonical order and duplicate removal as first written: a byte key per record,
    /// compared whole, then the type's rank, then the data's text.
    static func referenceSortedUnique(_ records: [DNSRecord]) -> [DNSRecord] {
        struct Keyed {
            var key: [UInt8]
            var rank: Int
            var data: String
            var offset: Int
        }
        let keyed = records.enumerated().map { offset, record -> Keyed in
            var key: [UInt8] = []
            for label in record.name.labels.reversed() {
                key += Array(label.lowercased().utf8)
                key.append(0)
            }
            return Keyed(key: key, rank: record.data.rank, data: record.data.presentation, offset: offset)
        }
        let sorted = keyed.sorted { (l: Keyed, r: Keyed) -> Bool in
            if l.key != r.key { return l.key.lexicographicallyPrecedes(r.key) }
            if l.rank != r.rank { return l.rank < r.rank }
            if l.data != r.data { return l.data < r.data }
            return l.offset < r.offset
        }
        var out: [DNSRecord] = []
        for (index, entry) in sorted.enumerated() {
            if index > 0, sorted[index - 1].key == entry.key, sorted[index - 1].rank == entry.rank, sorted[index - 1].data == entry.data {
                continue
            }
            out.append(records[entry.offset])
        }
        return out
    }

    static func records(seed: UInt64, count: Int) -> [DNSRecord] {
        var numbers = Numbers(state: seed)
        let labels = ["a", "A", "b", "web", "Web", "x-1", "_http", "_tcp", "é", "É", "a.b", "svc", "pod", "ns"]
        let zone = DomainName(labels: ["cluster", "local"])
        return (0..<count).map { _ in
            let name = DomainName(labels: (0..<numbers.next(3)).map { _ in labels[numbers.next(labels.count)] } + zone.labels)
            let target = zone.prepending(labels[numbers.next(labels.count)])
            let address = IPAddress("10.0.\(numbers.next(3)).\(numbers.next(12))")!
            let data: DNSRecord.RecordData = switch numbers.next(6) {
            case 0: .a(address)
            case 1: .aaaa(IPAddress("fd00::\(numbers.next(20))")!)
            case 2: .cname(target)
            case 3: .srv(priority: 0, weight: 100, port: UInt16(numbers.next(3) + 80), target: target)
            case 4: .ptr(target)
            default: .txt("v\(numbers.next(3)) \"q\"\\")
            }
            return DNSRecord(name: name, ttl: numbers.next(4) == 0 ? 30 : 5, data: data)
        }
    }

    /// The pod address check as first written: a table of each address's first holder, filled in
    /// pod order; a later holder is reported against the first.
    static func referencePodAddressProblems(_ pods: [Pod]) -> [String] {
        var owners: [IPAddress: Int] = [:]
        var found: [String] = []
        for index in pods.indices where !pods[index].hostNetwork {
            let podIPs = pods[index].podIPs
            for address in podIPs.count == 1 ? podIPs : Set(podIPs).sorted() {
                if let other = owners[address] {
                    found.append("\(pods[index].meta.qualifiedName): \(address) is also the address of running Pod \(pods[other].meta.qualifiedName)")
                } else {
                    owners[address] = index
                }
            }
        }
        return found
    }

    @Test("two live pods on one address are reported as the table of first holders reports them", arguments: [1, 2, 3, 40, 2_000])
    func podAddressClashes(count: Int) {
        var numbers = Numbers(state: UInt64(count) &* 977)
        let location = SourceLocation(file: "c.yaml", line: 1, column: 1)
        // Few addresses for many pods, IPv4 and IPv6 with equal numbers (10.0.0.1 and ::a00:1),
        // pods with two or three addresses (repeated ones too), host-network pods.
        let pool = (0..<max(2, count / 3)).flatMap { value -> [IPAddress] in
            let v4 = IPAddress(numericValue: UInt128(0x0A00_0000 + value), family: .v4)
            return [v4, IPAddress(numericValue: v4.numericValue, family: .v6), IPAddress("fd00::\(String(value, radix: 16))")!]
        }
        var cluster = Cluster()
        for index in 0..<count {
            var pod = Pod(meta: ObjectMeta(name: "p\(index)", namespace: "ns-\(numbers.next(3))", location: location))
            pod.podIPs = (0..<numbers.next(4)).map { _ in pool[numbers.next(pool.count)] }
            pod.hostNetwork = numbers.next(7) == 0
            cluster.pods.append(pod)
        }
        let expected = Self.referencePodAddressProblems(cluster.pods)
        var findings: [Diagnostic] = []
        ClusterChecks.run(&cluster, into: &findings, parallelFrom: .max)
        let found = findings.filter { $0.field == "status.podIPs" }.map { "\($0.object?.dropFirst(4) ?? ""): \($0.reason)" }
        #expect(found == expected)
        if count >= 40 { #expect(!expected.isEmpty) }
    }

    @Test("pods sorted beside the other lists, and in halves, end in the order one thread gives", arguments: [0, 1, 2, 3, 300, 301])
    func parallelCanonicalOrder(count: Int) {
        var numbers = Numbers(state: UInt64(count) &+ 71)
        let location = SourceLocation(file: "c.yaml", line: 1, column: 1)
        var cluster = Cluster()
        for index in 0..<count {
            // Repeated names keep their input order (the index tells them apart).
            // 301 holds a name that is not ASCII (compared as strings, not bytes).
            let name = count == 301 && index == 250 ? "pé" : "p\(numbers.next(count / 2 + 1))"
            var pod = Pod(meta: ObjectMeta(name: name, namespace: "ns-\(numbers.next(4))", location: location))
            pod.podIPs = [IPAddress(numericValue: UInt128(index), family: .v4)]
            cluster.pods.append(pod)
            cluster.services.append(Service(meta: ObjectMeta(name: "s\(numbers.next(count + 1))", namespace: "ns-\(numbers.next(3))", location: location)))
            cluster.namespaces.append(Namespace(meta: ObjectMeta(name: "ns-\(numbers.next(count + 1))", location: location)))
        }
        var serial = cluster, parallel = cluster
        serial.canonicalize(parallelFrom: .max)
        parallel.canonicalize(parallelFrom: 0)
        #expect(parallel == serial)
        #expect(parallel.pods.map(\.meta.qualifiedName) == cluster.pods.map(\.meta.qualifiedName).sorted())
        #expect(parallel.services.count == count && parallel.namespaces.count == count)
    }

    @Test("zone records are sorted and made unique as the plain algorithm does", arguments: [1, 2, 3, 4])
    func zoneOrder(seed: UInt64) {
        let records = Self.records(seed: seed, count: 400)
        /// The zone's order of every record, made in one piece or in halves.
        func sortedUnique(threshold: Int) -> [DNSRecord] {
            ZoneFile.canonicalOrder(of: records, selected: Array(records.indices), threshold: threshold).map { records[$0] }
        }
        #expect(sortedUnique(threshold: .max) == Self.referenceSortedUnique(records))
        #expect(sortedUnique(threshold: 2) == Self.referenceSortedUnique(records))
    }

    @Test("zone text writes each record as its name, TTL, class, type and data")
    func zoneText() {
        let zone = ZoneFile(kind: .forward, clusterDomain: DomainName(labels: ["cluster", "local"]), ttl: 5, serial: nil,
                            records: Self.records(seed: 9, count: 200))
        var expected = "; generated by kubenft dns from Kubernetes objects (DNS schema \(ServiceDiscovery.schemaVersion))\n"
        expected += "$ORIGIN \(zone.origin)\n$TTL \(zone.records.first?.ttl ?? 5)\n"
        var hash: UInt32 = 0x811C_9DC5
        for record in zone.records {
            expected += "\(record.name)\t\(record.ttl)\tIN\t\(record.data.type)\t\(record.data.presentation)\n"
        }
        for record in zone.records.dropFirst(2) {
            for byte in "\(record.name) \(record.ttl) \(record.data.type) \(record.data.presentation)\n".utf8 {
                hash = (hash ^ UInt32(byte)) &* 0x0100_0193
            }
        }
        #expect(zone.text == expected)
        #expect(zone.serial == hash)
    }

    @Test("zone text, serial and pod records made in two halves are those made in one piece", arguments: [1, 2, 7, 300])
    func halves(count: Int) {
        let zone = ZoneFile(kind: .forward, clusterDomain: DomainName(labels: ["cluster", "local"]), ttl: 5, serial: nil,
                            records: Self.records(seed: UInt64(count), count: count))
        #expect(zone.text(threshold: 2) == zone.text(threshold: .max))
        let body = Array(zone.records.dropFirst(2))
        #expect(ZoneFile.contentHash(of: body, threshold: 2) == zone.serial)
        #expect(ZoneFile.contentHash(of: body, threshold: .max) == zone.serial)
        let names = Self.records(seed: UInt64(count) &+ 5, count: count).map(\.name)
        let (splitKeys, wholeKeys) = (CanonicalKeys(names, threshold: 2), CanonicalKeys(names, threshold: .max))
        #expect(splitKeys.sortedIndices(threshold: 2) { _, _ in false } == wholeKeys.sortedIndices(threshold: .max) { _, _ in false })
        var rankNumbers = Numbers(state: UInt64(count) &+ 11)
        let ranks = names.indices.map { _ in rankNumbers.next(3) }
        #expect(splitKeys.sortedIndices(threshold: 2) { ranks[$0] < ranks[$1] } == wholeKeys.sortedIndices(threshold: .max) { ranks[$0] < ranks[$1] })
        for left in names.indices.prefix(40) {
            for right in names.indices.suffix(40) {
                #expect(splitKeys.compare(left, right).signum() == wholeKeys.compare(left, right).signum(), "\(names[left]) \(names[right])")
            }
        }
        // Pods with zero, one and two addresses in a few namespaces, and services before them.
        var numbers = Numbers(state: UInt64(count) &* 31)
        var cluster = Cluster()
        let location = SourceLocation(file: "c.yaml", line: 1, column: 1)
        for index in 0..<count {
            var pod = Pod(meta: ObjectMeta(name: "p\(index)", namespace: "ns-\(numbers.next(3))", location: location))
            pod.podIPs = (0..<numbers.next(3)).map { _ in IPAddress("10.\(numbers.next(4)).\(numbers.next(250)).\(numbers.next(250))")! }
            cluster.pods.append(pod)
        }
        var service = Service(meta: ObjectMeta(name: "web", namespace: "ns-0", location: location))
        service.clusterIPs = [IPAddress("10.96.0.10")!]
        cluster.services = [service]
        let discovery = ServiceDiscovery(zone: DomainName(labels: ["cluster", "local"]), ttl: 5)
        let (split, splitWarnings) = discovery.records(for: cluster, threshold: 2)
        let (whole, wholeWarnings) = discovery.records(for: cluster, threshold: .max)
        #expect(split == whole)
        #expect(splitWarnings == wholeWarnings)
        #expect(whole.count == 3 + cluster.pods.reduce(0) { $0 + $1.podIPs.count })
    }
}

/// Label keys are checked byte by byte when they are ASCII; the result must be that of the
/// character-based check, which still serves other keys.
@Suite("Qualified name check")
struct QualifiedNameCheckTests {
    /// The check as first written: split on the character '/', each part checked as a string.
    static func reference(_ key: String) -> String? {
        func labelName(_ name: Substring, empty: String) -> String? {
            let bytes = Array(name.utf8)
            if bytes.isEmpty { return empty }
            if bytes.count > 63 { return "must be no more than 63 characters" }
            for (index, byte) in bytes.enumerated() {
                let alphanumeric = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                if alphanumeric { continue }
                if index != 0, index != bytes.count - 1, [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ".")].contains(byte) { continue }
                return "must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit"
            }
            return nil
        }
        let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return labelName(parts[0], empty: "must not be empty")
        case 2:
            if parts[0].isEmpty { return "prefix part must not be empty" }
            if let problem = Validation.dnsSubdomainProblem(String(parts[0])) { return "prefix part " + problem }
            return labelName(parts[1], empty: "name part must not be empty")
        default: return "must be a name with an optional DNS subdomain prefix and '/'"
        }
    }

    @Test("display text: every ASCII byte, and other text, is judged as by its scalars' categories")
    func displayText() {
        func reference(_ text: String) -> String? {
            if text.utf8.count > 63 { return "must be no more than 63 bytes" }
            for scalar in text.unicodeScalars where scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .format || scalar == "\u{2028}" || scalar == "\u{2029}" {
                return "must not contain control or format characters"
            }
            return nil
        }
        let texts = (0..<128).map { "Pod" + String(UnicodeScalar(UInt8($0))) } + ["", "Pod", "P\u{200B}d", "é", "a\u{2028}", String(repeating: "k", count: 64)]
        for text in texts {
            #expect(Validation.displayTextProblem(text, maximumBytes: 63) == reference(text), "\(Array(text.utf8))")
        }
    }

    @Test("ASCII and other keys get the problem the character-based check finds")
    func sameProblems() {
        let long = String(repeating: "a", count: 63)
        let keys = ["", "/", "a", "a/", "/a", "a/b", "a/b/c", "a//b", "example.com/app", "Example.com/app", "ex_ample.com/app",
                    "-a", "a-", "a_b", "a.b", "A", "a b", "k8s.io/" + long, "k8s.io/" + long + "a", long + "a",
                    ".a/b", "a./b", "a..b/c", "é", "a/é", "é/a", "a/\u{301}b", "a\u{301}/b", "a/b\u{301}/c", "1/2", "a.1-b/c_d"]
        for key in keys {
            #expect(Validation.qualifiedNameProblem(key) == Self.reference(key), "\(key)")
        }
    }
}

/// Label maps spelled alike are decoded once per part; a map with a problem is decoded (and
/// reported) each time it occurs.
@Suite("Repeated label maps")
struct RepeatedLabelMapTests {
    @Test("every copy of a bad label map is reported at its own place; good copies decode alike")
    func repeatedMaps() {
        var text = ""
        for index in 0..<4 {
            text += "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\(index)\n  labels:\n    app: web\n    \"bad key!\": x\n"
            text += "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: q\(index)\n  labels:\n    app: web\n    tier: \"1\"\n"
            text += "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: r\(index)\n  labels:\n    app: web\n    tier: 1\n"
        }
        let result = ManifestLoader.load([ManifestSource(name: "l.yaml", bytes: Array(text.utf8))])
        let badKeys = result.diagnostics.filter { $0.reason.contains("bad key!") }
        #expect(badKeys.map(\.object) == (0..<4).map { "Pod default/p\($0)" })
        #expect(badKeys.map(\.location.line) == (0..<4).map { 24 * $0 + 8 })
        let tiers = result.diagnostics.filter { $0.object?.hasPrefix("Pod default/r") == true }
        #expect(tiers.count == 4)
        for pod in result.cluster.pods where pod.meta.name.hasPrefix("q") {
            #expect(pod.meta.labels == ["app": "web", "tier": "1"])
        }
        #expect(result.cluster.pods.filter { $0.meta.name.hasPrefix("p") }.allSatisfy { $0.meta.labels == ["app": "web"] })
    }

    @Test("every copy of a bad container list is reported; good copies give the same ports")
    func repeatedContainers() {
        let good = "  containers:\n  - name: c\n    ports:\n    - containerPort: 80\n      name: http\n"
        let bad = "  containers:\n  - name: c\n    ports:\n    - containerPort: 80\n      name: Bad_Name\n"
        let sidecar = "  initContainers:\n  - name: s\n    restartPolicy: Always\n    ports:\n    - containerPort: 9000\n"
        var text = ""
        for index in 0..<3 {
            text += "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: g\(index)\nspec:\n" + good + sidecar
            text += "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\(index)\nspec:\n" + bad
        }
        let result = ManifestLoader.load([ManifestSource(name: "c.yaml", bytes: Array(text.utf8))])
        #expect(result.diagnostics.filter { $0.reason.contains("Bad_Name") }.map(\.object) == (0..<3).map { "Pod default/b\($0)" })
        for pod in result.cluster.pods where pod.meta.name.hasPrefix("g") {
            #expect(pod.containerPorts == [Pod.ContainerPort(name: "http", port: 80), Pod.ContainerPort(port: 9000)])
        }
    }
}
