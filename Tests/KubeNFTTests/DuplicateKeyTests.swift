@testable import KubeManifest
import Testing

/// A key given twice in one mapping: the later value is used with a warning, or refused under
/// `--strict`, in YAML and JSON alike.
@Suite("duplicate keys")
struct DuplicateKeyTests {
    static let yaml = """
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata:
      name: first
      namespace: shop
      name: second
    spec:
      podSelector: {}
      ingress:
      - from:
        - ipBlock: {cidr: 10.0.0.0/8, cidr: 192.168.0.0/16}
    """

    static let json = """
    {"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "one", "labels": {"a": "1", "a": "2"}}}
    ]}
    """

    @Test("YAML: a warning naming file, line, column, object, field and key; the later value wins")
    func yamlWarning() throws {
        let result = loadManifests(Self.yaml, name: "np.yaml")
        #expect(diagnosticLines(result) == [
            "np.yaml:6:3: warning: NetworkPolicy shop/second: metadata.name: duplicate key \"name\", also at line 4, column 3; the later value is used",
            "np.yaml:11:35: warning: NetworkPolicy shop/second: spec.ingress[0].from[0].ipBlock.cidr: duplicate key \"cidr\", also at line 11, column 17; the later value is used",
        ])
        let policy = try #require(result.cluster.networkPolicies.first)
        #expect(policy.meta.name == "second")
    }

    @Test("YAML under strict: the same findings are errors")
    func yamlStrict() {
        let result = loadManifests(Self.yaml, name: "np.yaml", options: LoadOptions(strict: true))
        #expect(result.errors.count == 2)
        #expect(result.warnings.isEmpty)
        #expect(result.errors.map(\.field) == ["metadata.name", "spec.ingress[0].from[0].ipBlock.cidr"])
        #expect(result.errors.allSatisfy { !$0.reason.contains("later value") })
    }

    @Test("JSON, inside a List: warning by default, error under strict; the later value wins")
    func json() throws {
        let relaxed = loadManifests(Self.json, name: "l.json")
        #expect(diagnosticLines(relaxed) == [
            "l.json:2:94: warning: Namespace one: metadata.labels.a: duplicate key \"a\", also at line 2, column 84; the later value is used",
        ])
        #expect(relaxed.cluster.namespaces.first?.meta.labels["a"] == "2")
        let strict = loadManifests(Self.json, name: "l.json", options: LoadOptions(strict: true))
        #expect(strict.errors.map(\.location) == [SourceLocation(file: "l.json", line: 2, column: 94)])
    }

    @Test("large mappings are checked too, and a flood of duplicates is counted, not spelled out")
    func largeMappings() {
        var labels = (0..<40).map { "k\($0): v" }
        labels.append("k7: again")
        var text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n  labels:\n"
        text += labels.map { "    \($0)\n" }.joined()
        let single = loadManifests(text)
        #expect(single.warnings.map(\.field) == ["metadata.labels.k7"])
        #expect(single.cluster.namespaces.first?.meta.labels["k7"] == "again")

        let flood = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n  labels:\n" + String(repeating: "    k: v\n", count: 5_000)
        let result = loadManifests(flood)
        #expect(result.warnings.count == ManifestLoader.duplicateKeyReportLimit + 1)
        // The count is reported at the object, which sorts first.
        #expect(result.warnings.first?.reason == "\(4_999 - ManifestLoader.duplicateKeyReportLimit) more duplicate keys in this object")
    }

    @Test("keys of the List wrapper itself are checked")
    func listKeys() {
        let text = "{\"kind\": \"List\", \"items\": [], \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"x\"}}]}"
        let result = loadManifests(text, name: "w.json")
        #expect(result.warnings.map(\.field) == ["items"])
        #expect(result.cluster.namespaces.map(\.meta.name) == ["x"])
    }

    @Test("the warning reaches kubenft compile's stderr, and --strict makes it fatal")
    func commandLine() throws {
        let relaxed = try CLITests.run(["compile", "-f", "-"], stdin: Self.yaml)
        #expect(relaxed.status == 0)
        #expect(relaxed.stderr.contains("<stdin>:6:3: warning: NetworkPolicy shop/second: metadata.name: duplicate key \"name\""))
        let strict = try CLITests.run(["compile", "--strict", "-f", "-"], stdin: Self.yaml)
        #expect(strict.status == 2)
        #expect(strict.stdout.isEmpty)
        #expect(strict.stderr.contains("<stdin>:6:3: NetworkPolicy shop/second: metadata.name: duplicate key \"name\""))
    }
}
