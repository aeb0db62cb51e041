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

    /// Objects decoded by a part sink, in input order, with the cross-object checks still to run
    /// on them: they run when the part is merged into the load's sink. The objects themselves
    /// wait in `parked`, one list per kind. Nil on the load's sink.
    private var pending: [Pending]?
    /// A part sink's objects, waiting for `merge`.
    private var parked = Parked()

    private struct Pending {
        var list: ObjectList
        /// Nil for a KubeProxyConfiguration, which is not claimed.
        var origin: Origin?
    }

    /// Which list of `Cluster` a pending object waits in.
    private enum ObjectList {
        case services, endpointSlices, endpoints, pods, namespaces, nodes, networkPolicies, adminPolicies
        case proxyConfigurations, serviceCIDRs, workloads
    }

    /// A part's objects, one list per kind of `Cluster`. `merge` moves each object out of its slot
    /// (leaving nil) into the load's list, so neither the move nor the end of the part retains or
    /// releases what the object holds: those objects were allocated on a decoding thread, and
    /// touching their reference counts on the merging thread is what a copy costs most.
    private struct Parked {
        var services: [Service?] = [], endpointSlices: [EndpointSlice?] = [], endpoints: [Endpoints?] = []
        var pods: [Pod?] = [], namespaces: [Namespace?] = [], nodes: [Node?] = []
        var networkPolicies: [NetworkPolicy?] = [], adminPolicies: [AdminNetworkPolicy?] = []
        var proxyConfigurations: [KubeProxyConfiguration?] = [], serviceCIDRs: [ServiceCIDR?] = []
        var workloads: [Workload?] = []
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
        guard var items = part.pending else { return }
        part.pending = nil
        var objects = part.parked
        part.parked = Parked()
        var next = Cursors()
        for index in items.indices {
            // Moved out of the record, not copied: the record is not read again.
            let origin = items[index].origin.take()
            switch items[index].list {
            case .services:
                let slot = Cursors.advance(&next.services)
                guard let origin, claim(origin), let service = objects.services[slot].take() else { continue }
                checkClusterIPs(of: service, origin)
                cluster.services.append(service)
            case .endpointSlices: commit(&objects.endpointSlices, &next.endpointSlices, into: &cluster.endpointSlices, origin)
            case .endpoints: commit(&objects.endpoints, &next.endpoints, into: &cluster.endpoints, origin)
            case .pods: commit(&objects.pods, &next.pods, into: &cluster.pods, origin)
            case .namespaces: commit(&objects.namespaces, &next.namespaces, into: &cluster.namespaces, origin)
            case .nodes: commit(&objects.nodes, &next.nodes, into: &cluster.nodes, origin)
            case .networkPolicies: commit(&objects.networkPolicies, &next.networkPolicies, into: &cluster.networkPolicies, origin)
            case .adminPolicies: commit(&objects.adminPolicies, &next.adminPolicies, into: &cluster.adminPolicies, origin)
            case .serviceCIDRs: commit(&objects.serviceCIDRs, &next.serviceCIDRs, into: &cluster.serviceCIDRs, origin)
            case .workloads: commit(&objects.workloads, &next.workloads, into: &cluster.workloads, origin)
            case .proxyConfigurations:
                let slot = Cursors.advance(&next.proxyConfigurations)
                if let configuration = objects.proxyConfigurations[slot].take() { cluster.proxyConfigurations.append(configuration) }
            }
        }
    }

    /// How far `merge` has read each of a part's lists; also how long each of the load's lists is.
    struct Cursors {
        var services = 0, endpointSlices = 0, endpoints = 0, pods = 0, namespaces = 0, nodes = 0
        var networkPolicies = 0, adminPolicies = 0, proxyConfigurations = 0, serviceCIDRs = 0, workloads = 0

        /// The cursor's value, then moves it on.
        static func advance(_ cursor: inout Int) -> Int {
            defer { cursor += 1 }
            return cursor
        }
    }

    /// The next object of a part's list moves into the load's list when its claim succeeds.
    private func commit<Object>(_ objects: inout [Object?], _ cursor: inout Int, into list: inout [Object], _ origin: Origin?) {
        let index = Cursors.advance(&cursor)
        guard let origin, claim(origin), let object = objects[index].take() else { return }
        list.append(object)
    }

    /// Claims an object decoded here and adds it, or, in a part sink, parks it for `merge`.
    private func accept<Object>(_ object: Object, _ origin: Origin, _ list: ObjectList, into objects: inout [Object],
                                parking parked: inout [Object?]) {
        if pending != nil {
            pending!.append(Pending(list: list, origin: origin))
            parked.append(object)
        } else if claim(origin) {
            objects.append(object)
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

    /// How long each of the load's lists is, for `reserveLists`.
    var listCounts: Cursors {
        Cursors(services: cluster.services.count, endpointSlices: cluster.endpointSlices.count,
                endpoints: cluster.endpoints.count, pods: cluster.pods.count, namespaces: cluster.namespaces.count,
                nodes: cluster.nodes.count, networkPolicies: cluster.networkPolicies.count,
                adminPolicies: cluster.adminPolicies.count, proxyConfigurations: cluster.proxyConfigurations.count,
                serviceCIDRs: cluster.serviceCIDRs.count, workloads: cluster.workloads.count)
    }

    /// Makes room in each list that grew since `before` for `scale` times its growth (a large
    /// source's objects, projected from its first part), so the lists are not regrown and copied
    /// again and again while the parts are merged. At most 4M more objects a list.
    func reserveLists(grownSince before: Cursors, scale: Double) {
        func reserve<Object>(_ list: inout [Object], _ count: Int) {
            let grown = list.count - count
            guard grown > 0, scale.isFinite, scale > 0 else { return }
            list.reserveCapacity(list.count + Int(min(Double(grown) * scale, Double(1 << 22))))
        }
        reserve(&cluster.services, before.services)
        reserve(&cluster.endpointSlices, before.endpointSlices)
        reserve(&cluster.endpoints, before.endpoints)
        reserve(&cluster.pods, before.pods)
        reserve(&cluster.namespaces, before.namespaces)
        reserve(&cluster.nodes, before.nodes)
        reserve(&cluster.networkPolicies, before.networkPolicies)
        reserve(&cluster.adminPolicies, before.adminPolicies)
        reserve(&cluster.proxyConfigurations, before.proxyConfigurations)
        reserve(&cluster.serviceCIDRs, before.serviceCIDRs)
        reserve(&cluster.workloads, before.workloads)
    }

    /// False, after reporting, when the object was already defined.
    func claim(_ origin: Origin) -> Bool {
        // One probe of the table for a new object (most of them); a duplicate puts the first back.
        guard let first = seen.updateValue(origin.location, forKey: origin.key) else { return true }
        seen[origin.key] = first
        diagnostics.append(origin.error("duplicate object, first defined at \(first)"))
        return false
    }

    func add(_ service: Service, _ decoder: ObjectDecoder) {
        let origin = Origin(decoder, meta: service.meta, clusterIPs: service.clusterIPs.count)
        if pending != nil {
            pending!.append(Pending(list: .services, origin: origin))
            parked.services.append(service)
        } else if claim(origin) {
            checkClusterIPs(of: service, origin)
            cluster.services.append(service)
        }
    }

    func add(_ slice: EndpointSlice, _ decoder: ObjectDecoder) {
        accept(slice, Origin(decoder, meta: slice.meta), .endpointSlices, into: &cluster.endpointSlices, parking: &parked.endpointSlices)
    }

    func add(_ endpoints: Endpoints, _ decoder: ObjectDecoder) {
        accept(endpoints, Origin(decoder, meta: endpoints.meta), .endpoints, into: &cluster.endpoints, parking: &parked.endpoints)
    }

    func add(_ pod: Pod, _ decoder: ObjectDecoder) {
        accept(pod, Origin(decoder, meta: pod.meta), .pods, into: &cluster.pods, parking: &parked.pods)
    }

    func add(_ namespace: Namespace, _ decoder: ObjectDecoder) {
        accept(namespace, Origin(decoder, meta: namespace.meta), .namespaces, into: &cluster.namespaces, parking: &parked.namespaces)
    }

    func add(_ node: Node, _ decoder: ObjectDecoder) {
        accept(node, Origin(decoder, meta: node.meta), .nodes, into: &cluster.nodes, parking: &parked.nodes)
    }

    func add(_ policy: AdminNetworkPolicy, _ decoder: ObjectDecoder) {
        accept(policy, Origin(decoder, meta: policy.meta), .adminPolicies, into: &cluster.adminPolicies, parking: &parked.adminPolicies)
    }

    func add(_ serviceCIDR: ServiceCIDR, _ decoder: ObjectDecoder) {
        accept(serviceCIDR, Origin(decoder, meta: serviceCIDR.meta), .serviceCIDRs, into: &cluster.serviceCIDRs, parking: &parked.serviceCIDRs)
    }

    func add(_ policy: NetworkPolicy, _ decoder: ObjectDecoder) {
        accept(policy, Origin(decoder, meta: policy.meta), .networkPolicies, into: &cluster.networkPolicies, parking: &parked.networkPolicies)
    }

    func add(_ workload: Workload, _ decoder: ObjectDecoder) {
        accept(workload, Origin(decoder, meta: workload.meta), .workloads, into: &cluster.workloads, parking: &parked.workloads)
    }

    func add(_ configuration: KubeProxyConfiguration) {
        if pending != nil {
            pending!.append(Pending(list: .proxyConfigurations, origin: nil))
            parked.proxyConfigurations.append(configuration)
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
