import Foundation
import LabKit
import NetAddress
import NFTKernel
import NFTRuleset
import Testing
@testable import NFTNetlink

/// The remembered state: hash-based planning in memory, and the state file between processes
/// (trusted only in the same namespace at the same generation; anything else reads the table back).
@Suite("Remembered apply state")
struct AppliedStateTests {
    /// A set with elements removed, added and changed in the middle, then compared with a full load.
    @Test("element changes found from hashes equal the desired set, in memory")
    func elementChangesInMemory() throws {
        func element(_ index: Int, _ verdict: String) throws -> SetElement {
            SetElement(key: [.address(try IPAddressFixture.v4(index)), .proto("tcp"), .port(80)], data: .verdict(.goto(verdict)))
        }
        let chains = [Chain(name: "a"), Chain(name: "b")]
        func ruleset(_ elements: [SetElement]) -> Ruleset {
            Ruleset(sets: [NamedSet(name: "m", key: [.ipv4Address, .inetProto, .inetService], mapping: .verdict, elements: elements)],
                    chains: chains)
        }
        let before = ruleset(try (0..<200).map { try element($0, "a") })
        var changedElements = try (0..<200).filter { $0 != 50 && $0 != 120 }.map { try element($0, "a") }
        changedElements[80] = try element(81, "b")
        changedElements.insert(try element(500, "b"), at: 10)
        let after = ruleset(changedElements)
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        let first = try applier.apply(before)
        let outcome = try applier.apply(after, previous: first.state)
        #expect(outcome.mode == .incremental)
        #expect(fake.tables["inet kubenft"].map { Set($0.sets[0].elements) } == Set(after.sets[0].elements))
        let counts = outcome.operations.map(\.summary)
        #expect(counts == ["delete 3 elements from m", "add 2 elements to m"], "\(counts)")
    }

    @Test("a state file round-trips; a damaged or truncated one is refused")
    func fileRoundTrip() throws {
        let path = NSTemporaryDirectory() + "kubenft-state-\(UUID().uuidString)/ns.state"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let ruleset = try SyntheticCluster.compile(services: 30, endpoints: 3)
        let fingerprint = RulesetFingerprint(ruleset, key: HashKey.random())
        let state = AppliedState(ruleset: ruleset, generation: 42, family: "inet", table: "kubenft", namespace: 7, fingerprint: fingerprint)
        let file = AppliedStateFile(path: path)
        try file.save(state)
        let loaded = try #require(file.load())
        #expect(loaded.generation == 42 && loaded.namespace == 7 && loaded.ruleset == nil)
        #expect(loaded.fingerprint == fingerprint)
        // Every element of every set that is not an interval set reads back, with its hash.
        let kept = ruleset.sets.filter { !$0.flags.contains(.interval) }
        #expect(Set(loaded.storedElements.keys) == Set(kept.map(\.name)))
        for set in kept {
            let stored = try #require(loaded.storedElements[set.name])
            #expect(stored.hashes == RulesetFingerprint.elementHashes(set, key: fingerprint.key), "\(set.name)")
            #expect(set.elements.indices.map { stored.element(at: $0) } == set.elements, "\(set.name)")
        }
        #expect(kept.contains { $0.elements.count > 10 && $0.isMap }, "the fixture has a map with elements")
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(file.load() == nil, "a flipped bit is caught by the checksum")
        try Data(bytes.prefix(bytes.count / 3)).write(to: URL(fileURLWithPath: path))
        #expect(file.load() == nil, "a truncated file is refused")
        try Data("not a state".utf8).write(to: URL(fileURLWithPath: path))
        #expect(file.load() == nil)
        file.remove()
        #expect(file.load() == nil)
    }

    /// The map shape's endpoint changes touch only map and set elements: a state loaded from a file
    /// must find them from the hashes and records it keeps, as the in-memory state does, without
    /// dumping the changed sets from the kernel.
    @Test("a state file gives a changed set's element delta without reading it back", arguments: ["moved", "not ready"])
    func stateFileElementDelta(change: String) throws {
        let base = try SyntheticCluster.compile(services: 30, endpoints: 3)
        let changed = change == "moved" ? try SyntheticCluster.compile(services: 30, endpoints: 3, moved: [4, 50])
            : try SyntheticCluster.compile(services: 30, endpoints: 3, notReady: [7])
        let path = NSTemporaryDirectory() + "kubenft-state-\(UUID().uuidString).state"
        let file = AppliedStateFile(path: path)
        defer { file.remove() }
        let transport = IdentifiedRecording()
        let applier = RulesetApplier(transport: transport)
        try file.save(try #require(applier.apply(base).state))
        let readsBefore = transport.inner.tableReads
        let outcome = try applier.apply(changed, previous: try #require(file.load()))
        #expect(outcome.mode == .incremental)
        #expect(transport.setReads == 0 && transport.inner.tableReads == readsBefore,
                "\(transport.setReads) set dumps, \(transport.inner.tableReads - readsBefore) table reads")
        // The same batch as from the state kept in memory (which has both rulesets).
        let memory = RulesetApplier(transport: RecordingTransport())
        let fromMemory = try memory.apply(changed, previous: try #require(memory.apply(base).state))
        #expect(outcome.operations.map(\.summary) == fromMemory.operations.map(\.summary))
        #expect(outcome.operations.allSatisfy {
            switch $0 { case .addElements, .deleteElements: return true; default: return false }
        }, "\(outcome.operations.map(\.summary))")
        let table = try #require(transport.inner.tables["inet kubenft"])
        #expect(table.sets.map(\.name) == changed.sets.map(\.name))
        for (have, want) in zip(table.sets, changed.sets) { #expect(Set(have.elements) == Set(want.elements), "\(want.name)") }
        #expect(table.chains == changed.chains)
        // The state written after it takes the loaded records over, and is the file a state
        // written from scratch would be.
        let after = try #require(outcome.state)
        #expect(!after.carried.isEmpty)
        let scratch = AppliedStateFile(path: path + ".scratch")
        defer { scratch.remove() }
        try file.save(after)
        try scratch.save(AppliedState(ruleset: changed, generation: after.generation, family: after.family, table: after.table,
                                      namespace: 7, fingerprint: after.fingerprint))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: scratch.path)))
    }

    @Test("stored elements carried over a change equal the changed set written whole")
    func carriedRecords() throws {
        var random = SplitMix64(state: 0xCA22_1ED)
        let key = HashKey.random()
        func stored(_ set: NamedSet) -> StoredElements {
            var writer = StateWriter()
            var offsets: [UInt32] = [0]
            for element in set.elements {
                writer.element(element)
                offsets.append(UInt32(writer.bytes.count))
            }
            return StoredElements(hashes: RulesetFingerprint.elementHashes(set, key: key), offsets: offsets, records: writer.bytes)
        }
        var next = 0
        func element() throws -> SetElement {
            next += Int.random(in: 1...3, using: &random)
            return SetElement(key: [.address(try IPAddressFixture.v4(next)), .proto("tcp"), .port(UInt16(next % 60_000))],
                              data: .values([.address(try IPAddressFixture.v4(next * 7)), .port(8080)]),
                              comment: next % 3 == 0 ? "ns/svc-\(next)" : nil)
        }
        var spliced = 0
        for round in 0..<150 {
            let old = try (0..<Int.random(in: 0...120, using: &random)).map { _ in try element() }
            var new = old
            for _ in 0..<(round % 5 == 4 ? 60 : Int.random(in: 0...6, using: &random)) {
                // Elements out of their old order (every fifth round) cannot be carried over.
                switch Int.random(in: 0..<(round % 5 == 4 ? 3 : 2), using: &random) {
                case 0 where !new.isEmpty: new.remove(at: Int.random(in: 0..<new.count, using: &random))
                case 2 where !new.isEmpty: new.swapAt(Int.random(in: 0..<new.count, using: &random), Int.random(in: 0..<new.count, using: &random))
                default: new.insert(try element(), at: Int.random(in: 0...new.count, using: &random))
                }
            }
            func set(_ elements: [SetElement]) -> NamedSet {
                NamedSet(name: "m", key: [.ipv4Address, .inetProto, .inetService], mapping: .concatenatedData([.ipv4Address, .inetService]),
                         elements: elements)
            }
            let before = stored(set(old)), whole = stored(set(new))
            let delta = ElementDelta<Int>.positions(old: before.hashes, new: whole.hashes)
            guard let carried = before.carried(to: set(new), hashes: whole.hashes, delta: delta) else { continue }
            spliced += 1
            #expect(carried.hashes == whole.hashes && carried.offsets == whole.offsets && carried.records == whole.records, "round \(round)")
        }
        #expect(spliced >= 120, "\(spliced) of 150 rounds were carried over")
    }

    @Test("a stored element that does not match its hash is read from the kernel instead")
    func damagedRecordFallsBack() throws {
        let base = try SyntheticCluster.compile(services: 10, endpoints: 2)
        let changed = try SyntheticCluster.compile(services: 10, endpoints: 2, moved: [3])
        let transport = IdentifiedRecording()
        let applier = RulesetApplier(transport: transport)
        let state = try #require(applier.apply(base).state)
        // Every stored hash replaced: no record reads back to its hash.
        var stored: [String: StoredElements] = [:]
        for set in base.sets where !set.flags.contains(.interval) {
            var writer = StateWriter()
            var offsets: [UInt32] = [0]
            for element in set.elements {
                writer.element(element)
                offsets.append(UInt32(writer.bytes.count))
            }
            stored[set.name] = StoredElements(hashes: set.elements.indices.map { UInt64($0) }, offsets: offsets, records: writer.bytes)
        }
        let damaged = AppliedState(ruleset: nil, generation: state.generation, family: state.family, table: state.table,
                                   namespace: 7, fingerprint: state.fingerprint, storedElements: stored)
        let outcome = try applier.apply(changed, previous: damaged)
        #expect(outcome.mode == .incremental)
        #expect(transport.setReads > 0, "the changed sets were read from the kernel")
        let table = try #require(transport.inner.tables["inet kubenft"])
        for (have, want) in zip(table.sets, changed.sets) { #expect(Set(have.elements) == Set(want.elements), "\(want.name)") }
    }

    @Test("the default path names the namespace and cannot leave the directory")
    func defaultPath() {
        #expect(AppliedStateFile.defaultPath(namespace: nil) == "/run/kubenft/host.state")
        #expect(AppliedStateFile.defaultPath(namespace: "lab-1") == "/run/kubenft/lab-1.state")
        #expect(AppliedStateFile.defaultPath(namespace: "/var/run/netns/x y") == "/run/kubenft/x_y.state")
        #expect(AppliedStateFile.defaultPath(namespace: "..") == "/run/kubenft/_...state")
    }
}

/// Hands out IPv4 addresses for element fixtures.
enum IPAddressFixture {
    static func v4(_ index: Int) throws -> IPAddress {
        try #require(IPAddress(bytes: [10, 0, UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)]))
    }
}

/// A `RecordingTransport` in an identified namespace (as on a kernel with namespace cookies, so a
/// state file is trusted), counting the set dumps.
final class IdentifiedRecording: RulesetTransport {
    let inner = RecordingTransport()
    var setReads = 0

    func generation() throws(NetlinkError) -> UInt32 { try inner.generation() }
    func read(family: String, table: String) throws(NetlinkError) -> TableSnapshot? { try inner.read(family: family, table: table) }
    func tableExists(family: String, table: String) throws(NetlinkError) -> (exists: Bool, generation: UInt32?) {
        try inner.tableExists(family: family, table: table)
    }
    func send(_ batch: RulesetBatch) throws(NetlinkError) -> BatchReport { try inner.send(batch) }
    func readSet(family: String, table: String, name: String) throws(NetlinkError) -> SetSnapshot? {
        setReads += 1
        return try inner.readSet(family: family, table: table, name: name)
    }
    func namespaceIdentity() throws(NetlinkError) -> UInt64? { 7 }
}

/// Counts full readbacks, forwarding everything else to the kernel transport.
final class CountingTransport: RulesetTransport {
    let inner: RulesetTransport
    var reads = 0

    init(inner: RulesetTransport) {
        self.inner = inner
    }

    func generation() throws(NetlinkError) -> UInt32 { try inner.generation() }
    func read(family: String, table: String) throws(NetlinkError) -> TableSnapshot? {
        reads += 1
        return try inner.read(family: family, table: table)
    }
    func send(_ batch: RulesetBatch) throws(NetlinkError) -> BatchReport { try inner.send(batch) }
    func readSet(family: String, table: String, name: String) throws(NetlinkError) -> SetSnapshot? {
        try inner.readSet(family: family, table: table, name: name)
    }
    func namespaceIdentity() throws(NetlinkError) -> UInt64? { try inner.namespaceIdentity() }
}

/// The state file against the real kernel: a later process skips the readback only while the
/// namespace and generation are the ones it recorded.
@Suite("Remembered apply state in the kernel", .enabled(if: Environment.labTestsEnabled))
struct KernelStateTests {
    static func temporaryFile() -> AppliedStateFile {
        AppliedStateFile(path: NSTemporaryDirectory() + "kubenft-state-\(UUID().uuidString).state")
    }

    @Test("a saved state skips the readback, and the result equals a fresh load")
    func stateFileSkipsReadback() throws {
        let base = try SyntheticCluster.compile(services: 200, endpoints: 5)
        let changed = try SyntheticCluster.compile(services: 200, endpoints: 5, notReady: [17, 333])
        let file = Self.temporaryFile()
        defer { file.remove() }
        try Namespaces.with(2) { names in
            let first = try RulesetApplier(transport: try NetlinkTransport(namespace: names[0])).apply(base)
            try file.save(try #require(first.state))
            let counting = CountingTransport(inner: try NetlinkTransport(namespace: names[0]))
            let outcome = try RulesetApplier(transport: counting).apply(changed, previous: file.load())
            #expect(outcome.mode == .incremental && counting.reads == 0, "\(outcome.mode), \(counting.reads) readbacks")
            #expect((outcome.report?.messages ?? 0) < 40)
            _ = try RulesetApplier(transport: try NetlinkTransport(namespace: names[1])).apply(changed)
            #expect(try Namespaces.listTable(in: names[0]) == Namespaces.listTable(in: names[1]))
        }
    }

    /// While a socket of the namespace listens to NFNLGRP_NFTABLES, the kernel builds one event
    /// per element and rule at commit, most of a large full load's kernel time; kubenft's own event
    /// socket (opened for the readback) must be closed once the batch's guard is settled.
    @Test("no socket of kubenft listens to nftables events once a batch is sent")
    func eventSocketClosedBeforeSend() throws {
        let base = try SyntheticCluster.compile(services: 20, endpoints: 2)
        try Namespaces.with(1) { names in
            let transport = try NetlinkTransport(namespace: names[0])
            let applier = RulesetApplier(transport: transport)
            let first = try applier.apply(base)
            #expect(first.mode == .created)
            #expect(try Self.nftablesListeners(in: names[0]) == 0, "after the full load")
            let changed = try SyntheticCluster.compile(services: 20, endpoints: 2, notReady: [3])
            #expect(try applier.apply(changed).mode == .incremental)
            #expect(try Self.nftablesListeners(in: names[0]) == 0, "after an incremental apply planned from a readback")
            withExtendedLifetime(transport) {}
        }
    }

    /// Netfilter netlink sockets of the namespace subscribed to NFNLGRP_NFTABLES (group 7), from
    /// /proc/net/netlink (protocol 12; the groups column is the bitmask of the first 32 groups).
    static func nftablesListeners(in namespace: String) throws -> Int {
        let table = try Namespaces.run(["ip", "netns", "exec", namespace, "cat", "/proc/net/netlink"])
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, fields[1] == "12", let groups = UInt32(fields[3], radix: 16) else { return false }
            return groups & (1 << 6) != 0
        }.count
    }

    @Test("a stale generation reads the table back and still gives the desired table")
    func staleGeneration() throws {
        let base = try SyntheticCluster.compile(services: 40, endpoints: 3)
        let changed = try SyntheticCluster.compile(services: 40, endpoints: 3, notReady: [5])
        let file = Self.temporaryFile()
        defer { file.remove() }
        try Namespaces.with(2) { names in
            let first = try RulesetApplier(transport: try NetlinkTransport(namespace: names[0])).apply(base)
            try file.save(try #require(first.state))
            // Someone else changes a chain of kubenft's table: the generation moves.
            let chain = try #require(base.chains.first { $0.hook == nil }).name
            _ = try Namespaces.nft(["add", "rule", "inet", "kubenft", chain, "counter", "drop"], in: names[0])
            let counting = CountingTransport(inner: try NetlinkTransport(namespace: names[0]))
            let outcome = try RulesetApplier(transport: counting).apply(changed, previous: file.load())
            #expect(counting.reads == 1, "the stale state was not trusted")
            #expect(try RulesetApplier(transport: counting).differences(changed).isEmpty)
            #expect(outcome.state != nil)
            _ = try RulesetApplier(transport: try NetlinkTransport(namespace: names[1])).apply(changed)
            #expect(try Namespaces.listTable(in: names[0]) == Namespaces.listTable(in: names[1]))
        }
    }

    @Test("a corrupt state file or one from another namespace reads the table back")
    func corruptOrForeign() throws {
        let base = try SyntheticCluster.compile(services: 20, endpoints: 2)
        let changed = try SyntheticCluster.compile(services: 20, endpoints: 2, notReady: [3])
        let file = Self.temporaryFile()
        defer { file.remove() }
        try Namespaces.with(2) { names in
            let first = try RulesetApplier(transport: try NetlinkTransport(namespace: names[0])).apply(base)
            _ = try RulesetApplier(transport: try NetlinkTransport(namespace: names[1])).apply(base)
            let state = try #require(first.state)
            try file.save(state)
            try Data("garbage".utf8).write(to: URL(fileURLWithPath: file.path), options: .atomic)
            let corrupt = CountingTransport(inner: try NetlinkTransport(namespace: names[0]))
            _ = try RulesetApplier(transport: corrupt).apply(changed, previous: file.load())
            #expect(corrupt.reads == 1)
            #expect(try RulesetApplier(transport: corrupt).differences(changed).isEmpty)
            // Same generation in the other namespace, but not the same namespace.
            try file.save(state)
            let other = CountingTransport(inner: try NetlinkTransport(namespace: names[1]))
            #expect(try other.generation() == state.generation)
            _ = try RulesetApplier(transport: other).apply(changed, previous: file.load())
            #expect(other.reads == 1)
            #expect(try RulesetApplier(transport: other).differences(changed).isEmpty)
        }
    }
}
