import Foundation
import KubeNFT
import LabKit
import Testing

/// The three ClusterNetworkPolicy tiers around a NetworkPolicy, with real packets over the np-model
/// lab: an Admin tier Deny wins over a NetworkPolicy allow, an Admin tier Pass hands the connection
/// to the NetworkPolicy, and a Baseline tier Deny gives way to a NetworkPolicy that isolates the pod.
@Suite("ClusterNetworkPolicy tiers and a NetworkPolicy with real packets", .enabled(if: Environment.labTestsEnabled), .serialized)
struct ClusterPolicyTierLabTests {
    /// `x/allow-from-y-z` admits every pod of `y` and `z` into `x`; the Admin tier passes `y/b` on
    /// (priority 5) and denies the rest of `y` (priority 10); the Baseline tier denies `z` everywhere.
    static let policies = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: allow-from-y-z, namespace: x}
        spec:
          podSelector: {}
          ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: ["y", z]}]}}]}]
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: pass-y-b}
        spec:
          tier: Admin
          priority: 5
          subject: {namespaces: {matchLabels: {ns: x}}}
          ingress: [{name: pass, action: Pass, from: [{pods: {namespaceSelector: {matchLabels: {ns: "y"}}, podSelector: {matchLabels: {pod: b}}}}]}]
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: deny-y}
        spec:
          tier: Admin
          priority: 10
          subject: {namespaces: {matchLabels: {ns: x}}}
          ingress: [{name: deny, action: Deny, from: [{namespaces: {matchLabels: {ns: "y"}}}]}]
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: baseline-deny-z}
        spec:
          tier: Baseline
          priority: 10
          subject: {namespaces: {}}
          ingress: [{name: deny, action: Deny, from: [{namespaces: {matchLabels: {ns: z}}}]}]
        """

    @Test("Admin Deny over a NetworkPolicy allow, Admin Pass to it, Baseline Deny under it")
    func tiers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-cnp-tiers-lab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("policies.yaml")
        try Self.policies.write(to: file, atomically: true, encoding: .utf8)
        // Written from the API's tier order, not computed by kubenft.
        let expected: [(from: String, to: String, reached: Bool, why: String)] = [
            ("y/c", "x/a", false, "Admin Deny wins over the NetworkPolicy allow"),
            ("y/a", "x/b", false, "Admin Deny wins over the NetworkPolicy allow"),
            ("y/b", "x/a", true, "Admin Pass hands it to the NetworkPolicy, which allows"),
            ("z/a", "x/a", true, "x is isolated by a NetworkPolicy that allows z: the Baseline Deny does not apply"),
            ("z/a", "y/a", false, "y is isolated by no NetworkPolicy: the Baseline Deny applies"),
            ("x/a", "y/b", true, "no policy covers it"),
        ]
        try await NetworkPolicyLabTests.withModel(policies: file.path, tag: "cnp-tiers") { lab in
            for flow in expected {
                let target = try #require(ModelPod.all.first { $0.id == flow.to })
                let probe = try lab.probe(from: flow.from, to: target.podV4, port: 80, count: 2, timeoutMs: 700)
                #expect((probe.answered > 0) == flow.reached, "\(flow.from) -> \(flow.to): \(flow.why); \(probe)")
            }
        }
    }
}
