import Foundation
import KubeManifest
import KubeNFT
import NFTTrace
import Testing

/// Connection verdicts from the upstream NetworkPolicy e2e suite (test/e2e/network/netpol) and the
/// network-policy-api conformance tests, over the same model (`fixtures/np-model`: namespaces x, y,
/// z with pods a, b, c on node-1, all pod IPs in 10.244.1.0/24). Each expected verdict is the one
/// upstream states for the case, written here by hand, not computed by kubenft.
///
/// Besides the model, every case sees `node-2` (198.51.100.2) with pod `y/r` (10.244.2.5), and two
/// hostNetwork pods labelled `pod: h`: `x/h` on node-1 (the node's own address 198.51.100.1) and
/// `x/h2` on node-2, and pod `w/q` (10.244.1.90) in a namespace with no Namespace object.
@Suite("Upstream NetworkPolicy and AdminNetworkPolicy verdicts")
struct UpstreamPolicyCaseTests {
    /// One probed connection: `from` and `to` as `trace` reads them, and whether upstream allows it.
    struct Probe: Sendable {
        var from: String
        var to: String
        var port: UInt16
        var transport: L4Protocol
        var allowed: Bool
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var policies: String
        var probes: [Probe]
        var description: String { name }
    }

    static func allow(_ from: String, _ to: String, _ port: UInt16 = 80, _ transport: L4Protocol = .tcp) -> Probe {
        Probe(from: from, to: to, port: port, transport: transport, allowed: true)
    }

    static func deny(_ from: String, _ to: String, _ port: UInt16 = 80, _ transport: L4Protocol = .tcp) -> Probe {
        Probe(from: from, to: to, port: port, transport: transport, allowed: false)
    }

    static let extraObjects = """
        apiVersion: v1
        kind: Node
        metadata: {name: node-2}
        spec: {podCIDR: 10.244.2.0/24, podCIDRs: [10.244.2.0/24]}
        status: {addresses: [{type: InternalIP, address: 198.51.100.2}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: r, namespace: "y", labels: {pod: r}}
        spec:
          nodeName: node-2
          containers: [{name: c, image: i, ports: [{name: serve-80-tcp, containerPort: 80, protocol: TCP}]}]
        status: {phase: Running, podIP: 10.244.2.5, podIPs: [{ip: 10.244.2.5}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: h, namespace: x, labels: {pod: h}}
        spec:
          nodeName: node-1
          hostNetwork: true
          containers: [{name: c, image: i, ports: [{name: serve-80-tcp, containerPort: 80, protocol: TCP}]}]
        status: {phase: Running, podIP: 198.51.100.1, podIPs: [{ip: 198.51.100.1}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: h2, namespace: x, labels: {pod: h}}
        spec:
          nodeName: node-2
          hostNetwork: true
          containers: [{name: c, image: i, ports: [{name: serve-80-tcp, containerPort: 80, protocol: TCP}]}]
        status: {phase: Running, podIP: 198.51.100.2, podIPs: [{ip: 198.51.100.2}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: q, namespace: w, labels: {pod: q}}
        spec:
          nodeName: node-1
          containers: [{name: c, image: i, ports: [{name: serve-80-tcp, containerPort: 80, protocol: TCP}]}]
        status: {phase: Running, podIP: 10.244.1.90, podIPs: [{ip: 10.244.1.90}]}
        """

    /// A NetworkPolicy in `namespace` with the given `spec` lines.
    static func np(_ name: String, _ spec: String, in namespace: String = "x") -> String {
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: \(name), namespace: \"\(namespace)\"}\nspec:\n"
            + spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    /// An AdminNetworkPolicy (or, with `priority` nil, the BaselineAdminNetworkPolicy `default`).
    static func admin(_ name: String, priority: Int?, _ spec: String) -> String {
        let head = priority.map { "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: \(name)}\nspec:\n  priority: \($0)\n" }
            ?? "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n"
        return head + spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    static func compile(_ policies: String) throws -> PipelineResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-upstream-np-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("policies.yaml")
        try (extraObjects + "\n---\n" + policies + "\n").write(to: file, atomically: true, encoding: .utf8)
        let node = NodeOptions(nodeName: "node-1", clusterCIDRs: ["10.244.0.0/16", "fd00:10:244::/56"])
        let result = Pipeline.run(paths: [Fixtures.root + "/np-model/manifests", file.path], node: node)
        #expect(result.errors.isEmpty, "\(result.errors)")
        return result
    }

    static func check(_ flow: Case) throws {
        let result = try compile(flow.policies)
        for probe in flow.probes {
            let traced = try trace(probe.from, probe.to, port: probe.port, transport: probe.transport, in: result)
            #expect(traced.allowed == probe.allowed,
                    "\(flow.name): \(probe.from) -> \(probe.to) \(probe.transport)/\(probe.port) expected \(probe.allowed ? "allowed" : "denied")\n\(traced.text)")
        }
    }

    /// Whether the compiled ruleset allows the connection for certain, traced as `trace` does, with
    /// the trace's text for the failure message.
    static func trace(_ from: String, _ to: String, port: UInt16, transport: L4Protocol, in result: PipelineResult) throws -> (allowed: Bool, text: String) {
        let source = try #require(TraceEndpoint(from)), destination = try #require(TraceEndpoint(to))
        let report = try Review.trace(TraceQuery(from: source, to: destination, port: port, transport: transport), in: result)
        return (report.result.acceptProbability > 0.999_999, report.text)
    }

    /// Upstream's API server accepts rules of a direction that an explicit `policyTypes` leaves out
    /// and never enforces them (the "policyTypes [Egress] with ingress rules" case above): kubenft
    /// reads them, so it must say it does not honour them.
    @Test("rules of a direction policyTypes leaves out are warned about")
    func unenforcedRulesAreWarned() {
        let text = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {}
              policyTypes: [Egress]
              ingress: [{from: [{podSelector: {}}]}]
              egress: [{}]
            """
        #expect(diagnosticLines(loadManifests(text)) == [
            "m.yaml:7:12: warning: NetworkPolicy x/p: spec.ingress: these rules are not enforced: spec.policyTypes does not list Ingress",
        ])
        let defaulted = text.replacingOccurrences(of: "  policyTypes: [Egress]\n", with: "")
        #expect(diagnosticLines(loadManifests(defaulted)).isEmpty)
        let empty = text.replacingOccurrences(of: "ingress: [{from: [{podSelector: {}}]}]", with: "ingress: []")
        #expect(diagnosticLines(loadManifests(empty)).isEmpty)
    }
}

extension UpstreamPolicyCaseTests {
    /// NetworkPolicy and AdminNetworkPolicy do not apply to hostNetwork pods (the "policy selecting
    /// hostNetwork pods" case above allows everything): a policy that selects only such pods is
    /// read and not honoured, so the review says so; a Service selecting them still has endpoints.
    @Test("a policy selecting only hostNetwork pods is warned about; a Service selecting them is not")
    func hostNetworkOnlySelectionIsWarned() throws {
        let result = try Self.compile(Self.np("deny-h", "podSelector: {matchLabels: {pod: h}}\npolicyTypes: [Ingress, Egress]")
            + "\n---\n" + Self.admin("admin-h", priority: 3, "subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: h}}}}\ningress: [{name: deny-all, action: Deny, from: [{namespaces: {}}]}]")
            + "\n---\napiVersion: v1\nkind: Service\nmetadata: {name: host, namespace: x}\nspec:\n  selector: {pod: h}\n  ports: [{port: 80}]")
        let lines = Review.lint(result, strict: false).map { "\($0.object ?? "") \($0.field): \($0.reason)" }
        #expect(lines.contains("NetworkPolicy x/deny-h spec.podSelector: selects only hostNetwork pods, which policies do not apply to: the policy has no effect"), "\(lines)")
        #expect(lines.contains("AdminNetworkPolicy admin-h spec.subject: selects only hostNetwork pods, which policies do not apply to: the policy has no effect"), "\(lines)")
        #expect(!lines.contains { $0.hasPrefix("Service x/host") }, "\(lines)")
    }
}
