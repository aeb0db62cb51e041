import NFTRuleset
import Testing
@testable import NFTNetlink

/// Planning and batching without the kernel: the recording fake applies batches to tables in
/// memory the way the kernel does, all or nothing, guarded by the generation id.
@Suite("Applying through the recording transport")
struct RecordingTransportTests {
    @Test("a missing table is created whole; applying again sends nothing")
    func createThenUnchanged() throws {
        let ruleset = try SyntheticCluster.compile(services: 20, endpoints: 3)
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        let first = try applier.apply(ruleset)
        #expect(first.mode == .created)
        #expect(fake.tables["inet kubenft"] == ruleset)
        let second = try applier.apply(ruleset)
        #expect(second.mode == .unchanged)
        #expect(fake.batches.count == 1)
    }

    @Test("an endpoint replaced in a service that keeps its count changes only data-map elements", arguments: [false, true])
    func sameCountChange(remembered: Bool) throws {
        let base = try SyntheticCluster.compile(services: 1000, endpoints: 10)
        let changed = try SyntheticCluster.compile(services: 1000, endpoints: 10, moved: [4321])
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        let first = try applier.apply(base)
        let outcome = try applier.apply(changed, previous: remembered ? first.state : nil)
        #expect(outcome.mode == .incremental)
        #expect(fake.tables["inet kubenft"] == changed)
        // The backend's bucket element and its hairpin element: one delete and one add each.
        let touched = Self.elementChanges(outcome.operations)
        #expect(touched == ["+hairpin-v4", "+lb4-10-addresses", "-hairpin-v4", "-lb4-10-addresses"], "\(outcome.operations.map(\.summary))")
        #expect(outcome.operations.count == touched.count, "only element changes: \(outcome.operations.map(\.summary))")
        let messages = try #require(outcome.report?.messages)
        #expect(messages <= touched.count + 2, "\(messages) messages (begin and end included)")
    }

    @Test("an endpoint turned not-ready moves one verdict-map element", arguments: [false, true])
    func countChange(remembered: Bool) throws {
        // No service has 9 endpoints before: the shared chain for 9 is there all the same, in the
        // order a fresh load has, so the change stays incremental.
        let base = try SyntheticCluster.compile(services: 1000, endpoints: 10)
        let changed = try SyntheticCluster.compile(services: 1000, endpoints: 10, notReady: [4321])
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        let first = try applier.apply(base)
        let outcome = try applier.apply(changed, previous: remembered ? first.state : nil)
        #expect(outcome.mode == .incremental)
        #expect(fake.tables["inet kubenft"] == changed)
        let summaries = outcome.operations.map(\.summary)
        #expect(Self.elementChanges(outcome.operations).filter { $0.hasSuffix("service-ips-v4") } == ["+service-ips-v4", "-service-ips-v4"])
        #expect(outcome.operations.allSatisfy { operation in
            switch operation {
            case .addElements, .deleteElements: return true
            default: return false
            }
        }, "no chain or rule changes: \(summaries)")
        let moved = outcome.operations.compactMap { operation -> [SetElement]? in
            if case .addElements(let set, let elements) = operation, set.name == "service-ips-v4" { return elements } else { return nil }
        }.flatMap { $0 }
        #expect(moved.count == 1)
        #expect(moved.first?.data == .verdict(.goto("lb4-9")))
        let messages = try #require(outcome.report?.messages)
        #expect(messages < 12, "\(messages) messages for \(summaries)")
    }

    @Test("a service growing past every other count adds its chain and maps at the end: still incremental",
          arguments: [(3, 2), (33, 1)])
    func newLargestCount(endpoints: Int, added: Int) throws {
        // From 3 to 5 the chains and maps for 4 and 5 are new; past 32 (the prepared counts) only
        // the new count's.
        let base = try SyntheticCluster.compile(services: 50, endpoints: endpoints)
        let changed = try SyntheticCluster.compile(services: 50, endpoints: endpoints, extra: [7: added])
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        let first = try applier.apply(base)
        let outcome = try applier.apply(changed, previous: first.state)
        #expect(outcome.mode == .incremental, "\(outcome.operations.map(\.summary).prefix(8))")
        #expect(fake.tables["inet kubenft"] == changed)
        let top = endpoints + added
        #expect(changed.sets.suffix(2).map(\.name) == ["lb4-\(top)-addresses", "lb4-\(top)-ports"])
    }

    /// `+set` / `-set` for each element operation, sorted.
    static func elementChanges(_ operations: [BatchOperation]) -> [String] {
        operations.compactMap { operation -> String? in
            switch operation {
            case .addElements(let set, _): return "+" + set.name
            case .deleteElements(let set, _): return "-" + set.name
            default: return nil
            }
        }.sorted()
    }

    @Test("a change between reading and committing is planned again; one before every batch fails after bounded attempts")
    func concurrentChange() throws {
        let base = try SyntheticCluster.compile(services: 5, endpoints: 2)
        let changed = try SyntheticCluster.compile(services: 5, endpoints: 2, notReady: [3])
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        _ = try applier.apply(base)
        var interfered = 0
        fake.beforeSend = { transport in
            interfered += 1
            transport.store(base, family: "ip", table: "someone-else-\(interfered)")
        }
        do {
            _ = try applier.apply(changed)
            Issue.record("expected a concurrent-change error")
        } catch {
            #expect(error.kind == .concurrentChange)
            #expect(error.message.contains("\(RulesetApplier.attempts) attempts"), "\(error)")
        }
        #expect(interfered == RulesetApplier.attempts)
        #expect(fake.tables["inet kubenft"] == base, "nothing applied")
        fake.beforeSend = { transport in
            transport.beforeSend = nil
            transport.store(base, family: "ip", table: "someone-else")
        }
        let retried = try applier.apply(changed)
        #expect(retried.mode == .incremental)
        #expect(fake.tables["inet kubenft"] == changed)
    }

    @Test("a batch that fails on its last message changes nothing")
    func allOrNothing() throws {
        let base = try SyntheticCluster.compile(services: 5, endpoints: 2)
        let fake = RecordingTransport()
        _ = try RulesetApplier(transport: fake).apply(base)
        var operations = RulesetApplier.fullReplacement(base)
        operations.append(.addRule(chain: "no-such-chain", Rule([.verdict(.accept)])))
        #expect(throws: NetlinkError.self) {
            try fake.send(RulesetBatch(family: "inet", table: "kubenft", operations: operations))
        }
        #expect(fake.tables["inet kubenft"] == base)
    }
}

/// The convergence property without the kernel: the recording fake refuses, as the kernel does,
/// to delete a chain or set still in use and to refer to one that does not exist yet, so every
/// incremental batch must be in an order the kernel accepts.
@Suite("Incremental batches in an order the kernel accepts")
struct RecordingConvergenceTests {
    @Test("apply A then B leaves exactly a fresh B, for goldens and the empty input in a ring and generated clusters")
    func convergesInMemory() throws {
        let ring = try [ConvergenceInput.empty()] + ConvergenceInput.goldens()
        var pairs: [(ConvergenceInput, ConvergenceInput)] = []
        for index in ring.indices {
            let next = ring[(index + 1) % ring.count]
            pairs += [(ring[index], next), (next, ring[index])]
        }
        var rng = SplitMix64(state: ConvergenceTests.seed)
        for cluster in 0..<10 {
            let first = RandomCluster.random(&rng)
            let before = ConvergenceInput(name: "generated \(cluster)", ruleset: try first.compile())
            let after = ConvergenceInput(name: "generated \(cluster) changed", ruleset: try first.mutated(&rng).compile())
            pairs += [(before, after), (after, before)]
        }
        var incremental = 0
        for (a, b) in pairs {
            let fresh = RecordingTransport()
            _ = try RulesetApplier(transport: fresh).apply(b.ruleset)
            let expected = try #require(fresh.tables["inet kubenft"])
            for remembered in [false, true] {
                let fake = RecordingTransport()
                let applier = RulesetApplier(transport: fake)
                let previous = try applier.apply(a.ruleset).state
                do {
                    let planned = try applier.apply(b.ruleset, dryRun: true, previous: remembered ? previous : nil)
                    let applied = try applier.apply(b.ruleset, previous: remembered ? previous : nil)
                    if applied.mode == .incremental { incremental += 1 }
                    #expect(planned.operations == applied.operations, "\(a.name) → \(b.name): the dry run planned another batch")
                    let table = try #require(fake.tables["inet kubenft"])
                    #expect(try KernelTable(encoding: table) == KernelTable(encoding: expected), "\(a.name) → \(b.name)")
                    #expect(table.chains.map(\.name) == expected.chains.map(\.name) && table.sets.map(\.name) == expected.sets.map(\.name))
                } catch {
                    Issue.record("\(a.name) → \(b.name)\(remembered ? " (remembered)" : ""): \(error)")
                }
            }
        }
        #expect(incremental > 0)
    }
}
