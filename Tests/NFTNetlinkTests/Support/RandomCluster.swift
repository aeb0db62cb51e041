import Foundation
import KubeNFT
import NFTRuleset

/// A small deterministic generator (SplitMix64), so a seed reproduces a failing case exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random small cluster for apply-convergence tests: pods on two nodes in two namespaces,
/// Services with EndpointSlices (ready or not, weighted by track, with or without ClientIP
/// affinity, ClusterIP or NodePort) and NetworkPolicies with pod, namespace and ipBlock peers.
/// `mutated` makes the changes a cluster goes through: policies added, removed or changed,
/// endpoints added, removed or turned (not) ready, weights and affinity changed.
struct RandomCluster: Sendable {
    struct Pod: Sendable {
        var namespace: String
        var name: String
        var app: String
        var track: String
        var address: String
        var node: String
    }

    struct Endpoint: Sendable {
        var pod: Int
        var ready: Bool
    }

    struct Service: Sendable {
        var namespace: String
        var name: String
        var app: String
        var clusterIP: String
        var nodePort: Int?
        var affinityTimeout: Int?
        var stableWeight: Int?
        var endpoints: [Endpoint]
    }

    enum Peer: Sendable {
        case app(String)
        case namespace(String)
        case block(String, except: String?)
    }

    struct Policy: Sendable {
        var namespace: String
        var name: String
        /// nil selects every pod of the namespace.
        var app: String?
        /// nil: no rules in that direction (not isolated); empty: isolated, nothing allowed.
        var ingress: [Peer]?
        var egress: [Peer]?
        var port: Int?
    }

    static let namespaces = ["ns-a", "ns-b"]
    static let apps = ["web", "api", "db"]
    static let node = NodeOptions(nodeName: "node-1", nodeIPs: ["192.168.50.11"], clusterCIDRs: ["10.244.0.0/16"], configPath: nil)

    var pods: [Pod] = []
    var services: [Service] = []
    var policies: [Policy] = []
    private var nextName = 0

    /// A new random cluster.
    static func random(_ rng: inout SplitMix64) -> RandomCluster {
        var cluster = RandomCluster()
        for index in 0..<8 {
            let node = Bool.random(using: &rng) ? "node-1" : "node-2"
            cluster.pods.append(Pod(namespace: namespaces[index % 2], name: "pod-\(index)", app: apps[index % 3],
                                    track: Bool.random(using: &rng) ? "stable" : "canary",
                                    address: "10.244.\(node == "node-1" ? 1 : 2).\(10 + index)", node: node))
        }
        for _ in 0..<Int.random(in: 1...3, using: &rng) { cluster.addService(&rng) }
        for _ in 0..<Int.random(in: 0...3, using: &rng) { cluster.addPolicy(&rng) }
        return cluster
    }

    /// A copy with one to three random changes.
    func mutated(_ rng: inout SplitMix64) -> RandomCluster {
        var copy = self
        for _ in 0..<Int.random(in: 1...3, using: &rng) { copy.mutate(&rng) }
        return copy
    }

    private mutating func mutate(_ rng: inout SplitMix64) {
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: addPolicy(&rng)
        case 1: if !policies.isEmpty { policies.remove(at: Int.random(in: 0..<policies.count, using: &rng)) }
        case 2:
            if !policies.isEmpty {
                let index = Int.random(in: 0..<policies.count, using: &rng)
                policies[index].ingress = Self.peers(&rng)
                policies[index].port = Bool.random(using: &rng) ? 8080 : nil
            }
        case 3: addService(&rng)
        case 4: if !services.isEmpty { services.remove(at: Int.random(in: 0..<services.count, using: &rng)) }
        case 5: changeEndpoints(&rng)
        case 6:
            if !services.isEmpty {
                let index = Int.random(in: 0..<services.count, using: &rng)
                services[index].stableWeight = Bool.random(using: &rng) ? Int.random(in: 1...99, using: &rng) : nil
            }
        case 7:
            if !services.isEmpty {
                let index = Int.random(in: 0..<services.count, using: &rng)
                services[index].affinityTimeout = services[index].affinityTimeout == nil ? Int.random(in: 10...600, using: &rng) : nil
            }
        default:
            let index = Int.random(in: 0..<pods.count, using: &rng)
            pods[index].track = pods[index].track == "stable" ? "canary" : "stable"
        }
    }

    private mutating func changeEndpoints(_ rng: inout SplitMix64) {
        guard !services.isEmpty else { return }
        let index = Int.random(in: 0..<services.count, using: &rng)
        let service = services[index]
        let candidates = pods.indices.filter { pods[$0].namespace == service.namespace && pods[$0].app == service.app }
        let missing = candidates.filter { pod in !service.endpoints.contains { $0.pod == pod } }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0 where !missing.isEmpty:
            services[index].endpoints.append(Endpoint(pod: missing.randomElement(using: &rng)!, ready: true))
        case 1 where !service.endpoints.isEmpty:
            services[index].endpoints.remove(at: Int.random(in: 0..<service.endpoints.count, using: &rng))
        default:
            if !service.endpoints.isEmpty {
                let endpoint = Int.random(in: 0..<service.endpoints.count, using: &rng)
                services[index].endpoints[endpoint].ready.toggle()
            }
        }
    }

    private mutating func addService(_ rng: inout SplitMix64) {
        nextName += 1
        let namespace = Self.namespaces.randomElement(using: &rng)!, app = Self.apps.randomElement(using: &rng)!
        let endpoints = pods.indices.filter { pods[$0].namespace == namespace && pods[$0].app == app && Bool.random(using: &rng) }
            .map { Endpoint(pod: $0, ready: Int.random(in: 0..<4, using: &rng) > 0) }
        services.append(Service(namespace: namespace, name: "svc-\(nextName)", app: app, clusterIP: "10.96.0.\(10 + nextName)",
                                nodePort: Bool.random(using: &rng) ? 30000 + nextName : nil,
                                affinityTimeout: Bool.random(using: &rng) ? Int.random(in: 10...600, using: &rng) : nil,
                                stableWeight: Bool.random(using: &rng) ? Int.random(in: 1...99, using: &rng) : nil,
                                endpoints: endpoints))
    }

    private mutating func addPolicy(_ rng: inout SplitMix64) {
        nextName += 1
        let ingress = Int.random(in: 0..<3, using: &rng) > 0 ? Self.peers(&rng) : nil
        let egress = Int.random(in: 0..<3, using: &rng) > 0 ? Self.peers(&rng) : nil
        policies.append(Policy(namespace: Self.namespaces.randomElement(using: &rng)!, name: "np-\(nextName)",
                               app: Bool.random(using: &rng) ? Self.apps.randomElement(using: &rng)! : nil,
                               ingress: ingress, egress: egress, port: Bool.random(using: &rng) ? 8080 : nil))
    }

    private static func peers(_ rng: inout SplitMix64) -> [Peer] {
        (0..<Int.random(in: 0...2, using: &rng)).map { _ in
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: return .app(apps.randomElement(using: &rng)!)
            case 1: return .namespace(namespaces.randomElement(using: &rng)!)
            default:
                let second = Int.random(in: 0...3, using: &rng)
                return .block("10.\(second).0.0/16", except: Bool.random(using: &rng) ? nil : "10.\(second).1.0/24")
            }
        }
    }
}

extension RandomCluster {
    /// The cluster as multi-document YAML.
    var yaml: String {
        var documents = ["apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus:\n  addresses: [{type: InternalIP, address: 192.168.50.11}]\n"]
        documents += Self.namespaces.map {
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: \($0), labels: {kubernetes.io/metadata.name: \($0)}}\n"
        }
        documents += pods.map { pod in
            """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(pod.name), namespace: \(pod.namespace), labels: {app: \(pod.app), track: \(pod.track)}}
            spec:
              nodeName: \(pod.node)
              containers: [{name: c, image: registry.example/app:1, ports: [{name: http, containerPort: 8080, protocol: TCP}]}]
            status: {phase: Running, podIP: \(pod.address), podIPs: [{ip: \(pod.address)}]}

            """
        }
        documents += services.flatMap { [serviceYAML($0), sliceYAML($0)] }
        documents += policies.map(policyYAML)
        return documents.joined(separator: "---\n")
    }

    private func serviceYAML(_ service: Service) -> String {
        var text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: \(service.name)\n  namespace: \(service.namespace)\n"
        if let weight = service.stableWeight {
            text += "  annotations: {kubenft.io/weights: \"track=stable:\(weight),track=canary:\(100 - weight)\"}\n"
        }
        text += "spec:\n  type: \(service.nodePort == nil ? "ClusterIP" : "NodePort")\n  clusterIP: \(service.clusterIP)\n"
        text += "  selector: {app: \(service.app)}\n"
        if let timeout = service.affinityTimeout {
            text += "  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: \(timeout)}}\n"
        }
        text += "  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080\(service.nodePort.map { ", nodePort: \($0)" } ?? "")}]\n"
        return text
    }

    private func sliceYAML(_ service: Service) -> String {
        var text = """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: \(service.name)-x
              namespace: \(service.namespace)
              labels: {kubernetes.io/service-name: \(service.name)}
            addressType: IPv4
            ports: [{name: http, port: 8080, protocol: TCP}]
            endpoints:\(service.endpoints.isEmpty ? " []" : "")

            """
        for endpoint in service.endpoints {
            let pod = pods[endpoint.pod]
            text += "- {addresses: [\(pod.address)], conditions: {ready: \(endpoint.ready)}, nodeName: \(pod.node), "
            text += "targetRef: {kind: Pod, namespace: \(pod.namespace), name: \(pod.name)}}\n"
        }
        return text
    }

    private func policyYAML(_ policy: Policy) -> String {
        var text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: \(policy.name), namespace: \(policy.namespace)}\nspec:\n"
        text += "  podSelector: " + (policy.app.map { "{matchLabels: {app: \($0)}}" } ?? "{}") + "\n"
        var types: [String] = []
        if policy.ingress != nil || policy.egress == nil { types.append("Ingress") }
        if policy.egress != nil { types.append("Egress") }
        text += "  policyTypes: [\(types.joined(separator: ", "))]\n"
        let ports = policy.port.map { "    ports: [{port: \($0), protocol: TCP}]\n" } ?? ""
        if let ingress = policy.ingress {
            text += ingress.isEmpty ? "  ingress: []\n" : "  ingress:\n  - from:\n" + ingress.map(Self.peerYAML).joined() + ports
        }
        if let egress = policy.egress {
            text += egress.isEmpty ? "  egress: []\n" : "  egress:\n  - to:\n" + egress.map(Self.peerYAML).joined() + ports
        }
        return text
    }

    private static func peerYAML(_ peer: Peer) -> String {
        switch peer {
        case .app(let app): return "    - podSelector: {matchLabels: {app: \(app)}}\n"
        case .namespace(let name): return "    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: \(name)}}\n"
        case .block(let cidr, let except):
            return "    - ipBlock: {cidr: \(cidr)\(except.map { ", except: [\($0)]" } ?? "")}\n"
        }
    }

    /// Compiles the cluster (written to a temporary file).
    func compile() throws -> Ruleset {
        try Self.compile(yaml: yaml, node: Self.node)
    }

    /// Compiles YAML text for `node`; the empty text gives the table with no objects.
    static func compile(yaml: String, node: NodeOptions) throws -> Ruleset {
        let path = NSTemporaryDirectory() + "kubenft-nl-\(UUID().uuidString).yaml"
        try (yaml.isEmpty ? "apiVersion: v1\nkind: List\nitems: []\n" : yaml).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = Pipeline.run(paths: [path], node: node)
        guard let ruleset = result.ruleset else {
            throw Namespaces.Failure(description: "generated cluster does not compile: \(result.errors.map(\.description).prefix(3))\n\(yaml)")
        }
        return ruleset
    }
}
