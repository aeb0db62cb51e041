/// An abstract cluster and NetworkPolicies for the differential oracle: what the policies mean,
/// independent of how they are encoded, and a reference model of upstream NetworkPolicy
/// semantics (k8s.io/api networking/v1) to judge kubenft's matrix against.
struct PolicyWorld: Sendable {
    struct Namespace: Sendable { var name: String; var labels: [String: String] }
    struct Pod: Sendable {
        var namespace: String
        var name: String
        var labels: [String: String]
        var ip: String
        /// `Running`, or `Succeeded` / `Failed` for a terminated pod that must not count.
        var phase: String
        var key: String { namespace + "/" + name }
        var live: Bool { phase != "Succeeded" && phase != "Failed" }
    }
    struct Expression: Sendable { var key: String; var op: String; var values: [String] }
    struct Selector: Sendable {
        var labels: [(String, String)] = []
        var expressions: [Expression] = []
    }
    enum Peer: Sendable {
        case pods(podSelector: Selector?, namespaceSelector: Selector?)
        case ipBlock(cidr: String, except: [String])
    }
    struct PortMatch: Sendable { var proto: String?; var port: Int?; var endPort: Int? }
    struct Rule: Sendable { var peers: [Peer]; var ports: [PortMatch] }
    struct Policy: Sendable {
        var namespace: String
        var name: String
        var podSelector: Selector
        var ingress: [Rule]
        var egress: [Rule]
        /// nil: defaulted from the rules, as the API server does.
        var policyTypes: [String]?
    }

    var namespaces: [Namespace]
    var pods: [Pod]
    var policies: [Policy]
    var ports: [Int]
    var protocols: [String]
}

/// The reference semantics: one pure function per clause of the API documentation.
enum ReferenceModel {
    typealias World = PolicyWorld

    static func allowed(_ world: World, from source: World.Pod, to destination: World.Pod, port: Int, proto: String) -> Bool {
        if source.key == destination.key { return true }
        let ingress = direction(world, subject: destination, peer: source, port: port, proto: proto, ingress: true)
        let egress = direction(world, subject: source, peer: destination, port: port, proto: proto, ingress: false)
        return ingress && egress
    }

    /// Whether the subject pod's policies for one direction let the connection through.
    static func direction(_ world: World, subject: World.Pod, peer: World.Pod, port: Int, proto: String, ingress: Bool) -> Bool {
        let type = ingress ? "Ingress" : "Egress"
        let isolating = world.policies.filter {
            $0.namespace == subject.namespace && matches($0.podSelector, subject.labels) && effectiveTypes($0).contains(type)
        }
        if isolating.isEmpty { return true }
        return isolating.contains { policy in
            (ingress ? policy.ingress : policy.egress).contains { rule in
                ruleMatches(rule, world: world, policyNamespace: policy.namespace, peer: peer, port: port, proto: proto)
            }
        }
    }

    static func effectiveTypes(_ policy: World.Policy) -> [String] {
        if let types = policy.policyTypes, !types.isEmpty { return types }
        return policy.egress.isEmpty ? ["Ingress"] : ["Ingress", "Egress"]
    }

    static func ruleMatches(_ rule: World.Rule, world: World, policyNamespace: String, peer: World.Pod, port: Int, proto: String) -> Bool {
        let peerOK = rule.peers.isEmpty || rule.peers.contains { peerMatches($0, world: world, policyNamespace: policyNamespace, pod: peer) }
        let portOK = rule.ports.isEmpty || rule.ports.contains { portMatches($0, port: port, proto: proto) }
        return peerOK && portOK
    }

    static func peerMatches(_ peer: World.Peer, world: World, policyNamespace: String, pod: World.Pod) -> Bool {
        switch peer {
        case let .pods(podSelector, namespaceSelector):
            let namespaceOK: Bool
            if let namespaceSelector {
                let labels = world.namespaces.first { $0.name == pod.namespace }?.labels ?? [:]
                namespaceOK = matches(namespaceSelector, labels)
            } else {
                namespaceOK = pod.namespace == policyNamespace
            }
            return namespaceOK && (podSelector.map { matches($0, pod.labels) } ?? true)
        case let .ipBlock(cidr, except):
            return IPv4Prefix(cidr)?.contains(pod.ip) == true && !except.contains { IPv4Prefix($0)?.contains(pod.ip) == true }
        }
    }

    static func portMatches(_ match: World.PortMatch, port: Int, proto: String) -> Bool {
        guard (match.proto ?? "TCP") == proto else { return false }
        guard let start = match.port else { return true }
        guard let end = match.endPort else { return start == port }
        return start <= port && port <= end
    }

    static func matches(_ selector: World.Selector, _ labels: [String: String]) -> Bool {
        for (key, value) in selector.labels where labels[key] != value { return false }
        for expression in selector.expressions {
            let value = labels[expression.key]
            switch expression.op {
            case "In": if value == nil || !expression.values.contains(value!) { return false }
            case "NotIn": if let value, expression.values.contains(value) { return false }
            case "Exists": if value == nil { return false }
            case "DoesNotExist": if value != nil { return false }
            default: return false
            }
        }
        return true
    }
}

/// Just enough IPv4 prefix arithmetic for `ipBlock` in the reference model.
struct IPv4Prefix: Sendable {
    var network: UInt32
    var length: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length),
              let address = IPv4Prefix.parse(String(parts[0])) else { return nil }
        self.length = length
        network = address & IPv4Prefix.mask(length)
    }

    func contains(_ text: String) -> Bool {
        guard let address = IPv4Prefix.parse(text) else { return false }
        return address & IPv4Prefix.mask(length) == network
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : ~UInt32(0) << UInt32(32 - length) }

    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 < 256 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }
}
