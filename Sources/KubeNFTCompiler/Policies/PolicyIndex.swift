import KubeManifest

/// Pods that NetworkPolicy selectors can see (not hostNetwork, with addresses), grouped into classes
/// of identical namespace and labels so that each selector is evaluated once per class, not per pod.
struct PodIndex {
    /// Pods sharing a namespace and a label set.
    struct PodClass {
        var namespace: String
        var labels: [String: String]
        var pods: [Pod]
    }

    private(set) var classes: [PodClass] = []
    private var classesByNamespace: [String: [Int]] = [:]
    private(set) var namespaceLabels: [String: [String: String]] = [:]

    init(cluster: Cluster) {
        for namespace in cluster.namespaces {
            var labels = namespace.meta.labels
            labels["kubernetes.io/metadata.name"] = namespace.meta.name
            namespaceLabels[namespace.meta.name] = labels
        }
        var positions: [ClassKey: Int] = [:]
        allPods.reserveCapacity(cluster.pods.count)
        for pod in cluster.pods where !pod.hostNetwork && !pod.podIPs.isEmpty {
            let key = ClassKey(namespace: pod.meta.namespace, labels: pod.meta.labels)
            if let index = positions[key] {
                classes[index].pods.append(pod)
            } else {
                positions[key] = classes.count
                classesByNamespace[pod.meta.namespace, default: []].append(classes.count)
                classes.append(PodClass(namespace: pod.meta.namespace, labels: pod.meta.labels, pods: [pod]))
            }
            allPods.append(pod)
            if namespaceLabels[pod.meta.namespace] == nil {
                namespaceLabels[pod.meta.namespace] = ["kubernetes.io/metadata.name": pod.meta.namespace]
            }
        }
    }

    private struct ClassKey: Hashable {
        var namespace: String
        var labels: [String: String]
    }

    /// Pods in `namespace` whose labels match `selector`.
    func pods(in namespace: String, matching selector: LabelSelector) -> [Pod] {
        (classesByNamespace[namespace] ?? []).flatMap { index in
            selector.matches(classes[index].labels) ? classes[index].pods : []
        }
    }

    /// Pods of a NetworkPolicy peer with selectors (not ipBlock), seen from a policy in `namespace`.
    func pods(of peer: NetworkPolicy.Peer, policyNamespace namespace: String) -> [Pod] {
        guard let namespaceSelector = peer.namespaceSelector else {
            return pods(in: namespace, matching: peer.podSelector ?? LabelSelector())
        }
        let podSelector = peer.podSelector ?? LabelSelector()
        var result: [Pod] = []
        for (name, labels) in namespaceLabels.sorted(by: { $0.key < $1.key }) where namespaceSelector.matches(labels) {
            result += pods(in: name, matching: podSelector)
        }
        return result
    }

    /// Every selectable pod.
    private(set) var allPods: [Pod] = []
}
