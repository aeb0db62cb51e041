import Foundation
import KubeNFT
import LabKit
import Testing

/// `apply --counters` and `stats` with ClusterNetworkPolicies, with real packets: a connection a
/// CNP Deny refuses counts in that rule's `cnp-deny-…` counter, which `stats` files under the kind
/// ClusterNetworkPolicy.
@Suite("ClusterNetworkPolicy drop counters with real packets", .enabled(if: Environment.labTestsEnabled), .serialized)
struct ClusterPolicyCounterLabTests {
    @Test("a connection refused by a Baseline tier Deny counts in its counter, shown as a ClusterNetworkPolicy")
    func denyCounted() async throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "cnp-tiers" })
        try await withLab(tag: "cnp-counters") { lab in
            try NetworkPolicyLabTests.buildModel(lab, sctp: false)
            let netns = try #require(lab.namespaceName(of: Lab.node))
            let applied = try CLITests.run(["apply", "-f", fixture.manifests, "--netns", netns, "--counters"] + fixture.arguments)
            #expect(applied.status == 0, "\(applied.stderr)")
            let counter = "cnp-deny-in-baseline-deny-from-x/deny-from-x"
            let before = try DropCounterLabTests.stats(netns)
            #expect(before[counter]?.packets == 0, "\(before.keys.sorted())")
            // baseline-deny-from-x: y is isolated by no NetworkPolicy, so the Baseline tier refuses x/b.
            let probe = try lab.probe(from: "x/b", to: "10.244.1.21", port: 80, count: 3, timeoutMs: 400)
            #expect(probe.answered == 0, "\(probe)")
            let after = try DropCounterLabTests.stats(netns)
            let changed = after.keys.filter { after[$0]?.packets != before[$0]?.packets }.sorted()
            #expect(changed == [counter], "counters that moved: \(changed)")
            #expect(after[counter]?.packets == 3)
            let listing = try CLITests.run(["stats", "--netns", netns, "--format", "json"])
            let object = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [String: Any]
            let rows = try #require(object?["counters"] as? [[String: Any]])
            let row = try #require(rows.first { $0["counter"] as? String == counter }, "\(listing.stdout)")
            #expect(row["kind"] as? String == "ClusterNetworkPolicy", "\(row)")
        }
    }
}
