import Foundation
import KubeManifest
import KubeNFT
import Testing

/// Repository input holds StatefulSets, not Pods: their pods' DNS names (`web-0.nginx.ns.svc.zone`)
/// come from the hostname the StatefulSet controller gives each pod and the Service it names, as
/// the endpoint-slice controller copies them into the endpoints (spec 2.4.1).
@Suite("Pod hostnames in derived endpoints")
struct PodHostnameDNSTests {
    static let manifests = """
        apiVersion: v1
        kind: Service
        metadata: {name: nginx, namespace: ns1}
        spec: {clusterIP: None, selector: {app: web}, ports: [{name: web, port: 80}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web, namespace: ns1}
        spec:
          serviceName: nginx
          replicas: 2
          selector: {matchLabels: {app: web, role: sts}}
          template:
            metadata: {labels: {app: web, role: sts}}
            spec: {containers: [{name: c, image: nginx, ports: [{name: web, containerPort: 80}]}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db, namespace: ns1}
        spec:
          serviceName: dbsvc
          selector: {matchLabels: {app: web, role: db}}
          template:
            metadata: {labels: {app: web, role: db}}
            spec: {containers: [{name: c, image: db}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: solo, namespace: ns1}
        spec:
          selector: {matchLabels: {app: web, role: solo}}
          template:
            metadata: {labels: {app: web, role: solo}}
            spec: {hostname: solo, subdomain: nginx, containers: [{name: c, image: x}]}

        """

    static func run(_ text: String) throws -> DNSResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-hostname-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("repo.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return DNSGeneration.run(paths: [path], node: NodeOptions(nodeName: "node-1"), options: DNSOptions())
    }

    @Test("a StatefulSet's pods answer by hostname under the Service it names; a template's hostname too")
    func statefulSetNames() throws {
        let result = try Self.run(Self.manifests)
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let zone = try #require(result.zone)
        let records = Set(zone.records.map { "\($0.name) \($0.data.type) \($0.data.presentation)" })
        func address(_ pod: String) throws -> String {
            try #require(result.cluster.pods.first { $0.meta.name == pod }?.podIPs.first).description
        }
        let service = "nginx.ns1.svc.cluster.local."
        // Written from the spec: every ready endpoint under the Service's name; one with a hostname
        // also under `<hostname>.<service>`, and the SRV record targets that name; one without
        // (db: its subdomain names another Service) is named by its dashed address.
        var expected: Set<String> = []
        for (pod, host) in [("web-0", "web-0"), ("web-1", "web-1"), ("solo-deployment-0", "solo"), ("db-0", nil)] {
            let ip = try address(pod)
            let label = host ?? ip.replacingOccurrences(of: ".", with: "-")
            expected.insert("\(service) A \(ip)")
            expected.insert("\(label).\(service) A \(ip)")
            expected.insert("_web._tcp.\(service) SRV 0 25 80 \(label).\(service)")
        }
        let got = records.filter { $0.contains(service) && !$0.contains("PTR") }
        #expect(got.subtracting(expected).sorted() == [], "unexpected records")
        #expect(expected.subtracting(got).sorted() == [], "missing records")
    }

    @Test("a bad hostname, subdomain or serviceName is an input error naming the field")
    func badNames() throws {
        for (field, text) in [("spec.template.spec.hostname", Self.manifests.replacingOccurrences(of: "hostname: solo", with: "hostname: Solo_1")),
                              ("spec.template.spec.subdomain", Self.manifests.replacingOccurrences(of: "subdomain: nginx", with: "subdomain: -x")),
                              ("spec.serviceName", Self.manifests.replacingOccurrences(of: "serviceName: dbsvc", with: "serviceName: Db.Svc"))] {
            let result = try Self.run(text)
            #expect(result.zone == nil)
            #expect(result.errors.contains { $0.field == field }, "\(field): \(result.errors.map(\.description))")
        }
    }
}
