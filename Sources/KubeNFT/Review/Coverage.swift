import KubeManifest

extension Review {
    /// Why a matrix or diff of this input would say nothing: no pod at all (real or derived),
    /// NetworkPolicies none of which selects a pod, or NodePorts without a node address to reach them on. A review gate must never pass silently, so these
    /// are warnings (errors under `--strict`); `input` names the flag the manifests came from.
    public static func coverage(_ result: PipelineResult, input: String, strict: Bool) -> [Diagnostic] {
        let pods = result.cluster.pods.filter { !$0.hostNetwork && !$0.podIPs.isEmpty }
        var problems: [Diagnostic] = []
        if pods.isEmpty {
            problems.append(Diagnostic(.warning, at: SourceLocation(file: "<command line>", line: 1, column: 1), object: nil, field: input,
                                       reason: "the input holds no pods, real or derived from workloads: there is no connection to check"))
        } else if let first = result.cluster.networkPolicies.first, !result.cluster.networkPolicies.contains(where: { policy in
            pods.contains { $0.meta.namespace == policy.meta.namespace && policy.podSelector.matches($0.meta.labels) }
        }) {
            let count = result.cluster.networkPolicies.count
            problems.append(Diagnostic(.warning, at: first.meta.location, object: "NetworkPolicy \(first.meta.qualifiedName)", field: "spec.podSelector",
                                       reason: "none of the \(count) NetworkPolicies in \(input) selects a pod, real or derived: they change no connection kubenft can check"))
        }
        // Without a node address neither the node nor the NodePorts can be traced: say so.
        if result.context.nodeIPs.isEmpty, !pods.isEmpty,
           let service = result.cluster.services.first(where: { $0.ports.contains { $0.nodePort != nil } }) {
            problems.append(Diagnostic(.warning, at: service.meta.location, object: "Service \(service.meta.qualifiedName)", field: "spec.ports",
                                       reason: "NodePorts in \(input) are not checked: the node has no known address (give --node-ip, or --node-name with a Node object)"))
        }
        return strict ? problems.map(\.strict) : problems
    }
}
