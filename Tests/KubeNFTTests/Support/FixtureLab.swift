import Foundation
import KubeManifest
import KubeNFT
import LabKit

/// A pod of a fixture as a lab hosts it: its role (`namespace/name`, also the server's reply), its
/// addresses and what it serves (nothing when `serve` is nil).
struct LabHostedPod: Sendable {
    var id: String
    var addresses: [IPAddress]
    var serve: ServeSpec?

    /// The first address of `family`, if the pod has one.
    func address(_ family: IPFamily) -> IPAddress? { addresses.first { $0.family == family } }
}

/// A client outside the cluster, on the node's external bridge, optionally serving ports.
struct LabHostedClient: Sendable {
    var id: String
    var address: IPAddress
    var serve: ServeSpec?
}

/// Builds labs from compiled fixtures. Every pod is hosted by the one lab node, whatever node the
/// fixture schedules it on: the compiled rules still enforce only the pods of the node they were
/// compiled for, exactly as the tracer assumes; the lab just gives every address a real socket.
enum FixtureLab {
    static let nodeAddresses = ["198.51.100.1", "fd00:198:51:100::1"]
    static let clientSubnetV4 = "198.51.100.0/24"
    static let clientSubnetV6 = "fd00:198:51:100::/64"

    /// The pods a connectivity matrix covers (`Review.matrix`): not on the host network, with an IP.
    static func matrixPods(_ result: PipelineResult) -> [Pod] {
        result.cluster.pods.filter { !$0.hostNetwork && !$0.podIPs.isEmpty }
    }

    /// A server answering with `id` on the listed ports; nil when there are none.
    static func serveSpec(id: String, ports: [(L4Protocol, UInt16)]) -> ServeSpec? {
        if ports.isEmpty { return nil }
        func list(_ transport: L4Protocol) -> [Int] {
            Array(Set(ports.filter { $0.0 == transport }.map { Int($0.1) })).sorted()
        }
        return ServeSpec(name: id, tcp: list(.tcp), udp: list(.udp), sctp: list(.sctp))
    }

    /// Adds the node, every pod (all at once, each with its server) and the clients to `lab`.
    static func build(_ lab: Lab, pods: [LabHostedPod], clients: [LabHostedClient] = []) throws {
        try lab.addNode(addresses: nodeAddresses, clientSubnetV4: clientSubnetV4, clientSubnetV6: clientSubnetV6)
        try LabSweep.addPods(lab, pods.map { pod in
            (LabPod(name: pod.id, addresses: pod.addresses.map(\.description)), pod.serve)
        })
        for client in clients {
            try lab.addClient(name: client.id, addresses: [client.address.description])
            if let spec = client.serve { try lab.serve(in: client.id, spec) }
        }
    }

    /// Milliseconds between two instants, for the timing lines the lab tests print.
    static func ms(_ from: Date, _ to: Date) -> Int { Int(to.timeIntervalSince(from) * 1000) }
}
