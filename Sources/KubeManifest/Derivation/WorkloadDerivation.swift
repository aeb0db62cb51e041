/// Where derived pods run and which ranges derived addresses come from.
public struct DerivationPlacement: Sendable, Hashable {
    /// The reviewed node: derived pods are placed on it, so its rules police every one of them.
    public var nodeName: String?
    /// IPv4 range of derived pod addresses.
    public var podRange: CIDR
    /// IPv4 range of derived Service cluster IPs.
    public var serviceRange: CIDR
    /// The node's addresses: the addresses of derived hostNetwork pods.
    public var nodeIPs: [IPAddress]

    /// The pod range when no IPv4 `--cluster-cidr` is given (the usual kubeadm/flannel pod network).
    public static let defaultPodRange = CIDR("10.244.0.0/16")!
    /// kubeadm's default `--service-cluster-ip-range`.
    public static let defaultServiceRange = CIDR("10.96.0.0/12")!
    /// At most this many pods are derived per workload; all replicas behave alike under policy.
    public static let maximumReplicas = 16

    public init(nodeName: String? = nil, podRange: CIDR? = nil, serviceRange: CIDR? = nil, nodeIPs: [IPAddress] = []) {
        self.nodeName = nodeName
        let usable = { (range: CIDR?) in range.flatMap { $0.family == .v4 && $0.prefixLength <= 24 ? $0 : nil } }
        self.podRange = usable(podRange) ?? Self.defaultPodRange
        self.serviceRange = usable(serviceRange) ?? Self.defaultServiceRange
        self.nodeIPs = nodeIPs
    }
}

/// Turns what a repository declares into the cluster the control plane would make of it: the pods
/// each workload's controller would create (and declared Pods without an address), a cluster IP
/// for each Service that has none, and EndpointSlices by selector. Addresses are hashes of names
/// (never positions), so the model does not depend on file order and adding a workload leaves the
/// others' addresses alone (only a hash collision moves the one that collides, in name order).
/// Workloads whose pods are already in the input (through `ownerReferences`) are not derived again.
public enum WorkloadDerivation {
    public static func derive(_ cluster: inout Cluster, placement: DerivationPlacement) -> [Diagnostic] {
        let countsBefore = cluster.objectCounts
        var diagnostics: [Diagnostic] = []
        var derived: [(key: String, pod: Pod)] = []
        if !cluster.workloads.isEmpty {
            let owners = OwnerGraph(cluster)
            for workload in cluster.workloads where !owners.isRealised(workload) && !owners.hasOwnerInInput(workload) {
                derived += pods(of: workload, placement, &diagnostics)
            }
        }
        // One pass over the pods (a large list): declared pods become placed pods of their own,
        // pods with a status but no address are reported, and the pods that take an address here
        // are noted.
        // Read through a buffer, so no pod is copied to be looked at.
        var ownPods: [Int] = [], declared: [Int] = []
        cluster.pods.withUnsafeBufferPointer { pods in
            for index in pods.indices {
                let isDeclared = isDeclaredWithoutAddress(pods[index])
                if isDeclared {
                    declared.append(index)
                } else if pods[index].podIPs.isEmpty, let warning = unaddressed(pods[index]) {
                    // (Checked for a missing address first: passing the pod on copies it.)
                    diagnostics.append(warning)
                }
                if (isDeclared || pods[index].origin?.kind == "Pod") && !pods[index].hostNetwork { ownPods.append(index) }
            }
        }
        for index in declared {
            cluster.pods[index].origin = PodOrigin(kind: "Pod", workload: cluster.pods[index].meta.name, replica: 0)
            cluster.pods[index].nodeName = cluster.pods[index].nodeName ?? placement.nodeName
        }
        let bare = ownPods.filter { cluster.pods[$0].podIPs.isEmpty }
        let keys = derived.filter { !$0.pod.hostNetwork }.map(\.key) + bare.map { "\(cluster.pods[$0].meta.qualifiedName)[Pod]" }
        // The addresses in use matter only when one is to be handed out (a runtime dump needs none).
        let allocates = !keys.isEmpty || cluster.services.contains(where: needsClusterIP)
        var allocator = AddressAllocator(taken: allocates ? takenAddresses(cluster, placement) : [])
        let addresses = allocator.assign(keys.sorted(), in: placement.podRange, reserved: 1)
        for index in derived.indices where !derived[index].pod.hostNetwork {
            derived[index].pod.podIPs = addresses[derived[index].key].map { [$0] } ?? []
        }
        for index in ownPods {
            cluster.pods[index].podIPs = addresses["\(cluster.pods[index].meta.qualifiedName)[Pod]"].map { [$0] } ?? []
        }
        let unplaced = keys.filter { addresses[$0] == nil }
        if let first = unplaced.first {
            diagnostics.append(Diagnostic(at: SourceLocation(file: "<command line>", line: 1, column: 1), object: nil, field: "--cluster-cidr",
                                          reason: "\(placement.podRange) has no free address left for \(unplaced.count) derived pods (first: \(first))"))
        }
        cluster.pods += derived.map(\.pod)
        let derivedServices = assignClusterIPs(&cluster, placement, &allocator, &diagnostics)
        EndpointDerivation.derive(&cluster, services: derivedServices)
        addImpliedNamespaces(&cluster)
        // Objects are only ever added here, and changed ones keep their names: a cluster that
        // gained nothing (a runtime dump) is still in the order it came in.
        if cluster.objectCounts != countsBefore { cluster.canonicalize() }
        return diagnostics
    }

    /// A Pod as a repository declares it: no address, no status, no controller.
    static func isDeclaredWithoutAddress(_ pod: borrowing Pod) -> Bool {
        pod.podIPs.isEmpty && pod.phase == nil && pod.controller == nil && pod.origin == nil
    }

    /// Pods that would run yet get no address: a Pod with a `status` (an exported object, as
    /// repositories sometimes hold) but no `podIP`. kubectl apply ignores the status, so the pod
    /// would run and be policed, yet kubenft cannot review it: say so rather than leave it out
    /// silently. Pods that have finished (Succeeded, Failed) hold no connections and are left alone.
    static func unaddressed(_ pod: borrowing Pod) -> Diagnostic? {
        guard pod.podIPs.isEmpty && !pod.hostNetwork && pod.origin == nil && pod.phase != "Succeeded" && pod.phase != "Failed"
            && !isDeclaredWithoutAddress(pod) else { return nil }
        return Diagnostic(.warning, at: pod.meta.location, object: "Pod \(pod.meta.qualifiedName)", field: "status.podIP",
                          reason: "the pod has a status (phase \(pod.phase ?? "unset")) but no address: it is not reviewed; remove its status to review it as declared")
    }

    /// Addresses already in use: real pods, nodes, Services' own addresses.
    private static func takenAddresses(_ cluster: Cluster, _ placement: DerivationPlacement) -> Set<IPAddress> {
        var taken = Set(cluster.pods.flatMap(\.podIPs))
        taken.formUnion(placement.nodeIPs)
        taken.formUnion(cluster.nodes.flatMap(\.addresses))
        for service in cluster.services {
            taken.formUnion(service.clusterIPs)
            taken.formUnion(service.externalIPs)
            taken.formUnion(service.loadBalancerIngressIPs)
        }
        return taken
    }

    /// The replicas a workload's controller keeps running, as pods without addresses yet.
    private static func pods(of workload: Workload, _ placement: DerivationPlacement,
                             _ diagnostics: inout [Diagnostic]) -> [(key: String, pod: Pod)] {
        var count = [.daemonSet, .cronJob].contains(workload.kind) ? 1 : workload.replicas
        let object = "\(workload.kind.rawValue) \(workload.meta.qualifiedName)"
        if count == 0 {
            diagnostics.append(Diagnostic(.warning, at: workload.meta.location, object: object, field: "spec.replicas",
                                          reason: "0 replicas: no pod is derived, so matrix and diff do not show this workload"))
        } else if count > DerivationPlacement.maximumReplicas {
            diagnostics.append(Diagnostic(.warning, at: workload.meta.location, object: object, field: "spec.replicas",
                                          reason: "\(count) replicas: only \(DerivationPlacement.maximumReplicas) pods are derived (all replicas behave alike under policy; service shares are per derived pod)"))
            count = DerivationPlacement.maximumReplicas
        }
        return (0..<count).map { replica in
            var pod = workload.template
            let suffix = workload.kind == .statefulSet ? "\(replica)" : "\(workload.kind.rawValue.lowercased())-\(replica)"
            pod.meta.name = "\(workload.meta.name)-\(suffix)"
            pod.meta.namespace = workload.meta.namespace
            pod.meta.location = workload.meta.location
            pod.nodeName = pod.nodeName ?? placement.nodeName
            pod.origin = PodOrigin(kind: workload.kind.rawValue, workload: workload.meta.name, replica: replica)
            if workload.kind == .statefulSet {
                // The StatefulSet controller names each pod's host after the pod, in the Service it names.
                pod.naming = PodNaming(hostname: pod.meta.name, subdomain: workload.serviceName)
            }
            if pod.hostNetwork { pod.podIPs = placement.nodeIPs }
            return ("\(workload.reviewName)#\(replica)", pod)
        }
    }

    /// A Service the API server would give a cluster IP and that has none.
    private static func needsClusterIP(_ service: Service) -> Bool {
        service.type != .externalName && !service.isHeadless && service.clusterIPs.isEmpty
    }

    /// A cluster IP from the service range for every Service the API server would give one:
    /// not ExternalName, not headless, none declared. Returns the names of those Services.
    private static func assignClusterIPs(_ cluster: inout Cluster, _ placement: DerivationPlacement,
                                         _ allocator: inout AddressAllocator, _ diagnostics: inout [Diagnostic]) -> Set<String> {
        let needing = cluster.services.indices.filter { needsClusterIP(cluster.services[$0]) }
        let keys = needing.map { cluster.services[$0].meta.qualifiedName }
        let addresses = allocator.assign(keys.sorted(), in: placement.serviceRange, reserved: 2)
        var assigned = Set<String>()
        for index in needing {
            let service = cluster.services[index]
            guard let address = addresses[service.meta.qualifiedName] else {
                diagnostics.append(Diagnostic(at: service.meta.location, object: "Service \(service.meta.qualifiedName)", field: "spec.clusterIP",
                                              reason: "no free address left in the service range \(placement.serviceRange)"))
                continue
            }
            cluster.services[index].clusterIPs = [address]
            assigned.insert(service.meta.qualifiedName)
        }
        return assigned
    }

    /// Namespaces used but not declared, with the label the API server sets on every namespace.
    private static func addImpliedNamespaces(_ cluster: inout Cluster) {
        var known = Set(cluster.namespaces.map(\.meta.name))
        // By index: a loop over the pods themselves would copy each one.
        for index in cluster.pods.indices where cluster.pods[index].origin != nil && known.insert(cluster.pods[index].meta.namespace).inserted {
            let meta = cluster.pods[index].meta
            cluster.namespaces.append(Namespace(meta: ObjectMeta(name: meta.namespace, labels: ["kubernetes.io/metadata.name": meta.namespace],
                                                                 location: meta.location)))
        }
    }
}

/// Hands out addresses by hashing names: attempt 0 of every name first (in name order), then
/// attempt 1 for the names that collided, and so on, so a name keeps its first choice unless an
/// earlier name hashes to the same address.
struct AddressAllocator {
    var taken: Set<IPAddress>
    static let attempts = 64

    /// Addresses in `range`, skipping its first `reserved` addresses and its last one.
    mutating func assign(_ keys: [String], in range: CIDR, reserved: Int) -> [String: IPAddress] {
        let size = UInt64(1) << UInt64(32 - range.prefixLength)
        guard size > UInt64(reserved) + 1 else { return [:] }
        let usable = size - UInt64(reserved) - 1
        var result: [String: IPAddress] = [:]
        var pending = keys
        for attempt in 0..<Self.attempts where !pending.isEmpty {
            var next: [String] = []
            for key in pending {
                let offset = UInt64(reserved) + Self.hash("\(key)#\(attempt)") % usable
                let address = IPAddress(numericValue: range.address.numericValue + UInt128(offset), family: .v4)
                if taken.insert(address).inserted { result[key] = address } else { next.append(key) }
            }
            pending = next
        }
        return result
    }

    /// 64-bit FNV-1a: stable across runs and platforms, unlike `Hasher`.
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            value ^= UInt64(byte)
            value = value &* 0x100_0000_01b3
        }
        return value
    }
}
