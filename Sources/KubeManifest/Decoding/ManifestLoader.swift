import Dispatch

/// Knobs for loading that depend on the cluster being modelled rather than on the manifests.
public struct LoadOptions: Sendable, Hashable {
    /// The API server's `--service-node-port-range`; nodePorts outside it are errors.
    public var nodePortRange: ClosedRange<UInt16>
    /// Report unknown fields of known kinds as errors (otherwise they are warnings).
    public var strict: Bool

    public init(nodePortRange: ClosedRange<UInt16> = 30000...32767, strict: Bool = false) {
        self.nodePortRange = nodePortRange
        self.strict = strict
    }
}

/// What a load produced: the objects that could be decoded and every problem found. Objects with
/// problems are kept on a best-effort basis (invalid fields dropped) so that later stages can still
/// look at them, but callers should not compile a cluster whose load `hasErrors`.
public struct LoadResult: Sendable {
    /// The decoded objects, in canonical order (`Cluster.canonicalize`).
    public var cluster: Cluster
    /// Errors and warnings, sorted by location.
    public var diagnostics: [Diagnostic]

    public init(cluster: Cluster, diagnostics: [Diagnostic]) {
        self.cluster = cluster
        self.diagnostics = diagnostics
    }

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// Reads manifests (YAML or JSON, single or multi-document, `List`s) into a `Cluster`,
/// validating them the way the API server would and reporting every problem with its position.
public enum ManifestLoader {
    public static func load(_ sources: [ManifestSource], options: LoadOptions = LoadOptions()) -> LoadResult {
        load(sources, options: options, partSize: partSize)
    }

    /// `load` with the part size large sources are split at (tests use small parts) and the
    /// number of threads that decode parts (1 decodes them one after another, as tests compare).
    static func load(_ sources: [ManifestSource], options: LoadOptions, partSize: Int,
                     threads: Int = OrderedWorkers<Void>.defaultThreads) -> LoadResult {
        let sink = LoadSink(options: options)
        for source in sources {
            guard source.byteCount <= maximumSourceSize else {
                sink.diagnostics.append(BoundedReader.Problem.tooLarge(limit: maximumSourceSize).diagnostic(file: source.name))
                continue
            }
            if source.byteCount > partSize * 2 {
                if !source.isJSON {
                    if threads > 1 {
                        decodeInParallel(source, partSize: partSize, threads: threads, sink: sink)
                    } else {
                        decodeInParts(source, partSize: partSize, sink: sink)
                    }
                    continue
                }
                if JSONStreamReader.decode(source, partSize: partSize, sink: sink, threads: threads) { continue }
            }
            switch source.inMemory() {
            case .success(let whole): decodeTree(whole.readTree(), sink: sink)
            case .failure(let problem): sink.diagnostics.append(problem)
            }
        }
        // Taken out of the sink, so sorting swaps the objects in place instead of copying every list.
        var cluster = sink.cluster
        sink.cluster = Cluster()
        cluster.canonicalize()
        ClusterChecks.run(&cluster, into: &sink.diagnostics)
        sink.diagnostics += sink.unusedKinds.warnings()
        let result = LoadResult(cluster: cluster, diagnostics: sink.diagnostics.sorted())
        // The sink's claim table (an entry per object) is freed on another thread: nothing waits for it.
        let handedOver = HandedOver(sink: sink)
        DispatchQueue.global(qos: .utility).async { withExtendedLifetime(handedOver) {} }
        return result
    }

    /// Size of the parts a large YAML source is read in (and of the chunks a large JSON file is read
    /// in): big enough to amortise the handing over between threads, small enough that the parts
    /// and trees in flight stay a few megabytes.
    static let partSize = 1 << 20

    private static func decodeTree(_ tree: NodeTree, sink: LoadSink) {
        sink.diagnostics.append(contentsOf: tree.diagnostics)
        // One box for every decoder of the tree's objects (a box per decoder would copy the tree each time).
        let box = ObjectDecoder.TreeBox(tree)
        for document in tree.documents {
            decodeDocument(document, in: box, sink: sink)
        }
    }

    /// Parses the next part on another thread while this one decodes, in file order, so the
    /// cross-object checks see objects in the same order as a whole-file read.
    private static func decodeInParts(_ source: ManifestSource, partSize: Int, sink: LoadSink) {
        let feed = YAMLPartFeed(source, partSize: partSize)
        let reader = PartReader(name: source.name) { feed.next() }
        while let tree = reader.next() {
            decodeTree(tree, sink: sink)
        }
    }

    /// Parses and decodes parts on `threads` worker threads, each into a sink of its own, and
    /// merges the parts in file order, so the cross-object checks and every diagnostic are those
    /// of `decodeInParts`. At most two parts per thread are in flight; as there, nothing after
    /// the first part with a syntax error (or a failure to read) is decoded.
    private static func decodeInParallel(_ source: ManifestSource, partSize: Int, threads: Int, sink: LoadSink) {
        let feed = YAMLPartFeed(source, partSize: partSize)
        let workers = OrderedWorkers<(part: LoadSink, last: Bool, size: Int)>(threads: threads)
        defer { workers.close() }
        let name = source.name, options = sink.options
        var projected = false
        /// Merges the oldest part; false once no part may follow it.
        func mergeOldest() -> Bool {
            guard let (part, last, size) = workers.take() else { return true }
            let claimed = sink.claimCount, counts = sink.listCounts
            sink.merge(part)
            if !projected, size > 0 {
                projected = true
                let perByte = Double(sink.claimCount - claimed) / Double(size)
                sink.reserveClaims(claimed + min(Int(perByte * Double(source.byteCount) * 1.1), 1 << 22))
                sink.reserveLists(grownSince: counts, scale: Double(source.byteCount) / Double(size) * 1.1)
            }
            return !last
        }
        while true {
            switch feed.next() {
            case .success(let bytes?):
                workers.submit {
                    let tree = YAMLReader.read(bytes.bytes, name: name, lineOffset: bytes.lineOffset)
                    let part = LoadSink.part(options: options)
                    decodeTree(tree, sink: part)
                    return (part, !tree.diagnostics.isEmpty, bytes.bytes.count)
                }
                while workers.inFlight >= threads * 2 {
                    guard mergeOldest() else { return }
                }
            case .success(nil):
                while workers.inFlight > 0 {
                    guard mergeOldest() else { return }
                }
                return
            case .failure(let diagnostic):
                while workers.inFlight > 0 {
                    guard mergeOldest() else { return }
                }
                sink.diagnostics.append(diagnostic)
                return
            }
        }
    }

    static func decodeDocument(_ root: Int32, in tree: NodeTree, sink: LoadSink) {
        decodeDocument(root, in: ObjectDecoder.TreeBox(tree), sink: sink)
    }

    private static func decodeDocument(_ root: Int32, in box: ObjectDecoder.TreeBox, sink: LoadSink) {
        let decoder = ObjectDecoder(box: box, root: root, sink: sink)
        if box.tree.node(root).kind == .sequence {
            // A bare list of objects, as a top-level JSON array.
            for item in box.tree.children(root) where !box.tree.isNull(item) { decodeDocument(item, in: box, sink: sink) }
            return
        }
        guard box.tree.node(root).kind == .mapping else {
            decoder.error(root, "expected a mapping, got \(decoder.describe(root))")
            return
        }
        guard let kindNode = decoder.field(root, "kind") else {
            decoder.missing("kind", in: root)
            return
        }
        guard let kind = decoder.string(kindNode) else { return }
        guard !kind.isEmpty else { decoder.error(kindNode, "must not be empty"); return }
        if kind.hasSuffix("List"), let itemsNode = box.tree.value(root, "items") {
            decodeList(kind: kind, root: root, items: itemsNode, in: box, sink: sink)
            return
        }
        decodeObject(root, kind: kind, kindNode: kindNode, in: box, sink: sink)
    }

    /// `kind: List` (what `kubectl get -o yaml` prints) or a typed list such as `ServiceList`,
    /// whose items may leave out their kind and apiVersion.
    private static func decodeList(kind: String, root: Int32, items: Int32, in box: ObjectDecoder.TreeBox, sink: LoadSink) {
        let decoder = ObjectDecoder(box: box, root: root, sink: sink)
        reportDuplicateKeys(box.tree.duplicateKeys(under: root).filter { $0.mapping == root }, decoder: decoder)
        let itemKind = kind == "List" ? nil : String(kind.dropLast(4))
        let listVersion = box.tree.value(root, "apiVersion").flatMap { box.tree.scalarType($0) == .string ? box.tree.string($0) : nil }
        for item in decoder.items(items) {
            decodeListItem(item, itemKind: itemKind, listVersion: listVersion, in: box, sink: sink) { box.tree.path(to: item, from: root) }
        }
    }

    /// One item of a list; `field` spells its path (for an item that is not an object).
    static func decodeListItem(_ item: Int32, itemKind: String?, listVersion: String?, in tree: NodeTree, sink: LoadSink,
                               field: () -> String) {
        decodeListItem(item, itemKind: itemKind, listVersion: listVersion, in: ObjectDecoder.TreeBox(tree), sink: sink, field: field)
    }

    private static func decodeListItem(_ item: Int32, itemKind: String?, listVersion: String?, in box: ObjectDecoder.TreeBox,
                                       sink: LoadSink, field: () -> String) {
        let decoder = ObjectDecoder(box: box, root: item, sink: sink)
        guard box.tree.node(item).kind == .mapping else {
            if !box.tree.isNull(item) {
                decoder.report(.error, field: field(), at: item, "expected a mapping, got \(decoder.describe(item))")
            }
            return
        }
        if let kindNode = decoder.field(item, "kind") {
            guard let kind = decoder.string(kindNode) else { return }
            if kind.hasSuffix("List"), let nested = box.tree.value(item, "items") {
                decodeList(kind: kind, root: item, items: nested, in: box, sink: sink)
            } else {
                decodeObject(item, kind: kind, kindNode: kindNode, in: box, sink: sink)
            }
        } else if let itemKind {
            decodeObject(item, kind: itemKind, kindNode: nil, in: box, sink: sink, inheritedVersion: listVersion)
        } else {
            decoder.missing("kind", in: item)
        }
    }

    private static func decodeObject(_ root: Int32, kind: String, kindNode: Int32?, in box: ObjectDecoder.TreeBox,
                                     sink: LoadSink, inheritedVersion: String? = nil) {
        guard let known = KnownKind(rawValue: kind) else {
            UnusedKinds.note(kind: kind, root: root, in: box.tree, sink: sink, inheritedVersion: inheritedVersion)
            return
        }
        var decoder = ObjectDecoder(box: box, root: root, sink: sink)
        decoder.prepareLabel(kind: known)
        reportDuplicateKeys(box.tree.duplicateKeys(under: root), decoder: decoder)
        guard decoder.checkAPIVersion(kind: known, inherited: inheritedVersion) else { return }
        switch known {
        case .service: decoder.decodeService().map { sink.add($0, decoder) }
        case .endpointSlice: decoder.decodeEndpointSlice().map { sink.add($0, decoder) }
        case .endpoints: decoder.decodeEndpoints().map { sink.add($0, decoder) }
        case .pod: decoder.decodePod().map { sink.add($0, decoder) }
        case .namespace: decoder.decodeNamespace().map { sink.add($0, decoder) }
        case .node: decoder.decodeNode().map { sink.add($0, decoder) }
        case .networkPolicy: decoder.decodeNetworkPolicy().map { sink.add($0, decoder) }
        case .kubeProxyConfiguration: decoder.decodeProxyConfiguration().map { sink.add($0) }
        case .serviceCIDR: decoder.decodeServiceCIDR().map { sink.add($0, decoder) }
        case .adminNetworkPolicy: decoder.decodeAdminPolicy(tier: .admin).map { sink.add($0, decoder) }
        case .baselineAdminNetworkPolicy: decoder.decodeAdminPolicy(tier: .baseline).map { sink.add($0, decoder) }
        case .clusterNetworkPolicy: decoder.decodeClusterNetworkPolicy().map { sink.add($0, decoder) }
        case .deployment, .statefulSet, .daemonSet, .replicaSet, .job, .cronJob, .replicationController:
            decoder.decodeWorkload().map { sink.add($0, decoder) }
        }
    }
}

extension ManifestLoader {
    /// Duplicate keys spelled out per object; more only add a count, so that a mapping with many
    /// repeated keys cannot make reporting (each needs the key's field path) quadratic.
    static let duplicateKeyReportLimit = 100

    /// A key given twice in one mapping: the later value is used (a warning), or with `strict`
    /// the object is refused (an error), as the API server's strict field validation does.
    static func reportDuplicateKeys<Keys: Collection<DuplicateKey>>(_ keys: Keys, decoder: ObjectDecoder) {
        guard !keys.isEmpty else { return }
        let tree = decoder.tree
        let severity: Diagnostic.Severity = decoder.options.strict ? .error : .warning
        for duplicate in keys.prefix(duplicateKeyReportLimit) {
            let first = tree.location(duplicate.first)
            var reason = "duplicate key \"\(tree.string(duplicate.key))\", also at line \(first.line), column \(first.column)"
            if severity == .warning { reason += "; the later value is used" }
            decoder.report(severity, field: tree.path(to: duplicate.key, from: decoder.root), at: duplicate.key, reason)
        }
        if keys.count > duplicateKeyReportLimit {
            decoder.report(severity, field: "", at: decoder.root, "\(keys.count - duplicateKeyReportLimit) more duplicate keys in this object")
        }
    }
}

/// The kinds kubenft reads, with the one apiVersion each is served under.
enum KnownKind: String, Sendable {
    case service = "Service"
    case endpointSlice = "EndpointSlice"
    case endpoints = "Endpoints"
    case pod = "Pod"
    case namespace = "Namespace"
    case node = "Node"
    case networkPolicy = "NetworkPolicy"
    case kubeProxyConfiguration = "KubeProxyConfiguration"
    case adminNetworkPolicy = "AdminNetworkPolicy"
    case baselineAdminNetworkPolicy = "BaselineAdminNetworkPolicy"
    case clusterNetworkPolicy = "ClusterNetworkPolicy"
    case serviceCIDR = "ServiceCIDR"
    case deployment = "Deployment"
    case statefulSet = "StatefulSet"
    case daemonSet = "DaemonSet"
    case replicaSet = "ReplicaSet"
    case job = "Job"
    case cronJob = "CronJob"
    case replicationController = "ReplicationController"

    static let proxyConfigurationV1alpha2 = "kubeproxy.config.k8s.io/v1alpha2"

    /// The apiVersion kubenft names in messages; `accepts` also takes the older or newer versions
    /// that carry the same fields.
    var apiVersion: String {
        switch self {
        case .service, .endpoints, .pod, .namespace, .node, .replicationController: return "v1"
        case .deployment, .statefulSet, .daemonSet, .replicaSet: return "apps/v1"
        case .job, .cronJob: return "batch/v1"
        case .endpointSlice: return "discovery.k8s.io/v1"
        case .networkPolicy: return "networking.k8s.io/v1"
        case .kubeProxyConfiguration: return "kubeproxy.config.k8s.io/v1alpha1"
        case .adminNetworkPolicy, .baselineAdminNetworkPolicy: return "policy.networking.k8s.io/v1alpha1"
        case .clusterNetworkPolicy: return "policy.networking.k8s.io/v1alpha2"
        case .serviceCIDR: return "networking.k8s.io/v1"
        }
    }

    func accepts(_ version: String) -> Bool {
        switch self {
        case .kubeProxyConfiguration: return version == apiVersion || version == Self.proxyConfigurationV1alpha2
        case .serviceCIDR: return version == apiVersion || version == "networking.k8s.io/v1beta1"
        default: return version == apiVersion
        }
    }

    var isNamespaced: Bool {
        switch self {
        case .namespace, .node, .kubeProxyConfiguration, .adminNetworkPolicy, .baselineAdminNetworkPolicy, .clusterNetworkPolicy, .serviceCIDR: return false
        default: return true
        }
    }
}

/// A finished load's sink on its way to be freed on another thread; nothing reads it any more,
/// so handing it over is safe.
private struct HandedOver: @unchecked Sendable {
    let sink: LoadSink
}
