import KubeManifest

extension Review {
    /// Selectors and names that select or name nothing in the input (real pods and pods derived from
    /// workloads): a policy or peer selector matching no pod, a named port no pod defines, a Service
    /// selecting no pod, a targetPort name its pods do not define; and a NetworkPolicy shadowed by
    /// others (see `ShadowCheck`). Each usually means a typo or a leftover that silently leaves a
    /// connection open or closed, so it is a warning (an error under `--strict`).
    public static func lint(_ result: PipelineResult, strict: Bool) -> [Diagnostic] {
        let index = LintIndex(result.cluster)
        guard !index.pods.isEmpty else { return [] }
        var problems: [Diagnostic] = []
        for policy in result.cluster.networkPolicies { problems += lint(policy, index) }
        for policy in result.cluster.adminPolicies where index.pods(policy.subject).isEmpty {
            problems.append(Diagnostic(.warning, at: policy.meta.location, object: "\(policy.tier == .admin ? "AdminNetworkPolicy" : "BaselineAdminNetworkPolicy") \(policy.meta.name)",
                                       field: "spec.subject", reason: "selects no pod, real or derived: the policy has no effect"))
        }
        for service in result.cluster.services { problems += lint(service, index) }
        if result.ruleset != nil { problems += ShadowCheck(result, index: index).diagnostics() }
        return strict ? problems.map(\.strict) : problems
    }

    static func lint(_ policy: NetworkPolicy, _ index: LintIndex) -> [Diagnostic] {
        let object = "NetworkPolicy \(policy.meta.qualifiedName)"
        let selected = index.pods(in: policy.meta.namespace).filter { policy.podSelector.matches($0.meta.labels) }
        if selected.isEmpty {
            return [Diagnostic(.warning, at: policy.meta.location, object: object, field: "spec.podSelector",
                               reason: "selects no pod, real or derived: the policy has no effect")]
        }
        var problems: [Diagnostic] = []
        for (direction, rules, peerField) in [("ingress", policy.ingress ?? [], "from"), ("egress", policy.egress ?? [], "to")] {
            for (position, rule) in rules.enumerated() {
                let field = "spec.\(direction)[\(position)]"
                var peerPods: [Pod] = []
                for (number, peer) in (rule.peers ?? []).enumerated() where peer.ipBlock == nil {
                    let pods = index.pods(peer, namespace: policy.meta.namespace)
                    if pods.isEmpty {
                        problems.append(Diagnostic(.warning, at: rule.location, object: object, field: "\(field).\(peerField)[\(number)]",
                                                   reason: "selects no pod, real or derived"))
                    }
                    peerPods += pods
                }
                // A named port is looked up on the destination: the selected pods for ingress, the peers for egress.
                let owners = direction == "ingress" ? selected : ((rule.peers ?? []).isEmpty ? index.pods : peerPods)
                for (number, port) in (rule.ports ?? []).enumerated() {
                    guard case .name(let name)? = port.port, !owners.isEmpty,
                          !owners.contains(where: { $0.containerPorts.contains { $0.name == name && $0.protocol == port.protocol } }) else { continue }
                    problems.append(Diagnostic(.warning, at: rule.location, object: object, field: "\(field).ports[\(number)].port",
                                               reason: "no \(direction == "ingress" ? "selected" : "destination") pod defines a \(port.protocol.rawValue) port named \(name)"))
                }
            }
        }
        return problems
    }

    static func lint(_ service: Service, _ index: LintIndex) -> [Diagnostic] {
        guard let selector = service.selector, !selector.isEmpty else { return [] }
        let object = "Service \(service.meta.qualifiedName)"
        let selected = index.pods(in: service.meta.namespace).filter { pod in selector.allSatisfy { pod.meta.labels[$0.key] == $0.value } }
        if selected.isEmpty {
            return [Diagnostic(.warning, at: service.meta.location, object: object, field: "spec.selector",
                               reason: "selects no pod, real or derived: the Service has no endpoints")]
        }
        var problems: [Diagnostic] = []
        for (number, port) in service.ports.enumerated() {
            guard case .name(let name) = port.targetPort,
                  !selected.contains(where: { $0.containerPorts.contains { $0.name == name && $0.protocol == port.protocol } }) else { continue }
            problems.append(Diagnostic(.warning, at: port.location, object: object, field: "spec.ports[\(number)].targetPort",
                                       reason: "no selected pod defines a \(port.protocol.rawValue) port named \(name)"))
        }
        return problems
    }
}

/// Pods and namespace labels (Namespace objects, and namespaces implied by use) for `Review.lint`,
/// with the pods grouped by namespace so a selector is matched only where it can select.
struct LintIndex {
    var pods: [Pod]
    var namespaceLabels: [String: [String: String]] = [:]
    private var byNamespace: [String: [Pod]] = [:]

    init(_ cluster: Cluster) {
        pods = cluster.pods.filter { !$0.podIPs.isEmpty || $0.origin != nil }
        for pod in pods {
            namespaceLabels[pod.meta.namespace] = ["kubernetes.io/metadata.name": pod.meta.namespace]
            byNamespace[pod.meta.namespace, default: []].append(pod)
        }
        for namespace in cluster.namespaces {
            var labels = namespace.meta.labels
            labels["kubernetes.io/metadata.name"] = namespace.meta.name
            namespaceLabels[namespace.meta.name] = labels
        }
    }

    func pods(in namespace: String) -> [Pod] { byNamespace[namespace] ?? [] }

    /// The pods of the namespaces the selector selects.
    private func pods(selectedBy namespaces: LabelSelector) -> [Pod] {
        namespaceLabels.filter { namespaces.matches($0.value) }.keys.sorted().flatMap { pods(in: $0) }
    }

    func pods(_ peer: NetworkPolicy.Peer, namespace: String) -> [Pod] {
        let candidates = peer.namespaceSelector.map { pods(selectedBy: $0) } ?? pods(in: namespace)
        return candidates.filter { peer.podSelector?.matches($0.meta.labels) ?? true }
    }

    func pods(_ set: AdminNetworkPolicy.PodSet) -> [Pod] {
        switch set {
        case .namespaces(let selector): return pods(selectedBy: selector)
        case .pods(let namespaces, let podSelector): return pods(selectedBy: namespaces).filter { podSelector.matches($0.meta.labels) }
        }
    }
}
