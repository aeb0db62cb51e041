import Foundation
import KubeManifest
import KubeNFT
import KubeNFTCompiler
import NFTRuleset
import Testing

/// Services kube-proxy does not program (its informer filters them out by label) get no rules, only
/// a note in the ruleset header.
@Suite("Services kube-proxy leaves alone")
struct ProxyScopeTests {
    static func service(labels: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop, labels: {\(labels)}}
        spec: {clusterIP: 10.96.0.50, selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        endpoints: [{addresses: [10.244.0.5]}]
        ports: [{port: 8080, protocol: TCP}]
        """
    }

    static func compiled(_ labels: String) -> (text: String, notes: [String]) {
        let loaded = loadManifests(service(labels: labels))
        let result = KubeNFTCompiler.compile(loaded.cluster, context: NodeContext())
        return (NFTTextEmitter().emit(result.ruleset), result.ruleset.notes)
    }

    @Test("a Service labelled for another proxy, or headless by label, gets no DNAT and a note",
          arguments: ["service.kubernetes.io/service-proxy-name: cilium", "service.kubernetes.io/headless: \"\""])
    func skipped(_ label: String) {
        let (text, notes) = Self.compiled(label)
        #expect(!text.contains("10.96.0.50"), "the Service's address is still in the ruleset")
        #expect(!text.contains("10.244.0.5"), "the endpoint is still in the ruleset")
        #expect(notes.contains { $0.hasPrefix("shop/web: labelled service.kubernetes.io/") && $0.hasSuffix("no DNAT") }, "\(notes)")
    }

    @Test("the same Service without those labels is programmed")
    func programmed() {
        let (text, _) = Self.compiled("app: web")
        #expect(text.contains("10.96.0.50") && text.contains("10.244.0.5"))
    }
}

/// `--strict` turns every warning into an error, whichever stage reported it.
@Suite("Strict mode")
struct StrictModeTests {
    @Test("a warning compiles by default and stops the compile under --strict")
    func warningsBecomeErrors() throws {
        let path = NSTemporaryDirectory() + "kubenft-strict-\(getpid()).yaml"
        try (ProxyScopeTests.service(labels: "app: web") + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lenient = Pipeline.run(paths: [path], node: NodeOptions())
        #expect(lenient.ruleset != nil)
        #expect(lenient.diagnostics.map(\.severity) == [.warning])
        let strict = Pipeline.run(paths: [path], node: NodeOptions(), strict: true)
        #expect(strict.ruleset == nil)
        #expect(strict.diagnostics.map(\.severity) == [.error])
        #expect(strict.diagnostics.first?.reason.contains("ConfigMap") == true)
    }
}
