import KubeManifest
import NFTRuleset

/// One rule of an AdminNetworkPolicy or of the baseline, with its place in evaluation order.
struct AdminRuleRef: Hashable {
    var policy: AdminNetworkPolicy
    var direction: PolicyDirection
    var index: Int

    var rule: AdminNetworkPolicy.Rule { (direction == .ingress ? policy.ingress : policy.egress)[index] }
    var label: String {
        let name = rule.name.isEmpty ? "[\(index)]" : " \(rule.name)"
        return "\(policy.kind.abbreviation) \(policy.meta.name) \(direction.rawValue)\(name)"
    }
    var key: String {
        let kind = policy.kind == .clusterNetworkPolicy ? "cnp-" : ""
        return "\(kind)\(policy.tier.rawValue)/\(policy.meta.name)/\(direction.rawValue)/\(index)"
    }
    /// The rule's action as its policy's API spells it.
    var actionName: String { policy.spelling(of: rule.action) }
}

extension PodIndex {
    /// Pods of an admin policy's subject or pod peer.
    func pods(of set: AdminNetworkPolicy.PodSet) -> [Pod] {
        switch set {
        case .namespaces(let selector):
            return pods(of: NetworkPolicy.Peer(podSelector: LabelSelector(), namespaceSelector: selector), policyNamespace: "")
        case .pods(let namespaces, let pods):
            return self.pods(of: NetworkPolicy.Peer(podSelector: pods, namespaceSelector: namespaces), policyNamespace: "")
        }
    }
}

extension PolicyCompiler {
    /// Admin and baseline rules that apply to a pod in one direction, in evaluation order:
    /// admin policies by priority then name, rules in order.
    func adminRules(for pod: Pod, direction: PolicyDirection, tier: AdminNetworkPolicy.Tier) -> [AdminRuleRef] {
        var result: [AdminRuleRef] = []
        for (policy, subjects) in zip(adminPolicies, adminSubjects) where policy.tier == tier && subjects.contains(pod.meta.qualifiedName) {
            let count = direction == .ingress ? policy.ingress.count : policy.egress.count
            result += (0..<count).map { AdminRuleRef(policy: policy, direction: direction, index: $0) }
        }
        return result
    }

    /// The peers of an admin rule as addresses (and the pods behind them, for named ports).
    func peers(of rule: AdminNetworkPolicy.Rule) -> PeerSpec {
        var ranges: [AddressRange] = []
        var blocks: [AddressRange] = []
        var pods: [Pod] = []
        for peer in rule.peers {
            switch peer {
            case .pods(let set):
                let selected = index.pods(of: set)
                pods += selected
                ranges += selected.flatMap { $0.podIPs.map(AddressRange.init) }
            case .networks(let cidrs):
                ranges += cidrs.map(AddressRange.init)
                blocks += cidrs.map(AddressRange.init)
            case .nodes(let selector):
                ranges += nodes.filter { selector.matches($0.meta.labels) }.flatMap { $0.addresses.map(AddressRange.init) }
            }
        }
        return .some(ranges: AddressRange.union(ranges), pods: pods, blocks: AddressRange.union(blocks))
    }

    /// The port alternatives of an admin rule; named ports resolve against the group's pods for
    /// ingress and against destination pods for egress.
    func ports(of rule: AdminNetworkPolicy.Rule, direction: PolicyDirection, groupPorts: [Pod.ContainerPort]) -> [PortMatch] {
        guard let ports = rule.ports else { return [.anything] }
        var matches: [PortMatch] = []
        for port in ports {
            switch port {
            case .number(let proto, let number): matches.append(.numeric(proto, number...number))
            case .range(let proto, let low, let high): matches.append(.numeric(proto, low...high))
            case .named(let name):
                if direction == .egress {
                    matches += L4Protocol.allCases.map { .namedDestination($0, name) }
                } else {
                    matches += groupPorts.filter { $0.name == name }.map { .numeric($0.protocol, $0.port...$0.port) }
                }
            }
        }
        return matches
    }

    /// The statements' final verdict for an admin action; Pass continues in `next` (or allows).
    static func verdict(for action: AdminNetworkPolicy.Action, next: String?) -> Verdict {
        switch action {
        case .allow: return .return
        case .deny: return .drop
        case .pass: return next.map(Verdict.goto) ?? .return
        }
    }
}
