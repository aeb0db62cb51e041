import KubeManifest

extension Review {
    /// Selectors and names that select or name nothing in the input (real pods and pods derived from
    /// workloads): a policy or peer selector matching no pod, a named port no pod defines, a Service
    /// selecting no pod, a targetPort name its pods do not define; and a NetworkPolicy shadowed by
    /// others (see `ShadowCheck`). Each usually means a typo or a leftover that silently leaves a
    /// connection open or closed, so it is a warning (an error under `--strict`).
    public static func lint(_ result: PipelineResult, strict: Bool) -> [Diagnostic] {
        let index = LintIndex(result.cluster)
        guard !index.pods.isEmpty || !index.hostNetworkPods.isEmpty else { return [] }
        var problems: [Diagnostic] = []
        for policy in result.cluster.networkPolicies { problems += lint(policy, index) }
        for policy in result.cluster.adminPolicies where index.pods(policy.subject).isEmpty {
            let hostNetwork = index.hostNetworkPods.contains { index.selects(policy.subject, $0) }
            problems.append(Diagnostic(.warning, at: policy.meta.location, object: policy.label,
                                       field: "spec.subject", reason: noEffect(hostNetworkOnly: hostNetwork)))
        }
        for service in result.cluster.services { problems += lint(service, index) }
        if result.ruleset != nil { problems += ShadowCheck(result, index: index).diagnostics() }
        return strict ? problems.map(\.strict) : problems
    }

    static func lint(_ policy: NetworkPolicy, _ index: LintIndex) -> [Diagnostic] {
        let object = "NetworkPolicy \(policy.meta.qualifiedName)"
        let selected = index.pods(in: policy.meta.namespace).filter { policy.podSelector.matches($0.meta.labels) }
        if selected.isEmpty {
            let hostNetwork = index.hostNetworkPods.contains { $0.meta.namespace == policy.meta.namespace && policy.podSelector.matches($0.meta.labels) }
            return [Diagnostic(.warning, at: policy.meta.location, object: object, field: "spec.podSelector",
                               reason: noEffect(hostNetworkOnly: hostNetwork))]
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

    /// Why a policy whose pod selector selects no pod does nothing: hostNetwork pods share the node's
    /// addresses, and policies do not apply to them (traffic to and from the node is always allowed).
    static func noEffect(hostNetworkOnly: Bool) -> String {
        hostNetworkOnly ? "selects only hostNetwork pods, which policies do not apply to: the policy has no effect"
            : "selects no pod, real or derived: the policy has no effect"
    }

    static func lint(_ service: Service, _ index: LintIndex) -> [Diagnostic] {
        guard let selector = service.selector, !selector.isEmpty else { return [] }
        let object = "Service \(service.meta.qualifiedName)"
        // A Service does select hostNetwork pods: its endpoints are then node addresses.
        let candidates = index.pods(in: service.meta.namespace) + index.hostNetworkPods.filter { $0.meta.namespace == service.meta.namespace }
        let selected = candidates.filter { pod in selector.allSatisfy { pod.meta.labels[$0.key] == $0.value } }
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
/// with the pods grouped by namespace so a selector is matched only where it can select. hostNetwork
/// pods are kept apart: policy selectors and peers never select them.
struct LintIndex {
    var pods: [Pod]
    var hostNetworkPods: [Pod]
    var namespaceLabels: [String: [String: String]] = [:]
    private var byNamespace: [String: [Pod]] = [:]

    init(_ cluster: Cluster) {
        let known = cluster.pods.filter { !$0.podIPs.isEmpty || $0.origin != nil }
        pods = known.filter { !$0.hostNetwork }
        hostNetworkPods = known.filter(\.hostNetwork)
        for pod in known {
            namespaceLabels[pod.meta.namespace] = ["kubernetes.io/metadata.name": pod.meta.namespace]
        }
        for pod in pods { byNamespace[pod.meta.namespace, default: []].append(pod) }
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
