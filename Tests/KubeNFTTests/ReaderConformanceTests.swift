import Testing
@testable import KubeManifest

/// The readers read scalars as the API server does behind kubectl: YAML through sigs.k8s.io/yaml
/// (goyaml.v2, YAML 1.1 booleans), then JSON; JSON as RFC 8259 has it.
@Suite struct ReaderConformanceTests {
    private static func pod(hostNetwork spelling: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: default}
        spec: {hostNetwork: \(spelling), containers: [{name: c}]}
        """
    }

    /// goyaml.v2's table of boolean spellings, written out by hand.
    static let spellings: [(String, Bool)] = [
        ("y", true), ("Y", true), ("yes", true), ("Yes", true), ("YES", true), ("on", true), ("On", true), ("ON", true),
        ("true", true), ("True", true), ("TRUE", true),
        ("n", false), ("N", false), ("no", false), ("No", false), ("NO", false), ("off", false), ("Off", false),
        ("OFF", false), ("false", false), ("False", false), ("FALSE", false),
    ]

    @Test("YAML 1.1 booleans in a boolean field read as the API server reads them", arguments: spellings)
    func yamlBooleans(spelling: String, expected: Bool) {
        let result = loadManifests(Self.pod(hostNetwork: spelling))
        #expect(result.diagnostics == [])
        #expect(result.cluster.pods.first?.hostNetwork == expected)
    }

    @Test("words that only look like booleans are not booleans", arguments: ["yES", "oN", "tRUE", "nO", "ye", "o", "onn"])
    func notBooleans(spelling: String) {
        let lines = diagnosticLines(loadManifests(Self.pod(hostNetwork: spelling)))
        #expect(lines == ["m.yaml:4:21: Pod default/p: spec.hostNetwork: expected a boolean, got string \"\(spelling)\""])
    }

    @Test("an unquoted YAML 1.1 boolean where a string is expected is refused, with a hint to quote it")
    func booleanInStringField() {
        let result = loadManifests("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: "y"
          labels: {ns: y, enabled: "on"}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: n}
        """)
        #expect(diagnosticLines(result) == [
            "m.yaml:5:16: Namespace y: metadata.labels.ns: expected a string, got y"
                + " (unquoted, y is a boolean, and the API server refuses a boolean here; quote it: \"y\")",
            "m.yaml:9:18: Namespace: metadata.name: expected a string, got n"
                + " (unquoted, n is a boolean, and the API server refuses a boolean here; quote it: \"n\")",
        ])
    }

    @Test("a boolean map key is the JSON text of the boolean, as sigs.k8s.io/yaml converts it")
    func booleanKeys() {
        let result = loadManifests("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: a, labels: {on: x, "off": y2}}
        """)
        #expect(result.diagnostics == [])
        #expect(result.cluster.namespaces.first?.meta.labels == ["true": "x", "off": "y2", "kubernetes.io/metadata.name": "a"])
    }

    private static func jsonService(port: String) -> (text: String, column: Int) {
        let prefix = "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"s\"}, \"spec\": {\"ports\": [{\"port\": "
        return (prefix + port + "}]}}", prefix.count + 1)
    }

    @Test("JSON numbers with leading zeros are syntax errors", arguments: ["080", "00", "-01", "01.5"])
    func jsonLeadingZeros(number: String) {
        let (text, column) = Self.jsonService(port: number)
        #expect(diagnosticLines(loadManifests(text, name: "s.json")) == [
            "s.json:1:\(column): invalid number: JSON numbers may not have leading zeros",
        ])
    }

    @Test("JSON zero is a number (here an out-of-range port), not a syntax error")
    func jsonZero() {
        let (text, column) = Self.jsonService(port: "0")
        #expect(diagnosticLines(loadManifests(text, name: "s.json")) == [
            "s.json:1:\(column): Service default/s: spec.ports[0].port: port 0 out of range 1-65535",
        ])
    }

    @Test("a YAML integer with a leading zero is refused rather than read as decimal or octal")
    func yamlLeadingZero() {
        let lines = diagnosticLines(loadManifests("""
        apiVersion: v1
        kind: Service
        metadata: {name: s}
        spec: {ports: [{port: 010}]}
        """))
        #expect(lines == [
            "m.yaml:4:23: Service default/s: spec.ports[0].port: integer 010 has a leading zero, which YAML 1.1 reads as octal; write it without one",
        ])
    }

    private static let flowDocument = "{apiVersion: v1, kind: Namespace, metadata: {name: flow}}\n"

    @Test("a .yaml file starting with { that is not JSON is read as flow-style YAML")
    func flowStyleYAML() {
        for name in ["flow.yaml", "flow.yml", "<stdin>"] {
            let result = loadManifests(Self.flowDocument, name: name)
            #expect(result.diagnostics == [], "\(name)")
            #expect(result.cluster.namespaces.map(\.meta.name) == ["flow"], "\(name)")
        }
    }

    @Test("a .json file is JSON only: flow-style YAML in it is a JSON syntax error")
    func flowStyleInJSONFile() {
        let result = loadManifests(Self.flowDocument, name: "flow.json")
        #expect(diagnosticLines(result) == ["flow.json:1:2: expected a string key"])
        #expect(result.cluster.namespaces.isEmpty)
    }

    @Test("a .yaml file that is neither valid JSON nor valid YAML reports the JSON error")
    func brokenBoth() {
        let result = loadManifests("{\"kind\": \"Namespace\",, }\n", name: "bad.yaml")
        #expect(diagnosticLines(result) == ["bad.yaml:1:22: expected a string key"])
    }

    @Test("unknown fields of policies are warnings by default and errors under strict")
    func unknownPolicyFields() {
        let text = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: np, namespace: default}
        spec:
          podSelector: {}
          ingres: [{}]
          egress: [{to: [{podSelector: {}, namespaceSelektor: {}}]}]
        ---
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: anp}
        spec:
          priority: 10
          subject: {namespaces: {}}
          ingress: [{action: Deny, from: [{namespaces: {}}], port: [{portNumber: {port: 80, protocol: TCP}}]}]
        """
        let fields = ["spec.ingres: unknown field \"ingres\"",
                      "spec.egress[0].to[0].namespaceSelektor: unknown field \"namespaceSelektor\"",
                      "spec.ingress[0].port: unknown field \"port\""]
        let lenient = loadManifests(text)
        #expect(lenient.errors == [])
        #expect(lenient.warnings.map(\.description) == [
            "m.yaml:6:3: warning: NetworkPolicy default/np: " + fields[0],
            "m.yaml:7:36: warning: NetworkPolicy default/np: " + fields[1],
            "m.yaml:15:54: warning: AdminNetworkPolicy anp: " + fields[2],
        ])
        let strict = loadManifests(text, options: LoadOptions(strict: true))
        #expect(strict.errors.map(\.description) == [
            "m.yaml:6:3: NetworkPolicy default/np: " + fields[0],
            "m.yaml:7:36: NetworkPolicy default/np: " + fields[1],
            "m.yaml:15:54: AdminNetworkPolicy anp: " + fields[2],
        ])
    }
}
