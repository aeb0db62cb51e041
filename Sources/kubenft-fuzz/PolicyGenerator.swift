/// Draws small random clusters and NetworkPolicies for the differential oracle.
struct PolicyGenerator {
    typealias World = PolicyWorld
    var rng: SeededRandom

    mutating func world() -> World {
        let names = Array(["x", "y", "z"].prefix(2 + rng.below(2)))
        let namespaces = names.map { name in
            var labels = ["ns": name, "kubernetes.io/metadata.name": name]
            if rng.chance(0.5) { labels["team"] = rng.pick(["red", "blue"]) }
            return World.Namespace(name: name, labels: labels)
        }
        var pods: [World.Pod] = []
        for (nsIndex, namespace) in names.enumerated() {
            for (podIndex, name) in ["a", "b", "c"].prefix(2 + rng.below(2)).enumerated() {
                var labels = ["pod": name]
                if rng.chance(0.5) { labels["tier"] = rng.pick(["web", "db"]) }
                let ip = "10.244.1.\(10 * (nsIndex + 1) + podIndex + 1)"
                pods.append(World.Pod(namespace: namespace, name: name, labels: labels, ip: ip, phase: "Running"))
            }
        }
        if rng.chance(0.3) { pods.append(terminatedPod(reusingAddressOf: rng.pick(pods), namespaces: names)) }
        let policies = (0..<(1 + rng.below(3))).map { index in policy(index, namespaces: names, pods: pods) }
        return World(namespaces: namespaces, pods: pods, policies: policies, ports: [80, 81], protocols: ["TCP", "UDP"])
    }

    /// A pod that has finished, whose address the cluster has since given to a live pod elsewhere.
    private mutating func terminatedPod(reusingAddressOf live: World.Pod, namespaces: [String]) -> World.Pod {
        let namespace = rng.pick(namespaces.filter { $0 != live.namespace } + [live.namespace])
        let labels = ["pod": rng.pick(["a", "b", "old"]), "tier": rng.pick(["web", "db"])]
        return World.Pod(namespace: namespace, name: "old", labels: labels, ip: live.ip, phase: rng.pick(["Succeeded", "Failed"]))
    }

    private mutating func policy(_ index: Int, namespaces: [String], pods: [World.Pod]) -> World.Policy {
        var types: [String]? = nil
        if rng.chance(0.4) { types = rng.pick([["Ingress"], ["Egress"], ["Ingress", "Egress"]]) }
        let ingress = (0..<rng.below(3)).map { _ in rule(pods: pods) }
        let egress = (0..<rng.below(3)).map { _ in rule(pods: pods) }
        return World.Policy(namespace: rng.pick(namespaces), name: "p\(index)", podSelector: selector(),
                            ingress: ingress, egress: egress, policyTypes: types)
    }

    private mutating func rule(pods: [World.Pod]) -> World.Rule {
        let peers = (0..<rng.below(3)).map { _ in peer(pods: pods) }
        let ports = (0..<rng.below(3)).map { _ in portMatch() }
        return World.Rule(peers: peers, ports: ports)
    }

    private mutating func peer(pods: [World.Pod]) -> World.Peer {
        switch rng.below(4) {
        case 0: return .pods(podSelector: selector(), namespaceSelector: nil)
        case 1: return .pods(podSelector: nil, namespaceSelector: namespaceSelector())
        case 2: return .pods(podSelector: selector(), namespaceSelector: namespaceSelector())
        default:
            let single = rng.pick(pods).ip + "/32"
            let cidr = rng.pick(["10.244.1.0/24", "10.244.0.0/16", "10.244.1.16/28", single])
            guard !cidr.hasSuffix("/32"), rng.chance(0.6) else { return .ipBlock(cidr: cidr, except: []) }
            let inside = pods.map(\.ip).filter { IPv4Prefix(cidr)?.contains($0) == true }
            let except = inside.isEmpty ? [] : [rng.pick(inside) + rng.pick(["/32", "/30"])]
            return .ipBlock(cidr: cidr, except: except)
        }
    }

    private mutating func portMatch() -> World.PortMatch {
        let proto = rng.pick([nil, "TCP", "UDP"] as [String?])
        switch rng.below(4) {
        case 0: return World.PortMatch(proto: proto, port: nil, endPort: nil)
        case 1: return World.PortMatch(proto: proto, port: 80, endPort: 81)
        default: return World.PortMatch(proto: proto, port: rng.pick([80, 81]), endPort: nil)
        }
    }

    private mutating func selector() -> World.Selector {
        switch rng.below(5) {
        case 0: return World.Selector()
        case 1: return World.Selector(labels: [("pod", rng.pick(["a", "b", "c"]))])
        case 2: return World.Selector(labels: [("tier", rng.pick(["web", "db"]))])
        default:
            let key = rng.pick(["pod", "tier"])
            let op = rng.pick(["In", "NotIn", "Exists", "DoesNotExist"])
            let values = op == "In" || op == "NotIn" ? [rng.pick(["a", "b", "web"]), rng.pick(["c", "db"])] : []
            return World.Selector(expressions: [World.Expression(key: key, op: op, values: values)])
        }
    }

    private mutating func namespaceSelector() -> World.Selector {
        switch rng.below(4) {
        case 0: return World.Selector()
        case 1: return World.Selector(labels: [("ns", rng.pick(["x", "y", "z"]))])
        case 2: return World.Selector(labels: [("team", rng.pick(["red", "blue"]))])
        default:
            return World.Selector(expressions: [World.Expression(key: "kubernetes.io/metadata.name", op: rng.pick(["In", "NotIn"]),
                                                                 values: [rng.pick(["x", "y", "z"])])])
        }
    }
}
