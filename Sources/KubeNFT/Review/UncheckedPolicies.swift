import KubeManifest

extension Review {
    /// NetworkPolicies added, removed or changed between the versions whose effect lies (at least
    /// partly) outside the input: in a version where the policy exists, its pod selector or one of
    /// its non-ipBlock peers selects no pod, real or derived. Pods of namespaces the repository does
    /// not hold (a `namespaceSelector` on a namespace that is not declared, a policy for another
    /// team's namespace) cannot be traced, so such a change would otherwise read as "no changes".
    /// Each is a warning naming the policy (an error under `--strict`); `diff` counts them as changes.
    public static func uncheckedPolicyChanges(_ before: PipelineResult, _ after: PipelineResult, strict: Bool) -> [Diagnostic] {
        let old = Dictionary(before.cluster.networkPolicies.map { ($0.meta.qualifiedName, $0) }, uniquingKeysWith: { first, _ in first })
        let new = Dictionary(after.cluster.networkPolicies.map { ($0.meta.qualifiedName, $0) }, uniquingKeysWith: { first, _ in first })
        let oldIndex = LintIndex(before.cluster), newIndex = LintIndex(after.cluster)
        var problems: [Diagnostic] = []
        for name in Set(old.keys).union(new.keys).sorted() {
            let was = old[name], now = new[name]
            if let was, let now, PolicySpec(was) == PolicySpec(now) { continue }
            var outside: [String] = []
            if let was, let reason = reachesOutside(was, oldIndex) { outside.append("before the change \(reason)") }
            if let now, let reason = reachesOutside(now, newIndex) { outside.append("after the change \(reason)") }
            guard !outside.isEmpty, let policy = now ?? was else { continue }
            let change = was == nil ? "added" : (now == nil ? "removed" : "changed")
            problems.append(Diagnostic(.warning, at: policy.meta.location, object: "NetworkPolicy \(name)", field: "spec",
                                       reason: "\(change), and \(outside.joined(separator: "; ")): the connections it changes there are not checked"))
        }
        return strict ? problems.map(\.strict) : problems
    }

    /// Why the policy's effect reaches pods the input does not hold, or nil when it does not.
    static func reachesOutside(_ policy: NetworkPolicy, _ index: LintIndex) -> String? {
        let selected = index.pods(in: policy.meta.namespace).filter { policy.podSelector.matches($0.meta.labels) }
        if selected.isEmpty { return "it selects no pod in the input" }
        for (direction, rules, peerField) in [("ingress", policy.ingress ?? [], "from"), ("egress", policy.egress ?? [], "to")] {
            for (position, rule) in rules.enumerated() {
                for (number, peer) in (rule.peers ?? []).enumerated() where peer.ipBlock == nil {
                    if index.pods(peer, namespace: policy.meta.namespace).isEmpty {
                        return "spec.\(direction)[\(position)].\(peerField)[\(number)] selects no pod in the input"
                    }
                }
            }
        }
        return nil
    }

    /// A policy's spec without source locations: what decides whether a version changed it.
    private struct PolicySpec: Equatable {
        struct Rule: Equatable {
            var peers: [NetworkPolicy.Peer]?
            var ports: [NetworkPolicy.Port]?
        }
        var podSelector: LabelSelector
        var policyTypes: [NetworkPolicy.PolicyType]?
        var ingress: [Rule]?
        var egress: [Rule]?

        init(_ policy: NetworkPolicy) {
            podSelector = policy.podSelector
            policyTypes = policy.policyTypes
            ingress = policy.ingress.map { $0.map { Rule(peers: $0.peers, ports: $0.ports) } }
            egress = policy.egress.map { $0.map { Rule(peers: $0.peers, ports: $0.ports) } }
        }
    }
}
