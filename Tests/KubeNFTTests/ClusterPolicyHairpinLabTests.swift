import Foundation
import KubeNFT
import LabKit
import Testing

/// The network-policy-api's hairpin rule with real packets: ClusterNetworkPolicy applies to a pod
/// reaching itself through a Service that picks it, and NetworkPolicy (as always in kubenft) lets a
/// pod reach itself. Over the np-model lab (each pod has its own Service, `10.96.1.<n>`).
@Suite("ClusterNetworkPolicy and a pod reaching itself through its Service", .enabled(if: Environment.labTestsEnabled), .serialized)
struct ClusterPolicyHairpinLabTests {
    /// Whether each pod reaches itself through its Service, with `scenario`'s policies loaded.
    static func hairpins(_ scenario: String, pods: [String]) async throws -> [String: Bool] {
        try await NetworkPolicyLabTests.withModel(policies: PolicyScenario.root + "/" + scenario + "/policies.yaml", tag: "cnp-hairpin") { lab in
            var reached: [String: Bool] = [:]
            for id in pods {
                let pod = try #require(ModelPod.all.first { $0.id == id })
                let probe = try lab.probe(from: pod.id, to: pod.serviceV4, port: 80, count: 2, timeoutMs: 700)
                reached[id] = probe.answered > 0
            }
            return reached
        }
    }

    @Test("an Admin tier Deny that covers the pod itself blocks its hairpin; pods it does not cover keep theirs")
    func clusterPolicyAppliesToHairpin() async throws {
        // deny-all-into-x (Admin, from every namespace) covers x/a reaching itself; y is no subject.
        let reached = try await Self.hairpins("cnp-pass-to-networkpolicy", pods: ["x/a", "y/a"])
        #expect(reached == ["x/a": false, "y/a": true])
    }

    @Test("a v1alpha1 AdminNetworkPolicy Deny and a NetworkPolicy that do not allow the pod itself leave its hairpin open")
    func otherPoliciesLeaveHairpinOpen() async throws {
        // deny-all-to-x (v1alpha1, from every namespace) and x/allow-from-y (only y) both cover
        // x/a reaching itself; neither applies to a hairpin.
        let reached = try await Self.hairpins("anp-pass-to-networkpolicy", pods: ["x/a"])
        #expect(reached == ["x/a": true])
    }

    @Test("the same through the iptables form (ct status dnat is the conntrack match's DNAT state)", arguments: IPTablesBackend.allCases)
    func throughIPTables(_ backend: IPTablesBackend) async throws {
        guard try IPTablesTools.available() else { return }
        try await RulesetForm.$current.withValue(.iptables(backend)) {
            let reached = try await Self.hairpins("cnp-pass-to-networkpolicy", pods: ["x/a", "y/a"])
            #expect(reached == ["x/a": false, "y/a": true])
        }
    }
}
