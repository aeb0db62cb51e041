import Foundation
import KubeNFT
import Testing

/// `kubenft diff` on repository edits whose effect lies outside the pods the repository holds: the
/// gate must not pass them as "no changes".
@Suite("diff: changes beyond the input")
struct GateAuditTests {
    static let workloads = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: nginx
                ports: [{name: http, containerPort: 8080}]
        """

    static func policy(namespace: String, body: String) -> String {
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p, namespace: \(namespace)}
        spec:
        \(body)
        """
    }

    static let fromEdge = """
          podSelector: {matchLabels: {app: web}}
          policyTypes: [Ingress]
          ingress:
          - from: [{namespaceSelector: {matchLabels: {team: edge}}}]
        """

    /// Runs `diff` between two directories holding `before` and `after` (one file each).
    static func diff(_ before: String, _ after: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let root = NSTemporaryDirectory() + "kubenft-gate-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for (side, text) in [("before", before), ("after", after)] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(side)", withIntermediateDirectories: true)
            try text.write(toFile: "\(root)/\(side)/manifests.yaml", atomically: true, encoding: .utf8)
        }
        return try CLITests.run(["diff", "--from", root + "/before", "--to", root + "/after", "--node-name", "node-1"] + extra)
    }

    @Test("a namespaceSelector moved to a namespace the repository does not declare is a change")
    func namespaceSelectorOutsideInput() throws {
        let before = Self.workloads + "\n---\n" + Self.policy(namespace: "shop", body: Self.fromEdge)
        let after = before.replacingOccurrences(of: "team: edge", with: "team: ingress")
        let result = try Self.diff(before, after)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout != "no changes\n")
        #expect(result.stderr.contains("NetworkPolicy shop/p: spec: changed"), "\(result.stderr)")
        let gate = try Self.diff(before, after, ["--fail-on", "added"])
        #expect(gate.status == 1, "an unchecked change may allow: \(gate.stdout)")
        let strict = try Self.diff(before, after, ["--strict"])
        #expect(strict.status == 2)
        let same = try Self.diff(before, before + "\n")
        #expect(same.status == 0 && same.stdout == "no changes\n", "\(same.stdout)")
    }

    @Test("a policy added for a namespace with no pod in the repository is a change")
    func policyInOtherNamespace() throws {
        // The repository already has a policy, so the ruleset holds the policy chains either way.
        let before = Self.workloads + "\n---\n" + Self.policy(namespace: "shop", body: "  podSelector: {}\n  policyTypes: [Ingress]")
        let after = before + "\n---\n" + Self.policy(namespace: "payments", body: "  podSelector: {}\n  policyTypes: [Ingress, Egress]")
        let result = try Self.diff(before, after, ["--output", "json"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\"changed\": true"), "\(result.stdout)")
        #expect(result.stdout.contains("NetworkPolicy payments/p: spec: added"), "\(result.stdout)")
        let markdown = try Self.diff(before, after, ["--output", "markdown", "--fail-on", "removed"])
        #expect(markdown.status == 1)
        #expect(markdown.stdout.contains("Policies changed beyond the input"), "\(markdown.stdout)")
    }
}

extension GateAuditTests {
    static func admin(_ name: String, priority: Int, team: String) -> String {
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: \(name)}
        spec:
          priority: \(priority)
          subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: \(team)}}}
          ingress:
          - {name: deny, action: Deny, from: [{namespaces: {}}]}
        """
    }

    @Test("an AdminNetworkPolicy added for a namespace with no pod in the repository is a change")
    func adminPolicyOutsideInput() throws {
        // The repository already has an admin policy for its own namespace: the admin chains exist either way.
        let before = Self.workloads + "\n---\n" + Self.admin("shop-deny", priority: 20, team: "shop")
        let after = before + "\n---\n" + Self.admin("payments-deny", priority: 10, team: "payments")
        let result = try Self.diff(before, after, ["--fail-on", "added"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("AdminNetworkPolicy payments-deny: spec: added"), "\(result.stderr)")
    }
}

extension GateAuditTests {
    static func clusterPolicy(_ peers: String) -> String {
        """
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: egress-allowlist}
        spec:
          tier: Admin
          priority: 10
          subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: shop}}}
          egress:
          - {name: allow, action: Accept, to: [\(peers)]}
          - {name: deny-rest, action: Deny, to: [{networks: [0.0.0.0/0]}]}
        """
    }

    @Test("a ClusterNetworkPolicy's domainNames added or changed is a change the gate cannot check")
    func domainNamesChange() throws {
        let namespace = "\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}"
        let before = Self.workloads + namespace + "\n---\n" + Self.clusterPolicy("{namespaces: {}}")
        let after = Self.workloads + namespace + "\n---\n" + Self.clusterPolicy("{namespaces: {}}, {domainNames: [api.example.com]}")
        let result = try Self.diff(before, after, ["--fail-on", "added"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("ClusterNetworkPolicy egress-allowlist: spec: changed, and after the change spec.egress[0] holds what kubenft cannot compile (to[1]: domainNames api.example.com)"),
                "\(result.stderr)")
        let renamed = try Self.diff(after, after.replacingOccurrences(of: "api.example.com", with: "\"*.example.com\""), ["--fail-on", "added"])
        #expect(renamed.status == 1, "a different domain may allow: \(renamed.stdout)\(renamed.stderr)")
    }
}

/// Declared objects kubenft reads but cannot review are named, never dropped silently.
@Suite("Derivation: pods that are not reviewed")
struct UnaddressedPodTests {
    static func pod(_ name: String, status: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), namespace: shop, labels: {app: web}}
        spec:
          containers: [{name: d, image: busybox}]
        \(status)
        """
    }

    @Test("an exported Pod with a status and no podIP is a warning naming it; a finished one and a plain one are not")
    func exportedPendingPod() throws {
        let text = [Self.pod("pending", status: "status: {phase: Pending}"), Self.pod("done", status: "status: {phase: Succeeded}"),
                    Self.pod("declared", status: "")].joined(separator: "\n---\n")
        let result = try RepositoryModelTests.run(text)
        let named = result.warnings.filter { $0.field == "status.podIP" }
        #expect(named.map(\.object) == ["Pod shop/pending"], "\(result.diagnostics)")
        #expect(named.first?.location.line == 1)
        #expect(result.cluster.pods.filter { !$0.podIPs.isEmpty }.map(\.meta.name) == ["declared"])
    }
}

/// The shadowed-policy lint claims "removing it changes no connection": never for a policy that
/// allows peers the input does not hold.
@Suite("Shadowing: peers outside the input")
struct ShadowOutsideTests {
    @Test("a policy admitting a namespace the repository does not declare is not called shadowed")
    func namespaceOutsideInput() throws {
        let deny = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny, namespace: shop}
            spec: {podSelector: {}, policyTypes: [Ingress]}
            """
        let edge = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: web-from-edge, namespace: shop}
            spec:
              podSelector: {matchLabels: {app: web}}
              ingress:
              - from: [{namespaceSelector: {matchLabels: {team: edge}}}]
            """
        let text = GateAuditTests.workloads + "\n---\n" + deny + "\n---\n" + edge
        let result = try RepositoryModelTests.run(text)
        #expect(result.errors.isEmpty, "\(result.errors)")
        let lint = Review.lint(result, strict: false)
        #expect(lint.contains { $0.object == "NetworkPolicy shop/web-from-edge" && $0.field == "spec.ingress[0].from[0]" }, "\(lint)")
        #expect(!lint.contains { $0.reason.contains("shadowed") }, "\(lint)")
    }
}

/// Files of a manifest directory are read whatever the case of their extension.
@Suite("diff: manifest files in a directory")
struct ManifestFileCaseTests {
    @Test("a policy in a .YAML file is read, so adding it is a change")
    func upperCaseExtension() throws {
        let root = NSTemporaryDirectory() + "kubenft-case-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for side in ["before", "after"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(side)", withIntermediateDirectories: true)
            try GateAuditTests.workloads.write(toFile: "\(root)/\(side)/app.yaml", atomically: true, encoding: .utf8)
        }
        let deny = GateAuditTests.policy(namespace: "shop", body: "  podSelector: {}\n  policyTypes: [Ingress]")
        try deny.write(toFile: "\(root)/after/deny.YAML", atomically: true, encoding: .utf8)
        let result = try CLITests.run(["diff", "--from", root + "/before", "--to", root + "/after", "--node-name", "node-1", "--fail-on", "removed"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("- blocked  outside:0.0.0.0/0 -> shop/web[Deployment] tcp/8080"), "\(result.stdout)")
    }
}
