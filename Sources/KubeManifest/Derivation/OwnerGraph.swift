/// Which workloads already have pods (or a managed controller) in the input, found through
/// `ownerReferences`, so a runtime dump mixed with the manifests that produced it is not counted
/// twice. A pod names its ReplicaSet (`name-<pod-template-hash>`), which the Deployment owns, and a
/// Job made by a CronJob is named `cronjob-<number>`; those links are followed even when the
/// ReplicaSet or Job itself is not in the input.
struct OwnerGraph {
    private var workloads: [String: Workload] = [:]
    private var realised = Set<String>()

    init(_ cluster: Cluster) {
        for workload in cluster.workloads { workloads[Self.key(workload.kind.rawValue, workload.meta.namespace, workload.meta.name)] = workload }
        for pod in cluster.pods {
            var current = pod.controller.flatMap { owner(of: $0, namespace: pod.meta.namespace, labels: pod.meta.labels) }
            var steps = 0
            while let key = current, steps < 8, realised.insert(key).inserted {
                steps += 1
                guard let workload = workloads[key] else { break }
                current = workload.controller.flatMap {
                    owner(of: $0, namespace: workload.meta.namespace, labels: workload.template.meta.labels)
                }
            }
        }
    }

    static func key(_ kind: String, _ namespace: String, _ name: String) -> String { "\(kind)\u{0}\(namespace)\u{0}\(name)" }

    /// The workload in the input that `reference` leads to, directly or through the ReplicaSet or
    /// Job it would have created.
    private func owner(of reference: ObjectReference, namespace: String, labels: [String: String]) -> String? {
        let direct = Self.key(reference.kind, namespace, reference.name)
        if workloads[direct] != nil { return direct }
        if reference.kind == "ReplicaSet", let hash = labels["pod-template-hash"], !hash.isEmpty, reference.name.hasSuffix("-" + hash) {
            let deployment = Self.key("Deployment", namespace, String(reference.name.dropLast(hash.count + 1)))
            if workloads[deployment] != nil { return deployment }
        }
        if reference.kind == "Job", let dash = reference.name.lastIndex(of: "-"),
           !reference.name[reference.name.index(after: dash)...].isEmpty,
           reference.name[reference.name.index(after: dash)...].allSatisfy(\.isNumber) {
            let cronJob = Self.key("CronJob", namespace, String(reference.name[..<dash]))
            if workloads[cronJob] != nil { return cronJob }
        }
        return nil
    }

    /// True when pods of the workload are in the input.
    func isRealised(_ workload: Workload) -> Bool {
        realised.contains(Self.key(workload.kind.rawValue, workload.meta.namespace, workload.meta.name))
    }

    /// True when the workload's controller is in the input too (a ReplicaSet of a Deployment): the
    /// owner derives the pods, once.
    func hasOwnerInInput(_ workload: Workload) -> Bool {
        guard let controller = workload.controller else { return false }
        return owner(of: controller, namespace: workload.meta.namespace, labels: workload.template.meta.labels) != nil
    }
}
