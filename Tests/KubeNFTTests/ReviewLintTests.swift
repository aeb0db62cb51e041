import Foundation
import KubeManifest
import KubeNFT
import Testing

/// Lint warnings of `matrix` and `diff`: selectors and names that select or name nothing.
@Suite("Review lint")
struct ReviewLintTests {
    /// One Deployment (web, port `http`); everything else names something that does not exist:
    /// api-in selects `app: api` (no such pod), web-in's peers select `app: frontend` and namespaces
    /// labelled `team: ops` (none), its ingress port `htp` is a typo of `http`; Service api selects
    /// no pod and Service web's targetPort is `htp`. web-in's egress names `http` on web: no warning.
    static let typos = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - {name: web, image: web, ports: [{name: http, containerPort: 8080}]}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec:
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: htp}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: api, namespace: shop}
    spec:
      selector: {app: api}
      ports: [{port: 80}]
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: api-in, namespace: shop}
    spec:
      podSelector: {matchLabels: {app: api}}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: web-in, namespace: shop}
    spec:
      podSelector: {matchLabels: {app: web}}
      ingress:
      - from:
        - podSelector: {matchLabels: {app: frontend}}
        - namespaceSelector: {matchLabels: {team: ops}}
        ports:
        - port: htp
      egress:
      - to:
        - podSelector: {matchLabels: {app: web}}
        ports:
        - port: http
      policyTypes: [Ingress, Egress]
    """

    static let expected = [
        "26:1: warning: NetworkPolicy shop/api-in: spec.podSelector: selects no pod, real or derived: the policy has no effect",
        "38:5: warning: NetworkPolicy shop/web-in: spec.ingress[0].from[0]: selects no pod, real or derived",
        "38:5: warning: NetworkPolicy shop/web-in: spec.ingress[0].from[1]: selects no pod, real or derived",
        "38:5: warning: NetworkPolicy shop/web-in: spec.ingress[0].ports[0].port: no selected pod defines a TCP port named htp",
        "19:1: warning: Service shop/api: spec.selector: selects no pod, real or derived: the Service has no endpoints",
        "17:11: warning: Service shop/web: spec.ports[0].targetPort: no selected pod defines a TCP port named htp",
    ]

    static func write() throws -> String {
        let directory = try OutsidePeerTests.temporaryDirectory()
        try typos.write(toFile: directory + "/typos.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    @Test("matrix warns about each selector and name that matches nothing, with file:line:column, object and field")
    func matrixWarnings() throws {
        let directory = try Self.write()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try CLITests.run(["matrix", "-f", directory + "/typos.yaml", "--ports", "80"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines == Self.expected.map { directory + "/typos.yaml:" + $0 }, "\(result.stderr)")
        let strict = try CLITests.run(["matrix", "-f", directory + "/typos.yaml", "--ports", "80", "--strict"])
        #expect(strict.status == 2)
        #expect(strict.stdout.isEmpty, "nothing printed under --strict")
    }

    @Test("matrix --output json is an object listing every cell and the lint warnings")
    func matrixJSONWarnings() throws {
        let directory = try Self.write()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/typos.yaml"
        let result = try CLITests.run(["matrix", "-f", file, "--ports", "80", "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let warnings = object?["warnings"] as? [String] ?? []
        #expect(warnings == Self.expected.map { file + ":" + $0 }, "\(warnings)")
        let cells = object?["cells"] as? [[String: Any]] ?? []
        #expect(!cells.isEmpty && cells.allSatisfy { $0["allowed"] is Bool && $0["reason"] is String })
    }

    @Test("diff lints the version under review and lists the warnings in JSON; --strict exits 2")
    func diffWarnings() throws {
        let directory = try Self.write()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/typos.yaml"
        let result = try CLITests.run(["diff", "--from", file, "--to", file, "--output", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        for line in Self.expected {
            #expect(result.stdout.contains("\"" + file + ":" + line + "\""), "\(line)")
        }
        #expect(try CLITests.run(["diff", "--from", file, "--to", file, "--strict"]).status == 2)
    }
}
