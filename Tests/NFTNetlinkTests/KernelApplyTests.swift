import Foundation
import LabKit
import NFTNetlink
import NFTRuleset
import Testing

/// Applies, readback, atomicity and concurrency against the real kernel, in throwaway namespaces.
@Suite("Applying over netlink", .enabled(if: Environment.labTestsEnabled))
struct KernelApplyTests {
    static let foreign = "table ip other {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tcounter\n\t}\n}\n"

    @Test("a batch that fails on its last message leaves the previous table byte-identical")
    func failedBatchChangesNothing() throws {
        let demo = try #require(GoldenCases.named("demo")).compile()
        let other = try #require(GoldenCases.named("nodeport")).compile()
        try Namespaces.with { names in
            let transport = try NetlinkTransport(namespace: names[0])
            _ = try RulesetApplier(transport: transport).apply(demo)
            let before = try Namespaces.listRuleset(in: names[0])
            var operations = RulesetApplier.fullReplacement(other)
            operations.append(.addRule(chain: "no-such-chain", Rule([.verdict(.accept)], comment: "default/broken")))
            do {
                _ = try transport.send(RulesetBatch(family: "inet", table: "kubenft", operations: operations,
                                                    sets: Dictionary(uniqueKeysWithValues: other.sets.map { ($0.name, $0) })))
                Issue.record("the kernel accepted a rule in a missing chain")
            } catch let error as NetlinkError {
                #expect(error.kind == .refused)
                #expect(error.message.contains("no-such-chain") && error.message.contains("No such file or directory"), "\(error)")
                #expect(error.message.contains("default/broken"), "the refused rule's comment names the object: \(error)")
            }
            #expect(try Namespaces.listRuleset(in: names[0]) == before)
        }
    }

    @Test("a foreign table is identical after apply, verify and delete")
    func foreignTableUntouched() throws {
        let demo = try #require(GoldenCases.named("demo")).compile()
        try Namespaces.with { names in
            _ = try Namespaces.nft(["-f", "-"], in: names[0], stdin: Self.foreign)
            let foreignBefore = try Namespaces.nft(["list", "table", "ip", "other"], in: names[0])
            let applier = RulesetApplier(transport: try NetlinkTransport(namespace: names[0]))
            _ = try applier.apply(demo)
            #expect(try applier.differences(demo).isEmpty)
            #expect(try applier.delete(family: "inet", table: "kubenft"))
            #expect(try Namespaces.nft(["list", "table", "ip", "other"], in: names[0]) == foreignBefore)
            #expect(try !Namespaces.listRuleset(in: names[0]).contains("kubenft"))
        }
    }

    @Test("verify reports a rule added behind kubenft's back; show prints the golden text")
    func verifyAndShow() throws {
        let golden = try #require(GoldenCases.named("lab-services"))
        let ruleset = try golden.compile()
        try Namespaces.with { names in
            let applier = RulesetApplier(transport: try NetlinkTransport(namespace: names[0]))
            _ = try applier.apply(ruleset)
            let shown = try #require(try applier.current(family: "inet", table: "kubenft"))
            // The kernel keeps no trace of a one-element `{ x }` (nft sends a plain comparison), and a
            // host prefix reads back as the address.
            let strip = { (text: String) -> String in
                let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
                return lines.replacingOccurrences(of: #"\{ ([^,{}]+?)(/32|/128)? \}"#, with: "$1", options: .regularExpression)
            }
            let shownText = strip(NFTTextEmitter().emit(shown)), goldenText = strip(golden.expectedText)
            #expect(shownText == goldenText)
            if shownText != goldenText {
                let a = shownText.split(separator: "\n"), b = goldenText.split(separator: "\n")
                if let index = a.indices.first(where: { $0 >= b.count || a[$0] != b[$0] }) { Issue.record("show: \(a[index])\ngolden: \(index < b.count ? b[index] : "")") }
            }
            _ = try Namespaces.nft(["add", "rule", "inet", "kubenft", "services", "counter"], in: names[0])
            let differences = try applier.differences(ruleset)
            #expect(differences.count == 1 && differences[0].contains("services"), "\(differences)")
        }
    }

    @Test("a one-endpoint change on 1000 services × 10 endpoints sends a small batch and equals a fresh load")
    func incrementalOnLargeTable() throws {
        let base = try SyntheticCluster.compile(services: 1000, endpoints: 10)
        let changed = try SyntheticCluster.compile(services: 1000, endpoints: 10, notReady: [4321])
        try Namespaces.with(2) { names in
            let applier = RulesetApplier(transport: try NetlinkTransport(namespace: names[0]))
            let full = try applier.apply(base)
            let fullMessages = try #require(full.report?.messages)
            let outcome = try applier.apply(changed)
            #expect(outcome.mode == .incremental)
            let messages = try #require(outcome.report?.messages)
            #expect(messages < 30, "incremental batch of \(messages) messages (full load: \(fullMessages))")
            _ = try RulesetApplier(transport: try NetlinkTransport(namespace: names[1])).apply(changed)
            #expect(try Namespaces.listTable(in: names[0]) == Namespaces.listTable(in: names[1]))
            let remembered = try applier.apply(base, previous: outcome.state)
            #expect(remembered.mode == .incremental && (remembered.report?.messages ?? 0) < 30)
            #expect(try applier.differences(base).isEmpty)
        }
    }

    @Test("a change to the table between readback and commit is planned again; changes elsewhere do not matter")
    func concurrentChange() throws {
        let base = try SyntheticCluster.compile(services: 20, endpoints: 3)
        let changed = try SyntheticCluster.compile(services: 20, endpoints: 3, notReady: [7])
        try Namespaces.with { names in
            let kernel = try NetlinkTransport(namespace: names[0])
            _ = try RulesetApplier(transport: kernel).apply(base)
            // Another table changes before every batch: the batch still goes through at once.
            let elsewhere = InterferingTransport(inner: kernel) { index in
                _ = try? Namespaces.nft(["add", "table", "ip", "someone-else-\(index)"], in: names[0])
            }
            #expect(try RulesetApplier(transport: elsewhere).apply(changed).mode == .incremental)
            #expect(elsewhere.sends == 1)
            // kubenft's table changes before the first two batches: planned again from a fresh read.
            let twice = InterferingTransport(inner: kernel) { index in
                if index < 2 { _ = try? Namespaces.nft(["add", "chain", "inet", "kubenft", "intruder-\(index)"], in: names[0]) }
            }
            #expect(try RulesetApplier(transport: twice).apply(base).mode == .incremental)
            #expect(twice.sends == 3)
            #expect(try RulesetApplier(transport: kernel).differences(base).isEmpty)
            // Before every batch: gives up after the bounded attempts, with nothing applied.
            let always = InterferingTransport(inner: kernel) { index in
                _ = try? Namespaces.nft(["add", "chain", "inet", "kubenft", "intruder-\(index)"], in: names[0])
            }
            do {
                _ = try RulesetApplier(transport: always).apply(changed)
                Issue.record("expected a concurrent-change error")
            } catch let error as NetlinkError {
                #expect(error.kind == .concurrentChange, "\(error)")
                #expect(error.message.contains("run it again") && error.message.contains("attempts"), "\(error)")
            }
            let left = try RulesetApplier(transport: kernel).differences(base)
            #expect(left.allSatisfy { $0.hasPrefix("unexpected chain intruder-") } && left.count == RulesetApplier.attempts, "\(left)")
        }
    }

    @Test("a missing namespace is reported as such")
    func missingNamespace() throws {
        do {
            _ = try NetlinkTransport(namespace: "kn-does-not-exist")
            Issue.record("opened a socket in a missing namespace")
        } catch let error as NetlinkError {
            #expect(error.kind == .missingNamespace)
        }
    }
}

/// Runs `interfere` with the batch's index just before each batch is sent: a change between
/// readback and commit.
final class InterferingTransport: RulesetTransport {
    let inner: RulesetTransport
    let interfere: (Int) -> Void
    private(set) var sends = 0

    init(inner: RulesetTransport, interfere: @escaping (Int) -> Void) {
        self.inner = inner
        self.interfere = interfere
    }

    func generation() throws(NetlinkError) -> UInt32 { try inner.generation() }
    func read(family: String, table: String) throws(NetlinkError) -> TableSnapshot? { try inner.read(family: family, table: table) }
    func send(_ batch: RulesetBatch) throws(NetlinkError) -> BatchReport {
        interfere(sends)
        sends += 1
        return try inner.send(batch)
    }
}
