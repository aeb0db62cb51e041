import Foundation
import KubeManifest
@testable import KubeNFT
import Testing

/// The shadowed-policy lint: a NetworkPolicy whose removal changes no connection of its pods.
@Suite("Shadowed policies")
struct ShadowedPolicyTests {
    /// Three Deployments in `shop`: web (port 8080 named http), api and db, no declared ports.
    static let workloads = ["web", "api", "db"].map { name in
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: \(name), namespace: shop}
        spec:
          selector: {matchLabels: {app: \(name)}}
          template:
            metadata: {labels: {app: \(name)}}
            spec:
              containers:
              - {name: \(name), image: \(name)\(name == "web" ? ", ports: [{name: http, containerPort: 8080}]" : "")}
        """
    }.joined(separator: "\n---\n")

    /// A NetworkPolicy selecting web with one ingress rule from the `app` values on the ports.
    static func ingressToWeb(_ name: String, from apps: [String], ports: [String]) -> String {
        var text = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: \(name), namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress:
          - from:

        """
        text += apps.map { $0 == "*" ? "    - podSelector: {}\n" : "    - podSelector: {matchLabels: {app: \($0)}}\n" }.joined()
        if !ports.isEmpty { text += "    ports:\n" + ports.map { "    - port: \($0)\n" }.joined() }
        return text
    }

    /// An AdminNetworkPolicy on web's ingress from api with the action.
    static func admin(_ action: String) -> String {
        """
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: api-to-web}
        spec:
          priority: 10
          subject:
            pods:
              namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: shop}}
              podSelector: {matchLabels: {app: web}}
          ingress:
          - name: api
            action: \(action)
            from:
            - pods:
                namespaceSelector: {}
                podSelector: {matchLabels: {app: api}}
        """
    }

    /// The cluster of the workloads and `documents`, through the pipeline.
    static func pipeline(_ documents: [String]) throws -> PipelineResult {
        let directory = try OutsidePeerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/cluster.yaml"
        try ([workloads] + documents).joined(separator: "\n---\n").write(toFile: path, atomically: true, encoding: .utf8)
        return Pipeline.run(paths: [path], node: NodeOptions())
    }

    @Test("above its budget the check is skipped with a warning that says so, never silently")
    func budget() throws {
        let result = try Self.pipeline([
            Self.ingressToWeb("web-from-api", from: ["api"], ports: ["8080"]),
            Self.ingressToWeb("web-from-shop", from: ["*"], ports: []),
        ])
        let small = ShadowCheck(result, index: LintIndex(result.cluster), budget: .init(traces: 10, compiledObjects: 1_000_000))
        let warnings = small.diagnostics().map(\.description)
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("lint: shadowed-policy check skipped: 2 candidate policies over 3 pods") == true, "\(warnings)")
        let generous = ShadowCheck(result, index: LintIndex(result.cluster))
        #expect(generous.diagnostics().map(\.reason).allSatisfy { $0.hasPrefix("shadowed by") })
    }

    /// The shadowed-policy warnings of the lint of `documents` (with the workloads), as `object: reason`.
    static func shadowWarnings(_ documents: [String], strict: Bool = false) throws -> [String] {
        let directory = try OutsidePeerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/cluster.yaml"
        try ([workloads] + documents).joined(separator: "\n---\n").write(toFile: path, atomically: true, encoding: .utf8)
        let result = Pipeline.run(paths: [path], node: NodeOptions())
        #expect(result.errors.isEmpty, "\(result.errors)")
        return Review.lint(result, strict: strict).filter { $0.reason.contains("shadow") }.map { "\($0.object ?? ""): \($0.reason)" }
    }

    @Test("a policy whose peers and ports a broader policy covers is shadowed by it; the broader one is not")
    func broaderPolicyShadows() throws {
        let warnings = try Self.shadowWarnings([
            Self.ingressToWeb("web-from-api", from: ["api"], ports: ["8080"]),
            Self.ingressToWeb("web-from-shop", from: ["*"], ports: []),
        ])
        #expect(warnings == ["NetworkPolicy shop/web-from-api: shadowed by NetworkPolicy shop/web-from-shop: "
                                + "removing it changes no connection of the 1 pod it selects"])
    }

    @Test("a policy that allows one more port, even one no container declares, is not shadowed")
    func extraPort() throws {
        let warnings = try Self.shadowWarnings([
            Self.ingressToWeb("web-from-api", from: ["api"], ports: ["8080"]),
            Self.ingressToWeb("web-from-api-wide", from: ["api"], ports: ["8080", "9090"]),
        ])
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("NetworkPolicy shop/web-from-api: shadowed by NetworkPolicy shop/web-from-api-wide:") == true, "\(warnings)")
    }

    @Test("a policy that allows one more peer is not shadowed; a named port counts as the port it names")
    func extraPeer() throws {
        let warnings = try Self.shadowWarnings([
            Self.ingressToWeb("web-from-api", from: ["api"], ports: ["http"]),
            Self.ingressToWeb("web-from-api-db", from: ["api", "db"], ports: ["8080"]),
        ])
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("NetworkPolicy shop/web-from-api: shadowed by NetworkPolicy shop/web-from-api-db:") == true, "\(warnings)")
    }

    @Test("a default deny is never shadowed, and the one policy that allows a connection is not either")
    func defaultDenyIsNotShadowed() throws {
        let denyAll = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny-all, namespace: shop}
        spec:
          podSelector: {}
          policyTypes: [Ingress]
        """
        #expect(try Self.shadowWarnings([denyAll, Self.ingressToWeb("web-from-api", from: ["api"], ports: ["8080"])]).isEmpty)
    }

    @Test("an AdminNetworkPolicy Deny above decides what the policy allows: shadowed by it; a Pass hands it down: not shadowed")
    func adminTiers() throws {
        let policies = [Self.ingressToWeb("web-from-api", from: ["api"], ports: ["8080"]), Self.ingressToWeb("web-from-db", from: ["db"], ports: [])]
        let denied = try Self.shadowWarnings(policies + [Self.admin("Deny")])
        #expect(denied == ["NetworkPolicy shop/web-from-api: shadowed by AdminNetworkPolicy api-to-web, NetworkPolicy shop/web-from-db: "
                              + "removing it changes no connection of the 1 pod it selects"])
        #expect(try Self.shadowWarnings(policies + [Self.admin("Pass")]).isEmpty)
    }

    @Test("--strict makes a shadowed policy an error")
    func strict() throws {
        let policies = [Self.ingressToWeb("web-from-api", from: ["api"], ports: ["8080"]), Self.ingressToWeb("web-from-shop", from: ["*"], ports: [])]
        let directory = try OutsidePeerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/cluster.yaml"
        try ([Self.workloads] + policies).joined(separator: "\n---\n").write(toFile: path, atomically: true, encoding: .utf8)
        let json = try CLITests.run(["diff", "--from", path, "--to", path, "--output", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains("NetworkPolicy shop/web-from-api: spec: shadowed by NetworkPolicy shop/web-from-shop"), "\(json.stdout)")
        let strict = try CLITests.run(["matrix", "-f", path, "--strict"])
        #expect(strict.status == 2)
        #expect(strict.stderr.contains("cluster.yaml:34:1: NetworkPolicy shop/web-from-api: spec: shadowed by"), "\(strict.stderr)")
        #expect(!strict.stderr.contains("warning:"), "\(strict.stderr)")
        #expect(strict.stdout.isEmpty)
    }

    /// The merged real-world cases put alternative recipes side by side in one namespace, so some
    /// policies do shadow others there. Derived by hand from the manifests:
    /// - real-k8s-examples: allow-all-egress and allow-egress-deny-ingress both allow all egress of
    ///   every pod (each shadows the other, and multi-port-egress and test-network-policy's egress);
    ///   allow-all-ingress allows all ingress of every pod (shadows access-nginx and
    ///   test-network-policy's ingress).
    /// - real-np-recipes: default-deny-all-egress isolates every `default` pod's egress with no rule,
    ///   so nothing a `default` pod sends gets out and deny-from-other-namespaces (which allows only
    ///   `default` pods) changes nothing; it in turn already allows what api-allow, api-allow-5000 and
    ///   redis-allow-services allow (`default` pods); web-allow-all and web-allow-external allow every
    ///   source to web (each shadows the other and the narrower web-allow-*); foo-deny-egress and
    ///   foo-deny-external-egress are the same policy under two names.
    /// Default denies (default-deny-all, web-deny-all...) allow nothing and are never reported.
    static let mergedFindings: [String: [String]] = [
        "real-k8s-examples": ["access-nginx", "allow-all-egress", "allow-egress-deny-ingress", "multi-port-egress", "test-network-policy"],
        "real-np-recipes": ["api-allow", "api-allow-5000", "deny-from-other-namespaces", "foo-deny-egress", "foo-deny-external-egress",
                            "redis-allow-services", "web-allow-all", "web-allow-all-namespaces", "web-allow-all-ns-monitoring",
                            "web-allow-external", "web-allow-prod"],
    ]

    @Test("the real-world and repository fixtures have no shadowed policy but the ones their merged recipes make", arguments: Fixtures.valid.filter {
        $0.name.hasPrefix("real-") || $0.name.hasPrefix("repo-") || $0.name == "demo" || $0.name == "admin-policies"
    }.map(\.name))
    func realWorld(_ name: String) throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == name })
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        let shadowed = Review.lint(result, strict: false).filter { $0.reason.hasPrefix("shadowed") }.compactMap(\.object)
        #expect(shadowed == (Self.mergedFindings[name] ?? []).map { "NetworkPolicy default/" + $0 })
    }

    @Test("each network-policy recipe, applied alone to its cluster, shadows nothing")
    func recipesAlone() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "real-np-recipes" })
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.manifests).filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("zz-") }
        #expect(files.count > 10)
        for file in files.sorted() {
            let result = Pipeline.run(paths: [fixture.manifests + "/" + file, fixture.manifests + "/zz-cluster-state.yaml"], node: fixture.nodeOptions)
            #expect(!Review.lint(result, strict: false).contains { $0.reason.hasPrefix("shadowed") }, "\(file)")
        }
    }
}
