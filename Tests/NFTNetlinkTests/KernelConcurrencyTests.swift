import Foundation
import LabKit
import NFTNetlink
import NFTRuleset
import Synchronization
import Testing

/// Reading and applying while another process commits to its own table several times a second,
/// as a node's other nftables users do.
@Suite("Applying while others commit", .enabled(if: Environment.labTestsEnabled))
struct KernelConcurrencyTests {
    /// Commits to a bystander table every `interval` seconds until stopped; counts its commits.
    final class Bystander: Sendable {
        let namespace: String
        let stopped = Atomic<Bool>(false)
        let commits = Atomic<Int>(0)

        init(namespace: String) { self.namespace = namespace }

        func start(interval: TimeInterval) -> Thread {
            let thread = Thread { [self] in
                var index = 0
                while !stopped.load(ordering: .relaxed) {
                    index += 1
                    let command = index % 2 == 0 ? "add table ip bystander\nadd chain ip bystander c\(index)\n" : "delete table ip bystander\n"
                    if (try? Namespaces.nft(["-f", "-"], in: namespace, stdin: index == 1 ? "add table ip bystander\n" : command)) != nil {
                        commits.add(1, ordering: .relaxed)
                    }
                    Thread.sleep(forTimeInterval: interval)
                }
            }
            thread.start()
            return thread
        }
    }

    @Test("20 applies and verifies of a 1000 × 10 table all succeed while a bystander commits every 0.2 s")
    func busyNeighbour() throws {
        let base = try SyntheticCluster.compile(services: 1000, endpoints: 10)
        let changed = try SyntheticCluster.compile(services: 1000, endpoints: 10, notReady: [4321])
        try Namespaces.with { names in
            _ = try RulesetApplier(transport: try NetlinkTransport(namespace: names[0])).apply(base)
            let bystander = Bystander(namespace: names[0])
            _ = bystander.start(interval: 0.2)
            defer { bystander.stopped.store(true, ordering: .relaxed) }
            var failures: [String] = []
            let started = Date()
            for run in 0..<20 {
                let desired = run % 2 == 0 ? changed : base
                do {
                    // A new transport per run, as a new `kubenft` process would open.
                    let applier = RulesetApplier(transport: try NetlinkTransport(namespace: names[0]))
                    let outcome = try applier.apply(desired)
                    if outcome.mode != .incremental { failures.append("run \(run): apply \(outcome.mode)") }
                    let differences = try RulesetApplier(transport: try NetlinkTransport(namespace: names[0])).differences(desired)
                    if !differences.isEmpty { failures.append("run \(run): verify \(differences.prefix(3))") }
                } catch {
                    failures.append("run \(run): \(error)")
                }
            }
            let seconds = Date().timeIntervalSince(started)
            let commits = bystander.commits.load(ordering: .relaxed)
            #expect(Double(commits) / seconds >= 3, "the bystander committed \(commits) times in \(seconds) s")
            #expect(failures.isEmpty, "\(failures.count) of 20 runs failed: \(failures.prefix(5))")
        }
    }
}
