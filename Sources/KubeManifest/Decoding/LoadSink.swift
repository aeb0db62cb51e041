/// Collects what one load produces and runs the checks that span objects: the same object
/// defined twice, and two Services claiming the same cluster IP. Objects are checked in input
/// order, so the error lands on the second occurrence and names the first.
final class LoadSink {
    let options: LoadOptions
    var cluster = Cluster()
    var diagnostics: [Diagnostic] = []
    /// Kinds kubenft does not read, counted so each gets one warning.
    var unusedKinds = UnusedKinds()
    /// `Kind\0namespace\0name` to where the first definition starts.
    private var seen: [String: SourceLocation] = [:]
    /// Cluster IP to the Service that claimed it first.
    private var clusterIPOwners: [IPAddress: String] = [:]

    /// Objects decoded by a part sink, with the cross-object checks still to run on them: they
    /// run when the part is merged into the load's sink, in input order. Nil on the load's sink.
    private var pending: [Pending]?

    private struct Pending {
        var decoder: ObjectDecoder?
        var commit: (LoadSink, ObjectDecoder?) -> Void
    }

    init(options: LoadOptions) {
        self.options = options
    }

    /// A sink for one part decoded on a worker thread: it keeps the part's objects and
    /// diagnostics, and defers the checks that need every earlier object to `merge`.
    static func part(options: LoadOptions) -> LoadSink {
        let sink = LoadSink(options: options)
        sink.pending = []
        return sink
    }

    /// Takes in a part sink's results as if its objects had been decoded here, in its order.
    func merge(_ part: LoadSink) {
        diagnostics += part.diagnostics
        unusedKinds.merge(part.unusedKinds)
        for item in part.pending ?? [] {
            var decoder = item.decoder
            decoder?.sink = self
            item.commit(self, decoder)
        }
    }

    private func accept(_ decoder: ObjectDecoder, _ commit: @escaping (LoadSink, ObjectDecoder) -> Void) {
        if pending != nil {
            pending?.append(Pending(decoder: decoder) { sink, decoder in decoder.map { commit(sink, $0) } })
        } else {
            commit(self, decoder)
        }
    }

    /// Everything a load has gathered so far, to go back to when a streamed source has to be
    /// read again as a whole (the copies share storage until one side changes).
    struct Snapshot {
        fileprivate var cluster: Cluster
        fileprivate var diagnostics: [Diagnostic]
        fileprivate var unusedKinds: UnusedKinds
        fileprivate var seen: [String: SourceLocation]
        fileprivate var clusterIPOwners: [IPAddress: String]
    }

    func snapshot() -> Snapshot {
        Snapshot(cluster: cluster, diagnostics: diagnostics, unusedKinds: unusedKinds, seen: seen, clusterIPOwners: clusterIPOwners)
    }

    func restore(_ snapshot: Snapshot) {
        cluster = snapshot.cluster
        diagnostics = snapshot.diagnostics
        unusedKinds = snapshot.unusedKinds
        seen = snapshot.seen
        clusterIPOwners = snapshot.clusterIPOwners
    }

    /// False, after reporting, when the object was already defined.
    func claim(_ meta: ObjectMeta, _ decoder: ObjectDecoder) -> Bool {
        let key = "\(decoder.kind.rawValue)\u{0}\(meta.namespace)\u{0}\(meta.name)"
        if let first = seen[key] {
            decoder.report(.error, field: "", at: decoder.root, "duplicate object, first defined at \(first)")
            return false
        }
        seen[key] = meta.location
        return true
    }

    func add(_ service: Service, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in
            guard sink.claim(service.meta, decoder) else { return }
            sink.checkClusterIPs(of: service, decoder)
            sink.cluster.services.append(service)
        }
    }

    func add(_ slice: EndpointSlice, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(slice.meta, decoder) { sink.cluster.endpointSlices.append(slice) } }
    }

    func add(_ endpoints: Endpoints, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(endpoints.meta, decoder) { sink.cluster.endpoints.append(endpoints) } }
    }

    func add(_ pod: Pod, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(pod.meta, decoder) { sink.cluster.pods.append(pod) } }
    }

    func add(_ namespace: Namespace, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(namespace.meta, decoder) { sink.cluster.namespaces.append(namespace) } }
    }

    func add(_ node: Node, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(node.meta, decoder) { sink.cluster.nodes.append(node) } }
    }

    func add(_ policy: AdminNetworkPolicy, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(policy.meta, decoder) { sink.cluster.adminPolicies.append(policy) } }
    }

    func add(_ serviceCIDR: ServiceCIDR, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(serviceCIDR.meta, decoder) { sink.cluster.serviceCIDRs.append(serviceCIDR) } }
    }

    func add(_ policy: NetworkPolicy, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(policy.meta, decoder) { sink.cluster.networkPolicies.append(policy) } }
    }

    func add(_ workload: Workload, _ decoder: ObjectDecoder) {
        accept(decoder) { sink, decoder in if sink.claim(workload.meta, decoder) { sink.cluster.workloads.append(workload) } }
    }

    func add(_ configuration: KubeProxyConfiguration) {
        if pending != nil {
            pending?.append(Pending(decoder: nil) { sink, _ in sink.cluster.proxyConfigurations.append(configuration) })
        } else {
            cluster.proxyConfigurations.append(configuration)
        }
    }

    private func checkClusterIPs(of service: Service, _ decoder: ObjectDecoder) {
        guard !service.clusterIPs.isEmpty else { return }
        let owner = service.meta.qualifiedName
        for (index, address) in service.clusterIPs.enumerated() {
            if let other = clusterIPOwners[address] {
                guard other != owner else { continue }
                let node = clusterIPNode(index, decoder)
                decoder.report(.error, field: decoder.tree.path(to: node, from: decoder.root), at: node,
                               "\(address) is already used by Service \(other)")
            } else {
                clusterIPOwners[address] = owner
            }
        }
    }

    /// The node the index-th cluster IP came from: `clusterIPs[index]`, else `clusterIP`.
    private func clusterIPNode(_ index: Int, _ decoder: ObjectDecoder) -> Int32 {
        let tree = decoder.tree
        guard let spec = tree.value(decoder.root, "spec") else { return decoder.root }
        if let list = tree.value(spec, "clusterIPs"), tree.node(list).kind == .sequence {
            for (offset, item) in tree.children(list).enumerated() where offset == index { return item }
        }
        return tree.value(spec, "clusterIP") ?? spec
    }
}
