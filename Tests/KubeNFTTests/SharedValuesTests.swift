import Foundation
@testable import KubeManifest
import NFTRuleset
import Testing

/// The Pods of one workload repeat their labels, container ports and controller; a load stores
/// each such value once (the objects share its storage), which is most of what 100k Pods cost.
@Suite("Shared values of a load")
struct SharedValuesTests {
    static func pods(_ count: Int) -> String {
        (0..<count).map { index in
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: shop-frontend-7d4b9c6f8d-\(index)
              namespace: shop
              labels: {app.kubernetes.io/name: shop-frontend, pod-template-hash: 7d4b9c6f8d}
              ownerReferences:
              - {apiVersion: apps/v1, kind: ReplicaSet, name: shop-frontend-7d4b9c6f8d, uid: u, controller: true}
            spec:
              nodeName: worker-node-pool-a-0001
              containers:
              - name: main
                ports: [{containerPort: 8080, name: http}, {containerPort: 9090, name: metrics}]
            status:
              podIP: 10.128.0.\(index + 1)
            """
        }.joined(separator: "\n---\n")
    }

    /// The address of a value's heap storage (a Dictionary, Array or native String is one reference).
    static func storage<Value>(_ value: Value) -> UInt {
        precondition(MemoryLayout<Value>.size == MemoryLayout<UInt>.size || MemoryLayout<Value>.size == 16)
        return withUnsafeBytes(of: value) { $0.load(fromByteOffset: MemoryLayout<Value>.size - 8, as: UInt.self) }
    }

    @Test("Pods of one workload share their labels, ports, controller and node name", arguments: [1, 2])
    func podsShareValues(threads: Int) throws {
        let text = Self.pods(40)
        let result = ManifestLoader.load([ManifestSource(name: "pods.yaml", bytes: Array(text.utf8))], options: LoadOptions(),
                                         partSize: 100_000, threads: threads)
        #expect(result.diagnostics.isEmpty)
        let pods = result.cluster.pods
        try #require(pods.count == 40)
        let first = pods[0]
        #expect(first.meta.labels == ["app.kubernetes.io/name": "shop-frontend", "pod-template-hash": "7d4b9c6f8d"])
        for pod in pods.dropFirst() {
            #expect(Self.storage(pod.meta.labels) == Self.storage(first.meta.labels))
            #expect(Self.storage(pod.containerPorts) == Self.storage(first.containerPorts))
            #expect(pod.controllerBox === first.controllerBox)
            #expect(Self.storage(pod.nodeName) == Self.storage(first.nodeName))
        }
    }

    /// Label maps and container lists spelled almost alike: the same bytes split differently
    /// between key and value, quoted or not, differing in one byte past an eight-byte word, null
    /// against empty. Each Pod decodes, in one load after the others, exactly as it does alone.
    @Test("near-identical labels and containers are never taken for one another", arguments: [1, 2])
    func nearIdenticalSubtrees(threads: Int) throws {
        let labels = ["{a: bc}", "{ab: c}", "{a: \"true\"}", "{a: true}", "{k: x1234567}", "{k: x1234568}",
                      "{k: abcdefgh12345678}", "{k: abcdefgh12345679}", "{k: \"\"}", "{k: }", "{k: \"1\"}", "{k: 1}",
                      "{a: bc}", "{a: true}", "{k: abcdefgh12345679}"]
        let containers = ["[{name: m, ports: [{containerPort: 80, name: http}]}]", "[{name: m, ports: [{containerPort: 80, name: htt}]}]",
                          "[{name: m, ports: [{containerPort: 80, name: \"http\"}]}]", "[{name: m, ports: [{containerPort: 8, name: http}]}]",
                          "[{name: m, ports: [{containerPort: 80, name: ht_p}]}]", "[{name: m, ports: [{containerPort: 80, protocol: UDP}]}]",
                          "[{name: m, ports: [{containerPort: 80, protocol: udp}]}]", "[{name: m, ports: [{containerPort: 80}]}]",
                          "[{name: m, ports: [{containerPort: 80, name: ht_p}]}]", "[{name: m, ports: [{containerPort: 80, protocol: udp}]}]",
                          "[{name: m, ports: [{containerPort: 80, name: http}]}]", "[{name: m, ports: [{containerPort: 8, name: http}]}]",
                          "[{name: m, ports: [{containerPort: 80, name: htt}]}]", "[{name: m, ports: [{containerPort: 80}]}]",
                          "[{name: m, ports: [{containerPort: 80, name: \"http\"}]}]"]
        let documents = zip(labels, containers).enumerated().map { index, pair in
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\(index)\n  labels: \(pair.0)\n" +
                "spec:\n  containers: \(pair.1)\n  initContainers: \(pair.1)\n"
        }
        let together = ManifestLoader.load([ManifestSource(name: "pods.yaml", bytes: Array(documents.joined(separator: "---\n").utf8))],
                                           options: LoadOptions(), partSize: 100_000, threads: threads)
        for (index, document) in documents.enumerated() {
            let alone = ManifestLoader.load([ManifestSource(name: "pods.yaml", bytes: Array(document.utf8))])
            let name = "p\(index)"
            #expect(together.cluster.pods.first { $0.meta.name == name }.map { [$0.meta.labels.description, $0.containerPorts.description] }
                    == alone.cluster.pods.first.map { [$0.meta.labels.description, $0.containerPorts.description] }, "\(name)")
            let problems = together.diagnostics.filter { $0.object?.hasSuffix("/" + name) ?? false }.map { "\($0.field) \($0.reason)" }
            #expect(problems == alone.diagnostics.map { "\($0.field) \($0.reason)" }, "\(name)")
        }
        #expect(together.diagnostics.count > 4)
    }

    /// Pods repeating one `ownerReferences` list share its controller; the same list in another
    /// namespace, or one spelled slightly differently or with a problem, decodes as it does alone.
    @Test("Pods' controllers decode in one load as each does alone", arguments: [1, 2])
    func controllers(threads: Int) throws {
        let reference = "[{apiVersion: apps/v1, kind: ReplicaSet, name: rs-1, uid: u, controller: true}]"
        let lists = [reference, reference, "[{apiVersion: apps/v1, kind: ReplicaSet, name: rs-1, uid: u, controller: \"true\"}]",
                     "[{apiVersion: apps/v1, kind: ReplicaSet, name: rs-1, uid: u, controller: false}]",
                     "[{apiVersion: apps/v1, kind: ReplicaSet, uid: u, controller: true}]", "[]", "null",
                     "[{kind: Job, name: j, controller: true}, {kind: ReplicaSet, name: rs-1, controller: true}]",
                     "[{apiVersion: apps/v1, kind: ReplicaSet, name: rs-2, uid: u, controller: true}]", reference]
        let documents = lists.enumerated().flatMap { index, list in
            ["ns-a", "ns-b"].map { namespace in
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\(index)\n  namespace: \(namespace)\n  ownerReferences: \(list)\n"
            }
        }
        let together = ManifestLoader.load([ManifestSource(name: "pods.yaml", bytes: Array(documents.joined(separator: "---\n").utf8))],
                                           options: LoadOptions(), partSize: 100_000, threads: threads)
        for document in documents {
            let alone = ManifestLoader.load([ManifestSource(name: "pods.yaml", bytes: Array(document.utf8))])
            let pod = try #require(alone.cluster.pods.first)
            let same = together.cluster.pods.first { $0.meta.qualifiedName == pod.meta.qualifiedName }
            #expect(same?.controllerBox?.value == pod.controllerBox?.value, "\(pod.meta.qualifiedName)")
            let problems = together.diagnostics.filter { $0.object == "Pod \(pod.meta.qualifiedName)" }.map { "\($0.field) \($0.reason)" }
            #expect(problems == alone.diagnostics.map { "\($0.field) \($0.reason)" }, "\(pod.meta.qualifiedName)")
        }
        let shared = together.cluster.pods.filter { ["p0", "p1", "p9"].contains($0.meta.name) && $0.meta.namespace == "ns-b" }
        #expect(shared.count == 3 && shared.allSatisfy { $0.controllerBox != nil && $0.controllerBox === shared[0].controllerBox })
        #expect(together.diagnostics.count >= 4)
    }

    /// A ruleset value is as small as an address: the rare prefixes and ranges are boxed, so the
    /// hundreds of thousands of set-element keys of a large cluster are not twice their size.
    @Test("a ruleset value takes no more room than an address")
    func valueSize() {
        #expect(MemoryLayout<Value>.stride <= 24, "\(MemoryLayout<Value>.stride) bytes")
        #expect(Value.prefix(CIDR("10.0.0.0/8")!) != Value.prefix(CIDR("10.0.0.0/9")!))
    }
}
