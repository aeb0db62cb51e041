import Foundation
import KubeNFT
import NFTRuleset

/// A synthetic cluster in the shape of the benchmark generator: `services` ClusterIP Services with
/// one EndpointSlice of `endpoints` ready endpoints each.
enum SyntheticCluster {
    static let node = NodeOptions(nodeName: "node-1", nodeIPs: ["192.168.50.11"], clusterCIDRs: ["10.128.0.0/9"], configPath: nil)

    /// `moved` endpoints get a fresh address (an endpoint replaced, the service's count unchanged);
    /// services in `extra` get that many more endpoints.
    static func yaml(services: Int, endpoints: Int, notReady: Set<Int> = [], moved: Set<Int> = [], extra: [Int: Int] = [:]) -> String {
        var text = ""
        for service in 0..<services {
            let clusterIP = "10.96.\(service / 250).\(service % 250 + 1)"
            text += """
                apiVersion: v1
                kind: Service
                metadata: {name: app-\(service), namespace: team-\(service % 10)}
                spec:
                  clusterIP: \(clusterIP)
                  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
                ---
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: app-\(service)-x
                  namespace: team-\(service % 10)
                  labels: {kubernetes.io/service-name: app-\(service)}
                addressType: IPv4
                ports: [{name: http, port: 8080, protocol: TCP}]
                endpoints:

                """
            for endpoint in 0..<endpoints {
                let index = service * endpoints + endpoint
                let ready = notReady.contains(index) ? "false" : "true"
                let address = moved.contains(index) ? "10.200.\(index / 250).\(index % 250 + 1)" : "10.128.\(index / 250).\(index % 250 + 1)"
                text += "- {addresses: [\(address)], conditions: {ready: \(ready)}, nodeName: node-\(endpoint % 3)}\n"
            }
            for added in 0..<(extra[service] ?? 0) {
                text += "- {addresses: [10.201.\(service % 250).\(added + 1)], conditions: {ready: true}, nodeName: node-1}\n"
            }
            text += "---\n"
        }
        return text
    }

    /// Compiles the cluster (written to a temporary file).
    static func compile(services: Int, endpoints: Int, notReady: Set<Int> = [], moved: Set<Int> = [],
                        extra: [Int: Int] = [:]) throws -> Ruleset {
        let path = NSTemporaryDirectory() + "kubenft-nl-\(UUID().uuidString).yaml"
        try yaml(services: services, endpoints: endpoints, notReady: notReady, moved: moved, extra: extra).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = Pipeline.run(paths: [path], node: node)
        guard let ruleset = result.ruleset else {
            throw Namespaces.Failure(description: "synthetic cluster does not compile: \(result.errors.map(\.description).prefix(3))")
        }
        return ruleset
    }
}
