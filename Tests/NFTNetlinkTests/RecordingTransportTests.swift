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

    @Test("one endpoint turned not-ready sends only the changed chain and elements", arguments: [false, true])
    func oneEndpointChange(remembered: Bool) throws {
        let base = try SyntheticCluster.compile(services: 1000, endpoints: 10)
        let changed = try SyntheticCluster.compile(services: 1000, endpoints: 10, notReady: [4321])
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        let first = try applier.apply(base)
        let outcome = try applier.apply(changed, previous: remembered ? first.state : nil)
        #expect(outcome.mode == .incremental)
        let messages = try #require(outcome.report?.messages)
        let rules = changed.chains.reduce(0) { $0 + $1.rules.count }
        #expect(messages < 30, "an incremental batch of \(messages) messages for \(rules) rules")
        #expect(fake.tables["inet kubenft"] == changed)
        #expect(outcome.operations.contains { if case .flushChain = $0 { return true } else { return false } })
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
