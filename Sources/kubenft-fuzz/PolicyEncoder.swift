/// Prints a `PolicyWorld` as manifests, choosing at random among encodings the API server reads
/// as the same object: absent, `null` and `[]` for empty optional lists (from/to, ports, except,
/// ingress, egress, matchLabels, matchExpressions, and policyTypes, which the API defaults when
/// empty), `{}` and its spelled-out forms for an empty selector, an omitted or explicit `TCP`,
/// the defaulted policyTypes spelled out, any key order. `Printer` then varies the syntax.
struct PolicyEncoder {
    typealias World = PolicyWorld
    var rng: SeededRandom

    mutating func manifests(_ world: World) -> [Value] {
        var docs: [Value] = [node()]
        docs += world.namespaces.map { namespace in
            object("Namespace", apiVersion: "v1", name: namespace.name, namespace: nil, labels: namespace.labels, rest: [])
        }
        docs += world.pods.map { pod($0) }
        docs += world.policies.map { policy($0) }
        return docs
    }

    private func node() -> Value {
        let addresses: Value = .list([.map([("type", .string("InternalIP")), ("address", .string("198.51.100.1"))])])
        return object("Node", apiVersion: "v1", name: "node-1", namespace: nil, labels: [:],
                      rest: [("status", .map([("addresses", addresses)]))])
    }

    private mutating func pod(_ pod: World.Pod) -> Value {
        let container: Value = .map([("name", .string("agent")), ("image", .string("registry.example/agent:1"))])
        let spec: Value = .map([("nodeName", .string("node-1")), ("containers", .list([container]))])
        let status: Value = .map([("phase", .string(pod.phase)), ("podIP", .string(pod.ip)),
                                  ("podIPs", .list([.map([("ip", .string(pod.ip))])]))])
        return object("Pod", apiVersion: "v1", name: pod.name, namespace: pod.namespace, labels: pod.labels,
                      rest: [("spec", spec), ("status", status)])
    }

    private mutating func policy(_ policy: World.Policy) -> Value {
        var spec: [(String, Value)] = [("podSelector", selector(policy.podSelector))]
        optionalList(&spec, "ingress", policy.ingress.map { rule($0, peersKey: "from") })
        optionalList(&spec, "egress", policy.egress.map { rule($0, peersKey: "to") })
        if let types = policy.policyTypes {
            spec.append(("policyTypes", .list(types.map { .string($0) })))
        } else if rng.chance(0.3) {
            spec.append(("policyTypes", .list(ReferenceModel.effectiveTypes(policy).map { .string($0) })))
        } else {
            optionalList(&spec, "policyTypes", [])
        }
        return object("NetworkPolicy", apiVersion: "networking.k8s.io/v1", name: policy.name, namespace: policy.namespace,
                      labels: [:], rest: [("spec", .map(rng.shuffled(spec)))])
    }

    private mutating func rule(_ rule: World.Rule, peersKey: String) -> Value {
        var pairs: [(String, Value)] = []
        optionalList(&pairs, peersKey, rule.peers.map { peer($0) })
        optionalList(&pairs, "ports", rule.ports.map { port($0) })
        return .map(rng.shuffled(pairs))
    }

    private mutating func peer(_ peer: World.Peer) -> Value {
        switch peer {
        case let .pods(podSelector, namespaceSelector):
            var pairs: [(String, Value)] = []
            if let podSelector { pairs.append(("podSelector", selector(podSelector))) } else if rng.chance(0.2) {
                pairs.append(("podSelector", .null))
            }
            if let namespaceSelector { pairs.append(("namespaceSelector", selector(namespaceSelector))) } else if rng.chance(0.2) {
                pairs.append(("namespaceSelector", .null))
            }
            return .map(rng.shuffled(pairs))
        case let .ipBlock(cidr, except):
            var block: [(String, Value)] = [("cidr", .string(cidr))]
            optionalList(&block, "except", except.map { .string($0) })
            return .map([("ipBlock", .map(rng.shuffled(block)))])
        }
    }

    private mutating func port(_ match: World.PortMatch) -> Value {
        var pairs: [(String, Value)] = []
        if let proto = match.proto { pairs.append(("protocol", .string(proto))) } else if rng.chance(0.3) {
            pairs.append(("protocol", .string("TCP")))
        }
        if let port = match.port { pairs.append(("port", .int(Int64(port)))) }
        if let end = match.endPort { pairs.append(("endPort", .int(Int64(end)))) }
        return .map(rng.shuffled(pairs))
    }

    private mutating func selector(_ selector: World.Selector) -> Value {
        var pairs: [(String, Value)] = []
        optionalMap(&pairs, "matchLabels", selector.labels.map { ($0.0, .string($0.1)) })
        let expressions: [Value] = selector.expressions.map { expression in
            var fields: [(String, Value)] = [("key", .string(expression.key)), ("operator", .string(expression.op))]
            if !expression.values.isEmpty { fields.append(("values", .list(expression.values.map { .string($0) }))) }
            return .map(rng.shuffled(fields))
        }
        optionalList(&pairs, "matchExpressions", expressions)
        return .map(rng.shuffled(pairs))
    }

    /// A list field: written as is when non-empty, else absent, `null` or `[]` at random.
    private mutating func optionalList(_ pairs: inout [(String, Value)], _ key: String, _ items: [Value]) {
        if !items.isEmpty { pairs.append((key, .list(items))); return }
        switch rng.below(3) {
        case 0: break
        case 1: pairs.append((key, .null))
        default: pairs.append((key, .list([])))
        }
    }

    private mutating func optionalMap(_ pairs: inout [(String, Value)], _ key: String, _ items: [(String, Value)]) {
        if !items.isEmpty { pairs.append((key, .map(items))); return }
        switch rng.below(3) {
        case 0: break
        case 1: pairs.append((key, .null))
        default: pairs.append((key, .map([])))
        }
    }

    private func object(_ kind: String, apiVersion: String, name: String, namespace: String?, labels: [String: String],
                        rest: [(String, Value)]) -> Value {
        var meta: [(String, Value)] = [("name", .string(name))]
        if let namespace { meta.append(("namespace", .string(namespace))) }
        if !labels.isEmpty { meta.append(("labels", .map(labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))) }
        return .map([("apiVersion", .string(apiVersion)), ("kind", .string(kind)), ("metadata", .map(meta))] + rest)
    }
}

/// Edits that make a policy manifest one the API server refuses (kubenft must exit 2): a null
/// peer, a null or missing cidr, a null except entry, a null policy type, an empty peer, an `In`
/// expression without values.
enum InvalidPolicyEdit: String, CaseIterable, Sendable {
    case nullFromPeer, nullToPeer, nullCIDR, nullExcept, nullPolicyType, emptyPeer, inWithoutValues

    /// The spec of a NetworkPolicy carrying this edit (applied to a policy of the world).
    func spec(podSelector: Value) -> Value {
        switch self {
        case .nullFromPeer: return .map([("podSelector", podSelector), ("ingress", .list([.map([("from", .list([.null]))])]))])
        case .nullToPeer:
            return .map([("podSelector", podSelector), ("policyTypes", .list([.string("Egress")])),
                         ("egress", .list([.map([("to", .list([.null]))])]))])
        case .nullCIDR: return ingress(podSelector, peer: .map([("ipBlock", .map([("cidr", .null)]))]))
        case .nullExcept:
            return ingress(podSelector, peer: .map([("ipBlock", .map([("cidr", .string("10.244.0.0/16")), ("except", .list([.null]))]))]))
        case .nullPolicyType: return .map([("podSelector", podSelector), ("policyTypes", .list([.null]))])
        case .emptyPeer: return ingress(podSelector, peer: .map([]))
        case .inWithoutValues:
            let selector: Value = .map([("matchExpressions", .list([.map([("key", .string("pod")), ("operator", .string("In"))])]))])
            return ingress(podSelector, peer: .map([("podSelector", selector)]))
        }
    }

    private func ingress(_ podSelector: Value, peer: Value) -> Value {
        .map([("podSelector", podSelector), ("ingress", .list([.map([("from", .list([peer]))])]))])
    }
}
