import Foundation
import Testing
@testable import KubeManifest

@Suite("Manifest reading")
struct ManifestReadingTests {
    @Test func kubectlListAndTypedLists() throws {
        let result = loadManifests("""
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Namespace
          metadata: {name: shop}
        - apiVersion: v1
          kind: ServiceAccount
          metadata: {name: skipped}
        ---
        apiVersion: v1
        kind: ServiceList
        metadata: {resourceVersion: "1"}
        items:
        - metadata: {name: a, namespace: shop}
          spec: {ports: [{port: 80}]}
        - metadata: {name: b, namespace: shop}
          spec: {ports: [{port: 70000}]}
        """)
        #expect(diagnosticLines(result) == [
            "m.yaml:7:3: warning: kind: kind \"ServiceAccount\" (\"v1\") is not used by kubenft: 1 object skipped",
            "m.yaml:18:25: Service shop/b: spec.ports[0].port: port 70000 out of range 1-65535",
        ])
        #expect(result.cluster.namespaces.map(\.meta.name) == ["shop"])
        #expect(result.cluster.services.map(\.meta.name) == ["a", "b"])
    }

    @Test func multiDocumentYAMLSkipsEmptyAndOtherKinds() {
        let result = loadManifests("""
        ---
        # only a comment
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: c}
        data: {a: b}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: one}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: two}
        ...
        """)
        #expect(diagnosticLines(result) == ["m.yaml:4:1: warning: kind: kind \"ConfigMap\" (\"v1\") is not used by kubenft: 1 object skipped"])
        #expect(result.cluster.namespaces.map(\.meta.name) == ["one", "two"])
    }

    @Test func jsonMatchesYAML() throws {
        let yaml = loadManifests("""
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: x, annotations: {note: "caf\\u00e9-\\U0001F600"}}
        spec:
          clusterIP: 10.96.0.5
          selector: {app: web}
          ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: x}
        """)
        let objects = """
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "web", "namespace": "x", "annotations": {"note": "caf\\u00e9-\\ud83d\\ude00"}},
         "spec": {"clusterIP": "10.96.0.5", "selector": {"app": "web"},
                  "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]}}
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}
        """
        let concatenated = loadManifests(objects, name: "m.json")
        let list = loadManifests("{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[\(objects.replacingOccurrences(of: "}}\n{", with: "}},\n{"))]}", name: "m.json")
        let array = loadManifests("[\(objects.replacingOccurrences(of: "}}\n{", with: "}},\n{"))]", name: "m.json")
        for result in [yaml, concatenated, list, array] {
            #expect(result.diagnostics == [])
            #expect(result.cluster.services.first?.meta.annotations["note"] == "café-😀")
        }
        #expect(withoutLocations(yaml.cluster) == withoutLocations(concatenated.cluster))
        #expect(withoutLocations(concatenated.cluster) == withoutLocations(list.cluster))
        #expect(withoutLocations(concatenated.cluster) == withoutLocations(array.cluster))
        let port = try #require(concatenated.cluster.services.first?.ports.first)
        #expect(port.location == SourceLocation(file: "m.json", line: 4, column: 21))
    }

    @Test func jsonTypesFollowKubernetes() {
        let result = loadManifests("""
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
         "spec": {"ports": [{"port": "80"}, {"port": 80.5}, {"port": -1}], "selector": {"a": true}}}
        """, name: "t.json")
        #expect(diagnosticLines(result) == [
            "t.json:2:30: Service default/s: spec.ports[0].port: expected an integer, got string \"80\"",
            "t.json:2:46: Service default/s: spec.ports[1].port: expected an integer, got 80.5",
            "t.json:2:62: Service default/s: spec.ports[2].port: port -1 out of range 1-65535",
            "t.json:2:86: Service default/s: spec.selector.a: expected a string, got true"
                + " (unquoted, true is a boolean, and the API server refuses a boolean here; quote it: \"true\")",
        ])
    }

    @Test func standardInputIsNamed() throws {
        let sources = try ManifestLoader.sources(paths: ["-"]) { Array("kind: Namespace".utf8) }
        #expect(sources == [ManifestSource(name: "<stdin>", bytes: Array("kind: Namespace".utf8))])
    }

    @Test func directoriesAreReadRecursivelyInPathOrder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-dir-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for file in ["b.yaml", "a/z.json", "a/b/c.yml", "a.yaml", "notes.txt", ".hidden.yaml", "a/m.yaml"] {
            let path = root + "/" + file
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(file.utf8).write(to: URL(fileURLWithPath: path))
        }
        let sources = try ManifestLoader.sources(paths: [root, root + "/notes.txt"])
        #expect(sources.map { String($0.name.dropFirst(root.count + 1)) } ==
                ["a.yaml", "a/b/c.yml", "a/m.yaml", "a/z.json", "b.yaml", "notes.txt"])
        #expect(sources.first?.bytes == Array("a.yaml".utf8))
    }

    @Test func missingPathsAreAllReported() {
        do {
            _ = try ManifestLoader.sources(paths: ["/nonexistent/one.yaml", "/nonexistent/two"])
            Issue.record("expected an error")
        } catch let error as InputErrors {
            #expect(error.description == """
            /nonexistent/one.yaml:0:0: no such file or directory
            /nonexistent/two:0:0: no such file or directory
            """)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func documentOrderDoesNotChangeTheCluster() {
        let documents = ManifestSpeedSample.yaml.components(separatedBy: "---\n") + [
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
            "apiVersion: v1\nkind: Node\nmetadata: {name: n2}\n",
            "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: a, ports: [{containerPort: 80, name: http}]}]}\n",
        ]
        let anchored = documents.filter { $0.contains("&sel") || $0.contains("*sel") }
        let movable = documents.filter { !anchored.contains($0) }
        // Anchors are per document, so the anchored pair is kept together as one document.
        let joined = anchored.joined(separator: "---\n").replacingOccurrences(of: "*sel", with: "{app: web}")
        var generator = SystemRandomNumberGenerator()
        var reference: Cluster?
        for _ in 0..<10 {
            let shuffled = (movable + [joined]).shuffled(using: &generator)
            let sources = shuffled.enumerated().map { ManifestSource(name: "doc\($0.offset).yaml", bytes: Array($0.element.utf8)) }
            let result = ManifestLoader.load(sources)
            #expect(result.diagnostics == [])
            var cluster = withoutLocations(result.cluster)
            cluster.canonicalize()
            if let reference { #expect(cluster == reference) } else { reference = cluster }
        }
    }
}

/// The cluster with every source location blanked, to compare content read from different files.
func withoutLocations(_ cluster: Cluster) -> Cluster {
    let blank = SourceLocation(file: "", line: 0, column: 0)
    var copy = cluster
    for index in copy.services.indices {
        copy.services[index].meta.location = blank
        for port in copy.services[index].ports.indices { copy.services[index].ports[port].location = blank }
    }
    for index in copy.endpointSlices.indices { copy.endpointSlices[index].meta.location = blank }
    for index in copy.endpoints.indices { copy.endpoints[index].meta.location = blank }
    for index in copy.pods.indices { copy.pods[index].meta.location = blank }
    for index in copy.namespaces.indices { copy.namespaces[index].meta.location = blank }
    for index in copy.nodes.indices { copy.nodes[index].meta.location = blank }
    for index in copy.networkPolicies.indices {
        copy.networkPolicies[index].meta.location = blank
        for rule in copy.networkPolicies[index].ingress?.indices ?? 0..<0 { copy.networkPolicies[index].ingress?[rule].location = blank }
        for rule in copy.networkPolicies[index].egress?.indices ?? 0..<0 { copy.networkPolicies[index].egress?[rule].location = blank }
    }
    for index in copy.proxyConfigurations.indices { copy.proxyConfigurations[index].location = blank }
    return copy
}
