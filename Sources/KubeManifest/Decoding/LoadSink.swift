/// Collects what one load produces and runs the checks that span objects: the same object
/// defined twice, and two Services claiming the same cluster IP. Objects are checked in input
/// order, so the error lands on the second occurrence and names the first.
final class LoadSink {
    let options: LoadOptions
    var cluster = Cluster()
    var diagnostics: [Diagnostic] = []
    /// Kinds kubenft does not read, counted so each gets one warning.
    var unusedKinds = UnusedKinds()
    /// Repeated values of the objects decoded into this sink, stored once.
    let values = ValueTable()
    /// Kind, namespace and name to where the first definition starts.
    private var seen: [ClaimKey: SourceLocation] = [:]
    /// Cluster IP to the Service that claimed it first.
    private var clusterIPOwners: [IPAddress: String] = [:]

    /// Objects decoded by a part sink, with the cross-object checks still to run on them: they
    /// run when the part is merged into the load's sink, in input order. Nil on the load's sink.
    private var pending: [Pending]?

    private struct Pending {
        var origin: Origin?
        var commit: (LoadSink, Origin?) -> Void
    }

    /// What the cross-object checks need of a decoded object's document, so that a part's node
    /// tree can be dropped as soon as the part is decoded: where it starts, how it is named,
    /// and (for a Service) the field and position of each cluster IP.
    struct Origin {
        var kind: KnownKind
        var location: SourceLocation
        /// The object's namespace and name as decoded (valid, as the object was kept), for `label`.
        var namespace: String
        var name: String
        var label: String? { ObjectDecoder.label(kind: kind, namespace: namespace, name: name) }
        var clusterIPSites: [(field: String, location: SourceLocation)] = []
        /// The object's key for the duplicate check, hashed where the object was decoded.
        var key: ClaimKey

        init(_ decoder: ObjectDecoder, meta: ObjectMeta, clusterIPs: Int = 0) {
            kind = decoder.kind
            key = ClaimKey(kind: decoder.kind, meta: meta)
            location = decoder.tree.location(decoder.root)
            namespace = meta.namespace
            name = meta.name
            clusterIPSites = (0..<clusterIPs).map { index in
                let node = LoadSink.clusterIPNode(index, decoder)
                return (decoder.tree.path(to: node, from: decoder.root), decoder.tree.location(node))
            }
        }

        func error(field: String = "", _ reason: String, at location: SourceLocation? = nil) -> Diagnostic {
            Diagnostic(.error, at: location ?? self.location, object: label, field: field, reason: reason)
        }
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
        // Taken out of the part and consumed from the back, so no item is copied.
        guard var items = part.pending else { return }
        part.pending = nil
        items.reverse()
        while let item = items.popLast() { item.commit(self, item.origin) }
    }

    private func accept(_ origin: Origin, _ commit: @escaping (LoadSink, Origin) -> Void) {
        if pending != nil {
            pending?.append(Pending(origin: origin) { sink, origin in origin.map { commit(sink, $0) } })
        } else {
            commit(self, origin)
        }
    }

    /// Everything a load has gathered so far, to go back to when a streamed source has to be
    /// read again as a whole (the copies share storage until one side changes).
    struct Snapshot {
        fileprivate var cluster: Cluster
        fileprivate var diagnostics: [Diagnostic]
        fileprivate var unusedKinds: UnusedKinds
        fileprivate var seen: [ClaimKey: SourceLocation]
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

    /// How many objects have been claimed so far.
    var claimCount: Int { seen.count }

    /// Makes room for `count` claims in one step (a large source's objects, projected from its
    /// first part), instead of growing the table again and again while its parts are merged.
    func reserveClaims(_ count: Int) { seen.reserveCapacity(count) }

    /// False, after reporting, when the object was already defined.
    func claim(_ meta: ObjectMeta, _ origin: Origin) -> Bool {
        let key = origin.key
        if let first = seen[key] {
            diagnostics.append(origin.error("duplicate object, first defined at \(first)"))
            return false
        }
        seen[key] = meta.location
        return true
    }

    func add(_ service: Service, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: service.meta, clusterIPs: service.clusterIPs.count)) { sink, origin in
            guard sink.claim(service.meta, origin) else { return }
            sink.checkClusterIPs(of: service, origin)
            sink.cluster.services.append(service)
        }
    }

    func add(_ slice: EndpointSlice, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: slice.meta)) { sink, origin in if sink.claim(slice.meta, origin) { sink.cluster.endpointSlices.append(slice) } }
    }

    func add(_ endpoints: Endpoints, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: endpoints.meta)) { sink, origin in if sink.claim(endpoints.meta, origin) { sink.cluster.endpoints.append(endpoints) } }
    }

    func add(_ pod: Pod, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: pod.meta)) { sink, origin in if sink.claim(pod.meta, origin) { sink.cluster.pods.append(pod) } }
    }

    func add(_ namespace: Namespace, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: namespace.meta)) { sink, origin in if sink.claim(namespace.meta, origin) { sink.cluster.namespaces.append(namespace) } }
    }

    func add(_ node: Node, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: node.meta)) { sink, origin in if sink.claim(node.meta, origin) { sink.cluster.nodes.append(node) } }
    }

    func add(_ policy: AdminNetworkPolicy, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: policy.meta)) { sink, origin in if sink.claim(policy.meta, origin) { sink.cluster.adminPolicies.append(policy) } }
    }

    func add(_ serviceCIDR: ServiceCIDR, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: serviceCIDR.meta)) { sink, origin in if sink.claim(serviceCIDR.meta, origin) { sink.cluster.serviceCIDRs.append(serviceCIDR) } }
    }

    func add(_ policy: NetworkPolicy, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: policy.meta)) { sink, origin in if sink.claim(policy.meta, origin) { sink.cluster.networkPolicies.append(policy) } }
    }

    func add(_ workload: Workload, _ decoder: ObjectDecoder) {
        accept(Origin(decoder, meta: workload.meta)) { sink, origin in if sink.claim(workload.meta, origin) { sink.cluster.workloads.append(workload) } }
    }

    func add(_ configuration: KubeProxyConfiguration) {
        if pending != nil {
            pending?.append(Pending(origin: nil) { sink, _ in sink.cluster.proxyConfigurations.append(configuration) })
        } else {
            cluster.proxyConfigurations.append(configuration)
        }
    }

    private func checkClusterIPs(of service: Service, _ origin: Origin) {
        guard !service.clusterIPs.isEmpty else { return }
        let owner = service.meta.qualifiedName
        for (index, address) in service.clusterIPs.enumerated() {
            if let other = clusterIPOwners[address] {
                guard other != owner else { continue }
                let site = origin.clusterIPSites[index]
                diagnostics.append(origin.error(field: site.field, "\(address) is already used by Service \(other)", at: site.location))
            } else {
                clusterIPOwners[address] = owner
            }
        }
    }

    /// The node the index-th cluster IP came from: `clusterIPs[index]`, else `clusterIP`.
    fileprivate static func clusterIPNode(_ index: Int, _ decoder: ObjectDecoder) -> Int32 {
        let tree = decoder.tree
        guard let spec = tree.value(decoder.root, "spec") else { return decoder.root }
        if let list = tree.value(spec, "clusterIPs"), tree.node(list).kind == .sequence {
            for (offset, item) in tree.children(list).enumerated() where offset == index { return item }
        }
        return tree.value(spec, "clusterIP") ?? spec
    }
}

/// The kind, namespace and name of a decoded object with their hash, computed on the thread that
/// decoded the object, so that the duplicate check on the merging thread hashes only an integer.
/// The strings are the object's own (no key string is built).
struct ClaimKey: Hashable {
    let kind: KnownKind
    let namespace: String
    let name: String
    let hash: Int

    init(kind: KnownKind, meta: ObjectMeta) {
        self.kind = kind
        namespace = meta.namespace
        name = meta.name
        var hasher = Hasher()
        hasher.combine(kind)
        hasher.combine(namespace)
        hasher.combine(name)
        hash = hasher.finalize()
    }

    static func == (left: ClaimKey, right: ClaimKey) -> Bool {
        left.hash == right.hash && left.kind == right.kind && left.namespace == right.namespace && left.name == right.name
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
