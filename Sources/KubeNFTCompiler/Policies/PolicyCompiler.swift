import KubeManifest
import NFTRuleset

/// Compiles NetworkPolicies into default-deny chains for the pods on this node.
///
/// Shape: `policy-forward` (filter, forward) accepts replies and a pod reaching itself, then sends
/// a packet to the egress chain of its source pod and the ingress chain of its destination pod
/// through per-family verdict maps keyed by pod address. Pods selected by the same policies share one
/// chain; each rule is a `return` (allowed) and the chain ends in `drop`. Peers are interval sets,
/// one per distinct address list. An admin tier would be a jump before the dispatch, a baseline tier a
/// jump in place of each chain's final drop.
struct PolicyCompiler {
    var context: NodeContext
    var index: PodIndex
    var policies: [NetworkPolicy]

    init(cluster: Cluster, context: NodeContext) {
        self.context = context
        self.index = PodIndex(cluster: cluster)
        self.policies = cluster.networkPolicies
    }

    /// A chain shared by pods with the same selecting policies (and, for ingress, the same ports).
    struct Group {
        var direction: PolicyDirection
        var policies: [NetworkPolicy]
        var ports: [Pod.ContainerPort]
        var pods: [Pod]
    }

    func compile(into assembly: inout Assembly) {
        guard !policies.isEmpty else { return }
        declareDispatch(into: &assembly)
        for group in groups() {
            let chain = chainName(group)
            var rules: [Rule] = []
            for policy in group.policies {
                rules += chainRules(for: policy, group: group, into: &assembly)
            }
            let names = group.policies.map(\.meta.qualifiedName).joined(separator: ", ")
            rules.append(Rule([.verdict(.drop)], comment: "\(group.direction.rawValue) isolated by \(names)"))
            assembly.add(Chain(name: chain, comment: "\(group.direction.rawValue) of pods selected by \(names)", rules: rules))
            for pod in group.pods {
                for address in pod.podIPs {
                    let map = group.direction == .ingress ? Names.policyIngress(address.family) : Names.policyEgress(address.family)
                    assembly.add(SetElement(key: [.address(address)], data: .verdict(.jump(chain)), comment: pod.meta.qualifiedName), to: map)
                    assembly.add(SetElement(key: [.address(address), .address(address)]), to: Names.podSelf(address.family))
                }
            }
        }
    }

    private func isEnforced(_ pod: Pod) -> Bool {
        guard let node = context.nodeName else { return true }
        return pod.nodeName == node
    }

    /// Groups the enforced pods by the policies isolating them, per direction.
    func groups() -> [Group] {
        var ingress: [String: [NetworkPolicy]] = [:]
        var egress: [String: [NetworkPolicy]] = [:]
        var podsByName: [String: Pod] = [:]
        for policy in policies {
            let types = policy.effectivePolicyTypes
            for pod in index.pods(in: policy.meta.namespace, matching: policy.podSelector) where isEnforced(pod) {
                podsByName[pod.meta.qualifiedName] = pod
                if types.contains(.ingress) { ingress[pod.meta.qualifiedName, default: []].append(policy) }
                if types.contains(.egress) { egress[pod.meta.qualifiedName, default: []].append(policy) }
            }
        }
        var groups: [String: Group] = [:]
        for (direction, table) in [(PolicyDirection.ingress, ingress), (.egress, egress)] {
            for (podName, selecting) in table {
                guard let pod = podsByName[podName] else { continue }
                let usesNamedPorts = direction == .ingress && selecting.contains { Self.usesNamedPorts($0.ingress) }
                let ports = usesNamedPorts ? pod.containerPorts.sorted { ($0.name, $0.port) < ($1.name, $1.port) } : []
                let key = direction.rawValue + "|" + selecting.map(\.meta.qualifiedName).joined(separator: "|")
                    + "|" + ports.map { "\($0.name)/\($0.protocol.rawValue)/\($0.port)" }.joined(separator: ",")
                groups[key, default: Group(direction: direction, policies: selecting, ports: ports, pods: [])].pods.append(pod)
            }
        }
        return groups.sorted { $0.key < $1.key }.map { entry in
            var group = entry.value
            group.pods.sort { $0.meta.qualifiedName < $1.meta.qualifiedName }
            return group
        }
    }

    private static func usesNamedPorts(_ rules: [NetworkPolicy.Rule]?) -> Bool {
        (rules ?? []).contains { ($0.ports ?? []).contains { if case .name? = $0.port { return true } else { return false } } }
    }

    func chainName(_ group: Group) -> String {
        var components = group.policies.flatMap { [$0.meta.namespace, $0.meta.name] }
        if !group.ports.isEmpty {
            components += ["ports", Naming.hash(group.ports.map { "\($0.name)/\($0.protocol.rawValue)/\($0.port)" }.joined(separator: ","))]
        }
        return Naming.identifier(group.direction == .ingress ? "np-in" : "np-out", components)
    }
}
