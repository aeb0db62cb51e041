import KubeManifest

extension Review {
    /// Policies (NetworkPolicies, admin and baseline admin policies) added, removed or changed
    /// between the versions whose effect lies, at least partly, outside the input: in a version where
    /// the policy exists, the pods it applies to or one of its pod peers select no pod, real or
    /// derived. Pods of namespaces the repository does not hold (a `namespaceSelector` on a
    /// namespace that is not declared, a policy for another team's namespace) cannot be traced, so
    /// such a change would otherwise read as "no changes". Each is a warning naming the policy (an
    /// error under `--strict`); `diff` counts them as changes.
    public static func uncheckedPolicyChanges(_ before: PipelineResult, _ after: PipelineResult, strict: Bool) -> [Diagnostic] {
        let old = PolicyVersion.all(before.cluster), new = PolicyVersion.all(after.cluster)
        var problems: [Diagnostic] = []
        for name in Set(old.keys).union(new.keys).sorted() {
            let was = old[name], now = new[name]
            if let was, let now, was.spec == now.spec { continue }
            let outside = [was.flatMap(\.outside).map { "before the change \($0)" }, now.flatMap(\.outside).map { "after the change \($0)" }]
                .compactMap { $0 }
            guard !outside.isEmpty, let location = (now ?? was)?.location else { continue }
            let change = was == nil ? "added" : (now == nil ? "removed" : "changed")
            problems.append(Diagnostic(.warning, at: location, object: name, field: "spec",
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

    /// The same for an admin or baseline admin policy: its subject, its `pods`/`namespaces` peers,
    /// and entries that failed closed (a ClusterNetworkPolicy's `domainNames`, a newer API's field).
    static func reachesOutside(_ policy: AdminNetworkPolicy, _ index: LintIndex) -> String? {
        if index.pods(policy.subject).isEmpty { return "its subject selects no pod in the input" }
        for (direction, rules, peerField) in [("ingress", policy.ingress, "from"), ("egress", policy.egress, "to")] {
            for (position, rule) in rules.enumerated() {
                if !rule.uncompiled.isEmpty {
                    return "spec.\(direction)[\(position)] holds what kubenft cannot compile (\(rule.uncompiled.joined(separator: "; ")))"
                }
                for (number, peer) in rule.peers.enumerated() {
                    if case .pods(let set) = peer, index.pods(set).isEmpty {
                        return "spec.\(direction)[\(position)].\(peerField)[\(number)] selects no pod in the input"
                    }
                }
            }
        }
        return nil
    }

    /// One policy of one version: its spec without source locations (what decides whether the
    /// change touched it), where it is, and why its effect reaches outside the input.
    private struct PolicyVersion {
        var spec: AnyHashable
        var location: SourceLocation
        var outside: String?

        static let nowhere = SourceLocation(file: "", line: 0, column: 0)

        /// Every policy of the cluster by kind and name.
        static func all(_ cluster: Cluster) -> [String: PolicyVersion] {
            let index = LintIndex(cluster)
            var result: [String: PolicyVersion] = [:]
            for policy in cluster.networkPolicies {
                var spec = policy
                spec.meta = ObjectMeta(name: "", location: nowhere)
                spec.ingress = policy.ingress?.map { var rule = $0; rule.location = nowhere; return rule }
                spec.egress = policy.egress?.map { var rule = $0; rule.location = nowhere; return rule }
                let key = "NetworkPolicy \(policy.meta.qualifiedName)"
                if result[key] == nil { result[key] = PolicyVersion(spec: spec, location: policy.meta.location, outside: reachesOutside(policy, index)) }
            }
            for policy in cluster.adminPolicies {
                var spec = policy
                spec.meta = ObjectMeta(name: "", location: nowhere)
                spec.ingress = policy.ingress.map { var rule = $0; rule.location = nowhere; return rule }
                spec.egress = policy.egress.map { var rule = $0; rule.location = nowhere; return rule }
                let kind = policy.kind.rawValue
                let key = "\(kind) \(policy.meta.name)"
                if result[key] == nil { result[key] = PolicyVersion(spec: spec, location: policy.meta.location, outside: reachesOutside(policy, index)) }
            }
            return result
        }
    }
}
