import KubeManifest
import NFTRuleset

/// Compiles ClusterNetworkPolicies (both tiers), AdminNetworkPolicies, NetworkPolicies and the
/// BaselineAdminNetworkPolicy into default-deny chains for the pods on this node.
///
/// Shape: `policy-forward` (filter, forward) accepts replies and a pod reaching itself, then sends
/// a packet to the egress chain of its source pod and the ingress chain of its destination pod
/// through per-family verdict maps keyed by pod address. A pod's chain is its admin rules in order
/// (Allow returns, Deny drops, Pass goes on to the next tier), then its NetworkPolicy chain (rules
/// return, the end drops) or, when no NetworkPolicy isolates it, its baseline rules. Pods with the
/// same rules share chains; peers are interval sets, one per distinct address list.
struct PolicyCompiler {
    var context: NodeContext
    var index: PodIndex
    var policies: [NetworkPolicy]
    var adminPolicies: [AdminNetworkPolicy]
    /// Qualified names of the pods each admin policy applies to, aligned with `adminPolicies`.
    var adminSubjects: [Set<String>]
    var nodes: [Node]
    /// Peers of each rule, computed once however many groups the rule's policy applies to.
    let peerCache = PeerCache()

    init(cluster: Cluster, context: NodeContext) {
        self.context = context
        self.index = PodIndex(cluster: cluster)
        self.policies = cluster.networkPolicies
        self.adminPolicies = cluster.adminPolicies.sorted { ($0.priority, $0.meta.name, $0.kind.rawValue) < ($1.priority, $1.meta.name, $1.kind.rawValue) }
        let index = self.index
        self.adminSubjects = adminPolicies.map { Set(index.pods(of: $0.subject).map(\.meta.qualifiedName)) }
        self.nodes = Self.nodesWithThisOne(cluster.nodes, context: context)
    }

    /// The cluster's Nodes, plus this node (no labels, its addresses) when it has no Node object,
    /// so an admin `nodes` peer that selects every node covers this one too.
    static func nodesWithThisOne(_ nodes: [Node], context: NodeContext) -> [Node] {
        guard let name = context.nodeName, !context.nodeIPs.isEmpty, !nodes.contains(where: { $0.meta.name == name }) else { return nodes }
        return nodes + [Node(meta: ObjectMeta(name: name, location: SourceLocation(file: "--node-name", line: 0, column: 0)),
                             addresses: context.nodeIPs)]
    }

    /// Pods that share every rule that decides their traffic in one direction.
    struct Group {
        var direction: PolicyDirection
        var admin: [AdminRuleRef]
        var policies: [NetworkPolicy]
        var baseline: [AdminRuleRef]
        var ports: [Pod.ContainerPort]
        var pods: [Pod]
    }

    /// Compiles the cluster's policies; without any policy there is nothing to compile, and the pod
    /// index (a pass over every pod) is not built.
    static func compile(_ cluster: Cluster, context: NodeContext, into assembly: inout Assembly) {
        guard !cluster.networkPolicies.isEmpty || !cluster.adminPolicies.isEmpty else { return }
        PolicyCompiler(cluster: cluster, context: context).compile(into: &assembly)
    }

    /// ClusterNetworkPolicy applies to a pod reaching itself through a Service (hairpin); the
    /// v1alpha1 kinds and NetworkPolicy always let a pod reach itself.
    var hasClusterPolicies: Bool { adminPolicies.contains { $0.kind == .clusterNetworkPolicy } }

    func compile(into assembly: inout Assembly) {
        guard !policies.isEmpty || !adminPolicies.isEmpty else { return }
        let hairpinApplies = hasClusterPolicies
        declareDispatch(into: &assembly, hairpin: hairpinApplies)
        if !adminPolicies.isEmpty { declareNodeDispatch(into: &assembly) }
        var hairpin: [String: (pod: Pod, chains: [PolicyDirection: String])] = [:]
        for group in groups() {
            if hairpinApplies, let entry = passThroughChain(for: group, keeping: { $0.policy.kind == .clusterNetworkPolicy }, into: &assembly) {
                for pod in group.pods { hairpin[pod.meta.qualifiedName, default: (pod, [:])].chains[group.direction] = entry }
            }
            if let entry = chains(for: group, into: &assembly) {
                for pod in group.pods {
                    for address in pod.podIPs {
                        let map = group.direction == .ingress ? Names.policyIngress(address.family) : Names.policyEgress(address.family)
                        assembly.add(SetElement(key: [.address(address)], data: .verdict(.jump(entry)), comment: pod.meta.qualifiedName), to: map)
                        assembly.add(SetElement(key: [.address(address), .address(address)]), to: Names.podSelf(address.family))
                    }
                }
            }
            guard group.direction == .egress, let entry = passThroughChain(for: group, keeping: { _ in true }, into: &assembly) else { continue }
            for pod in group.pods {
                for address in pod.podIPs {
                    assembly.add(SetElement(key: [.address(address)], data: .verdict(.jump(entry)), comment: pod.meta.qualifiedName),
                                 to: Names.policyNodeEgress(address.family))
                }
            }
        }
        for (name, entry) in hairpin.sorted(by: { $0.key < $1.key }) {
            let chain = hairpinChain(entry.chains, into: &assembly)
            for address in entry.pod.podIPs {
                assembly.add(SetElement(key: [.address(address), .address(address)], data: .verdict(.jump(chain)), comment: name),
                             to: Names.podHairpin(address.family))
            }
        }
    }

    /// The chain of the group's admin rules (those `keeping` keeps), then — where NetworkPolicy
    /// always allows — allowed when NetworkPolicies isolate the pods, or their baseline rules when
    /// none does. For a pod's connections to this node's own addresses (every admin kind) and to
    /// itself through a Service (ClusterNetworkPolicy only). Nil when nothing applies (allowed).
    private func passThroughChain(for group: Group, keeping keep: (AdminRuleRef) -> Bool, into assembly: inout Assembly) -> String? {
        let baselineRefs = group.baseline.filter(keep), adminRefs = group.admin.filter(keep)
        let baseline = baselineRefs.isEmpty ? nil : tierChain("np-base", baselineRefs, group: group, next: nil, into: &assembly)
        guard !adminRefs.isEmpty else { return baseline }
        return tierChain("np-admin", adminRefs, group: group, next: baseline, into: &assembly)
    }

    /// A pod's hairpin chain: its egress, then its ingress ClusterNetworkPolicy rules; shared by
    /// pods with the same pair. Returning from it lets `policy-forward` accept the pod reaching itself.
    private func hairpinChain(_ chains: [PolicyDirection: String], into assembly: inout Assembly) -> String {
        let steps = [PolicyDirection.egress, .ingress].compactMap { direction in chains[direction].map { (direction, $0) } }
        let name = "np-hairpin-" + Naming.hash(steps.map { "\($0.0.rawValue)=\($0.1)" }.joined(separator: ","))
        guard !assembly.hasChain(name) else { return name }
        let rules = steps.map { Rule([.verdict(.jump($0.1))], comment: "\($0.0.rawValue) of the pod") }
        assembly.add(Chain(name: name, comment: "ClusterNetworkPolicy: a pod reaching itself through a Service", rules: rules))
        return name
    }

    /// Builds the group's chains and returns the one its pods are dispatched to (nil: nothing applies).
    private func chains(for group: Group, into assembly: inout Assembly) -> String? {
        var next: String?
        if !group.policies.isEmpty {
            let chain = chainName(group)
            var rules: [Rule] = []
            for policy in group.policies { rules += chainRules(for: policy, group: group, into: &assembly) }
            let names = group.policies.map(\.meta.qualifiedName).joined(separator: ", ")
            let drop = Rule([.verdict(.drop)], comment: "\(group.direction.rawValue) isolated by \(names)")
            rules += context.observation.observe([drop], counter: DropObservation.policyCounter(group.direction, group.policies), into: &assembly)
            assembly.add(Chain(name: chain, comment: "\(group.direction.rawValue) of pods selected by \(names)", rules: rules))
            next = chain
        } else if !group.baseline.isEmpty {
            next = tierChain("np-base", group.baseline, group: group, next: nil, into: &assembly)
        }
        guard !group.admin.isEmpty else { return next }
        return tierChain("np-admin", group.admin, group: group, next: next, into: &assembly)
    }

    /// A chain of admin or baseline rules in order, ending in `next` (or allowing).
    private func tierChain(_ prefix: String, _ refs: [AdminRuleRef], group: Group, next: String?, into assembly: inout Assembly) -> String {
        let key = refs.map(\.key).joined(separator: ",") + "|" + (next ?? "") + "|" + group.ports.map { "\($0.name)/\($0.port)" }.joined(separator: ",")
        // Chains holding ClusterNetworkPolicy rules say so in their name: explanations read it.
        let kindPrefix = refs.contains { $0.policy.kind == .clusterNetworkPolicy } ? prefix.replacingOccurrences(of: "np-", with: "np-cnp-") : prefix
        let name = "\(kindPrefix)-\(group.direction == .ingress ? "in" : "out")-\(Naming.hash(key))"
        guard !assembly.hasChain(name) else { return name }
        var rules: [Rule] = []
        for ref in refs {
            let verdict = Self.verdict(for: ref.rule.action, next: next)
            for port in ports(of: ref.rule, direction: group.direction, groupPorts: group.ports) {
                let variants = ruleVariants(peers: peerCache.peers(ref.key) { peers(of: ref.rule) }, port: port, direction: group.direction,
                                            verdict: verdict, comment: "\(ref.label) \(ref.actionName)", into: &assembly)
                rules += verdict == .drop ? context.observation.observe(variants, counter: DropObservation.adminCounter(ref), into: &assembly) : variants
            }
        }
        rules.append(Rule([.verdict(next.map(Verdict.goto) ?? .return)], comment: next == nil ? "no rule matched: allowed" : "next tier"))
        var titles: [String] = []
        for ref in refs where !titles.contains(ref.policy.tierTitle) { titles.append(ref.policy.tierTitle) }
        assembly.add(Chain(name: name, comment: "\(titles.joined(separator: " and ")) \(group.direction.rawValue) rules", rules: rules))
        return name
    }

    private func isEnforced(_ pod: Pod) -> Bool {
        guard let node = context.nodeName else { return true }
        return pod.nodeName == node
    }

    /// Groups the enforced pods by the rules deciding their traffic, per direction.
    func groups() -> [Group] {
        var isolating: [PolicyDirection: [String: [NetworkPolicy]]] = [.ingress: [:], .egress: [:]]
        for policy in policies {
            let types = policy.effectivePolicyTypes
            for pod in index.pods(in: policy.meta.namespace, matching: policy.podSelector) where isEnforced(pod) {
                if types.contains(.ingress) { isolating[.ingress]?[pod.meta.qualifiedName, default: []].append(policy) }
                if types.contains(.egress) { isolating[.egress]?[pod.meta.qualifiedName, default: []].append(policy) }
            }
        }
        var groups: [String: Group] = [:]
        for pod in index.allPods where isEnforced(pod) {
            for direction in [PolicyDirection.ingress, .egress] {
                let selecting = isolating[direction]?[pod.meta.qualifiedName] ?? []
                let admin = adminRules(for: pod, direction: direction, tier: .admin)
                let baseline = selecting.isEmpty ? adminRules(for: pod, direction: direction, tier: .baseline) : []
                guard !selecting.isEmpty || !admin.isEmpty || !baseline.isEmpty else { continue }
                let ports = needsPorts(direction, selecting, admin + baseline) ? pod.containerPorts.sorted { ($0.name, $0.port) < ($1.name, $1.port) } : []
                let key = [direction.rawValue, admin.map(\.key).joined(separator: ","), selecting.map(\.meta.qualifiedName).joined(separator: "|"),
                           baseline.map(\.key).joined(separator: ","), ports.map { "\($0.name)/\($0.protocol.rawValue)/\($0.port)" }.joined(separator: ",")]
                    .joined(separator: "#")
                groups[key, default: Group(direction: direction, admin: admin, policies: selecting, baseline: baseline, ports: ports, pods: [])]
                    .pods.append(pod)
            }
        }
        return groups.sorted { $0.key < $1.key }.map { entry in
            var group = entry.value
            group.pods.sort { $0.meta.qualifiedName < $1.meta.qualifiedName }
            return group
        }
    }

    /// Ingress named ports resolve against the pod's own container ports, so they split groups.
    private func needsPorts(_ direction: PolicyDirection, _ policies: [NetworkPolicy], _ refs: [AdminRuleRef]) -> Bool {
        guard direction == .ingress else { return false }
        if policies.contains(where: { Self.usesNamedPorts($0.ingress) }) { return true }
        return refs.contains { ref in (ref.rule.ports ?? []).contains { if case .named = $0 { return true } else { return false } } }
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

/// Memoised peer lists, shared by the chains of every group a rule applies to.
final class PeerCache {
    private var entries: [String: PeerSpec] = [:]
    /// Address set names by content, so equal peer lists are turned into elements once.
    var setNames: [[AddressRange]: String] = [:]

    func peers(_ key: String, compute: () -> PeerSpec) -> PeerSpec {
        if let known = entries[key] { return known }
        let value = compute()
        entries[key] = value
        return value
    }
}
