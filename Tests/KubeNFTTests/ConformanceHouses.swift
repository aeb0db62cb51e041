import Foundation
import KubeManifest
import KubeNFT
import NFTTrace
import Testing

/// The cluster the network-policy-api conformance suite runs in: five namespaces labelled
/// `conformance-house`, two pods per house (StatefulSet pods `NAME-0`, `NAME-1`) serving TCP 80
/// (named `web`) and 8080, UDP 53 (named `dns`) and 5353, SCTP 9003 and 9005; the forbidden forest's
/// `centaur` pods use the host network, one per node. Addresses are explicit so the inline-CIDR cases
/// can name one pod's address.
enum ConformanceHouses {
    enum House: String, CaseIterable, Sendable {
        case gryffindor, slytherin, hufflepuff, ravenclaw

        var workload: String {
            switch self {
            case .gryffindor: return "harry-potter"
            case .slytherin: return "draco-malfoy"
            case .hufflepuff: return "cedric-diggory"
            case .ravenclaw: return "luna-lovegood"
            }
        }

        var namespace: String { "network-policy-conformance-\(rawValue)" }

        /// `ns/pod` of replica `index`, as `trace` reads it.
        func pod(_ index: Int) -> String { "\(namespace)/\(workload)-\(index)" }

        func address(_ index: Int) -> String {
            "10.244.1.\(10 * (House.allCases.firstIndex(of: self)! + 1) + index)"
        }
    }

    /// The host-network ports the suite hands the forest's pods (any free ports will do).
    static let hostNetworkPorts: [UInt16] = [34301, 34302, 34303, 34304, 34305, 34306, 34307, 34308]
    static let forest = "network-policy-conformance-forbidden-forrest"
    static let node1 = "198.51.100.1", node2 = "198.51.100.2"

    /// The houses; `labels` replaces a house namespace's labels (the inline-CIDR case relabels one).
    static func manifests(relabel: [House: String] = [:]) -> String {
        var documents: [String] = []
        for (name, address) in [("node-1", node1), ("node-2", node2)] {
            documents.append("""
                apiVersion: v1
                kind: Node
                metadata: {name: \(name), labels: {kubernetes.io/os: linux}}
                status: {addresses: [{type: InternalIP, address: \(address)}]}
                """)
        }
        for house in House.allCases {
            let label = relabel[house] ?? house.rawValue
            documents.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: \(house.namespace), labels: {conformance-house: \(label)}}")
            for index in 0..<2 {
                documents.append("""
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: \(house.workload)-\(index), namespace: \(house.namespace), labels: {conformance-house: \(house.rawValue)}}
                    spec:
                      nodeName: node-1
                      containers:
                      - {name: s80, image: i, ports: [{containerPort: 80, protocol: TCP, name: web}]}
                      - {name: s8080, image: i}
                      - {name: s53, image: i, ports: [{containerPort: 53, protocol: UDP, name: dns}]}
                    status: {phase: Running, podIP: \(house.address(index)), podIPs: [{ip: \(house.address(index))}]}
                    """)
            }
        }
        documents.append("apiVersion: v1\nkind: Namespace\nmetadata: {name: \(forest), labels: {conformance-house: forbidden-forrest}}")
        for (index, (node, address)) in [("node-1", node1), ("node-2", node2)].enumerated() {
            documents.append("""
                apiVersion: v1
                kind: Pod
                metadata: {name: centaur-\(index), namespace: \(forest), labels: {conformance-house: forbidden-forrest}}
                spec:
                  nodeName: \(node)
                  hostNetwork: true
                  containers: [{name: c, image: i, ports: [{containerPort: \(hostNetworkPorts[0]), protocol: TCP, name: web-\(hostNetworkPorts[0])}]}]
                status: {phase: Running, podIP: \(address), podIPs: [{ip: \(address)}]}
                """)
        }
        return documents.joined(separator: "\n---\n")
    }

    /// Compiles the houses with `policies` as node-1 does.
    static func compile(_ policies: String, relabel: [House: String] = [:]) throws -> PipelineResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-cnp-conformance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("cluster.yaml")
        try (manifests(relabel: relabel) + "\n---\n" + policies + "\n").write(to: file, atomically: true, encoding: .utf8)
        let node = NodeOptions(nodeName: "node-1", clusterCIDRs: ["10.244.0.0/16"])
        let result = Pipeline.run(paths: [file.path], node: node)
        #expect(result.errors.isEmpty, "\(result.errors)")
        return result
    }
}

/// A ClusterNetworkPolicy as the conformance cases write and then patch it: rules are flow-style
/// YAML lines, so a test can swap, insert or rewrite them as the Go tests patch the object.
struct ConformancePolicy: Sendable {
    var name: String
    var tier = "Admin"
    var priority: Int
    var subject: String
    var ingress: [String] = []
    var egress: [String] = []

    var yaml: String {
        var lines = [
            "apiVersion: policy.networking.k8s.io/v1alpha2", "kind: ClusterNetworkPolicy", "metadata: {name: \(name)}", "spec:",
            "  tier: \(tier)", "  priority: \(priority)", "  subject: \(subject)",
        ]
        if !ingress.isEmpty { lines += ["  ingress:"] + ingress.map { "  - \($0)" } }
        if !egress.isEmpty { lines += ["  egress:"] + egress.map { "  - \($0)" } }
        return lines.joined(separator: "\n")
    }

    /// `subject`/peer selecting a house's namespace by its `kubernetes.io/metadata.name` label.
    static func namespace(_ house: ConformanceHouses.House) -> String {
        "{namespaces: {matchLabels: {kubernetes.io/metadata.name: \(house.namespace)}}}"
    }

    /// `subject`/peer selecting a house's pods by the `conformance-house` label of pod and namespace.
    static func pods(_ house: String) -> String {
        "{pods: {namespaceSelector: {matchLabels: {conformance-house: \(house)}}, podSelector: {matchLabels: {conformance-house: \(house)}}}}"
    }

    static func rule(_ name: String, _ action: String, _ peersKey: String, _ peers: [String], _ protocols: [String]? = nil) -> String {
        let ports = protocols.map { ", protocols: [\($0.joined(separator: ", "))]" } ?? ""
        return "{name: \(name), action: \(action), \(peersKey): [\(peers.joined(separator: ", "))]\(ports)}"
    }

    static func port(_ transport: String, _ number: UInt16) -> String { "{\(transport): {destinationPort: {number: \(number)}}}" }
}
