#if canImport(Glibc)
import Glibc
#endif
import LabKit
import NFTRuleset
import Testing
@testable import NFTNetlink

/// What a full apply, a delete and the encoding of a batch cost: no readback of the rules to learn
/// whether the table exists, and no rule rendered to text unless the kernel refuses it.
@Suite("Apply path costs")
struct ApplyPathTests {
    @Test("apply --full and delete ask whether the table exists and never read it back")
    func fullApplyAndDeleteReadNothing() throws {
        let ruleset = try SyntheticCluster.compile(services: 200, endpoints: 3)
        let changed = try SyntheticCluster.compile(services: 200, endpoints: 3, notReady: [7])
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        #expect(try applier.apply(ruleset, incremental: false).mode == .created)
        let replaced = try applier.apply(changed, incremental: false)
        #expect(replaced.mode == .replaced)
        #expect(fake.tables["inet kubenft"] == changed)
        #expect(try applier.delete(family: "inet", table: "kubenft"))
        #expect(try !applier.delete(family: "inet", table: "kubenft"))
        #expect(fake.tables["inet kubenft"] == nil)
        #expect(fake.tableReads == 0, "\(fake.tableReads) whole-table readbacks")
        #expect(fake.existenceQueries == 4)
        #expect(fake.batches.count == 3)
    }

    @Test("encoding keeps rules as values; a refused rule's error still prints it")
    func refusedRuleIsRenderedOnDemand() throws {
        let ruleset = try SyntheticCluster.compile(services: 20, endpoints: 3)
        let batch = RulesetBatch(family: "inet", table: "kubenft", operations: RulesetApplier.fullReplacement(ruleset),
                                 sets: Dictionary(uniqueKeysWithValues: ruleset.sets.map { ($0.name, $0) }))
        var encoder = try BatchEncoder(batch: batch)
        let encoded = try encoder.encode(batch, firstSequence: 100)
        var rules: [(UInt32, String, Rule)] = []
        for (sequence, description) in encoded.descriptions {
            switch description {
            case .rule(let chain, let rule): rules.append((sequence, chain, rule))
            case .text(let text): #expect(!text.hasPrefix("rule in chain"), "a rule rendered while encoding: \(text)")
            }
        }
        #expect(rules.count == ruleset.chains.reduce(0) { $0 + $1.rules.count })
        let (sequence, chain, rule) = try #require(rules.max { $0.0 < $1.0 })
        let refusal = KernelRefusal(sequence: sequence, code: ENOENT, attributeOffset: 0, message: "")
        let error = NetlinkTransport.error(for: refusal, in: encoded, beginSequence: 100, total: 1, commit: true)
        #expect(error.message.contains("rule in chain \(chain): \(NFTTextEmitter.rule(rule))"), "\(error.message)")
    }

    @Test("the kernel's refusal of a rule names the rule's text", .enabled(if: Environment.labTestsEnabled))
    func kernelRefusalNamesRule() throws {
        let ruleset = try SyntheticCluster.compile(services: 3, endpoints: 2)
        let broken = Rule([.verdict(.jump("no-such-chain"))], comment: "default/broken")
        try Namespaces.with { names in
            let transport = try NetlinkTransport(namespace: names[0])
            var operations = RulesetApplier.fullReplacement(ruleset)
            let chain = try #require(ruleset.chains.first).name
            operations.append(.addRule(chain: chain, broken))
            do {
                _ = try transport.send(RulesetBatch(family: "inet", table: "kubenft", operations: operations,
                                                    sets: Dictionary(uniqueKeysWithValues: ruleset.sets.map { ($0.name, $0) })))
                Issue.record("the kernel accepted a jump to a missing chain")
            } catch let error as NetlinkError {
                #expect(error.message.contains("rule in chain \(chain): \(NFTTextEmitter.rule(broken))"), "\(error.message)")
            }
        }
    }
}
