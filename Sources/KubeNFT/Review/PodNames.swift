import KubeManifest

/// Finds the pod a user means by `ns/name`: a real pod of that name, or the representative of the
/// derived workload `ns/name[Kind]`; `ns/name` names a derived workload when only one kind has it.
struct PodNames {
    var cluster: Cluster

    func pod(_ namespace: String, _ name: String) throws -> Pod {
        if name.hasSuffix("]"), let open = name.lastIndex(of: "[") {
            let workload = String(name[..<open]), kind = String(name[name.index(after: open)..<name.index(before: name.endIndex)])
            if let pod = representatives(namespace).first(where: { $0.origin?.workload == workload && $0.origin?.kind == kind }) {
                return pod
            }
            throw TraceQueryError(description: "no workload \(namespace)/\(name) with a derived pod in the input")
        }
        if let pod = cluster.pods.first(where: { $0.meta.namespace == namespace && $0.meta.name == name }) { return pod }
        let candidates = representatives(namespace).filter { $0.origin?.workload == name }
        if candidates.count == 1, let only = candidates.first { return only }
        if candidates.count > 1 {
            let names = candidates.map(\.reviewName).sorted().joined(separator: ", ")
            throw TraceQueryError(description: "\(namespace)/\(name) is ambiguous: say which of \(names)")
        }
        throw TraceQueryError(description: "no pod \(namespace)/\(name) in the input")
    }

    private func representatives(_ namespace: String) -> [Pod] {
        cluster.pods.filter { $0.meta.namespace == namespace && $0.origin != nil && $0.isRepresentative }
    }
}
