import KubeManifest

/// One backend of a service port: where DNAT sends the packet.
struct Backend: Sendable, Hashable, Comparable {
    var address: IPAddress
    var port: UInt16
    var nodeName: String?
    var pod: ObjectReference?
    var ready: Bool
    var serving: Bool
    var terminating: Bool
    /// Topology hints from the EndpointSlice; empty for legacy Endpoints.
    var zoneHints: Set<String> = []
    var nodeHints: Set<String> = []

    static func < (lhs: Backend, rhs: Backend) -> Bool {
        lhs.address == rhs.address ? lhs.port < rhs.port : lhs.address < rhs.address
    }

    var label: String { address.family == .v4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
}

/// A port's name and protocol, the key that joins Service ports and endpoint ports.
struct PortKey: Hashable {
    var name: String
    var proto: L4Protocol
}

/// Finds the backends of a service port from EndpointSlices (or legacy Endpoints when the service has
/// no slices), with kube-proxy's readiness rules: ready endpoints, else serving and terminating ones,
/// decided separately for cluster-wide and node-local traffic. Conditions are read as kube-proxy reads
/// them: `ready` as written (a ready endpoint that is also terminating is ready), an unset `serving` as
/// true.
struct EndpointResolver {
    private var slicesByService: [String: [EndpointSlice]] = [:]
    /// Per Service, per slice (aligned with `slicesByService`): port name and protocol to the port,
    /// so a Service with many ports finds each in constant time.
    private var slicePorts: [String: [[PortKey: UInt16?]]] = [:]
    private var endpointsByService: [String: Endpoints] = [:]
    /// The cluster's pods, and the position in it of each namespace and name (the last of equal
    /// names wins). Positions rather than copies: a `Pod` is large, and a dictionary of them copied
    /// every pod on each resize.
    private var pods: [Pod] = []
    private var podPositions: [PodName: Int] = [:]
    /// Node name to its `topology.kubernetes.io/zone` label.
    private var zonesByNode: [String: String] = [:]

    init(cluster: Cluster) {
        for node in cluster.nodes {
            if let zone = node.meta.labels["topology.kubernetes.io/zone"], !zone.isEmpty { zonesByNode[node.meta.name] = zone }
        }
        for slice in cluster.endpointSlices {
            guard let service = slice.serviceName else { continue }
            let key = "\(slice.meta.namespace)/\(service)"
            slicesByService[key, default: []].append(slice)
            // The first entry per name and protocol wins, as a scan in order would find it.
            var ports: [PortKey: UInt16?] = [:]
            for port in slice.ports where ports[PortKey(name: port.name, proto: port.protocol)] == nil {
                ports[PortKey(name: port.name, proto: port.protocol)] = .some(port.port)
            }
            slicePorts[key, default: []].append(ports)
        }
        for endpoints in cluster.endpoints { endpointsByService[endpoints.meta.qualifiedName] = endpoints }
        pods = cluster.pods
        podPositions.reserveCapacity(pods.count)
        for (position, pod) in pods.enumerated() {
            podPositions[PodName(namespace: pod.meta.namespace, name: pod.meta.name)] = position
        }
    }

    /// The zone of a node, from its Node object's `topology.kubernetes.io/zone` label.
    func zone(ofNode name: String?) -> String? { name.flatMap { zonesByNode[$0] } }

    func pod(_ reference: ObjectReference?) -> Pod? {
        guard let reference, reference.kind == "Pod" || reference.kind.isEmpty else { return nil }
        return podPositions[PodName(namespace: reference.namespace, name: reference.name)].map { pods[$0] }
    }

    /// Every known backend of the port in one family, deduplicated by address and port.
    func backends(of service: Service, port: ServicePort, family: IPFamily) -> [Backend] {
        var found: [Backend] = []
        if let slices = slicesByService[service.meta.qualifiedName], !slices.isEmpty {
            for (sliceIndex, slice) in slices.enumerated() where slice.addressType.rawValue == family.rawValue {
                guard let number = slicePorts[service.meta.qualifiedName]?[sliceIndex][PortKey(name: port.name, proto: port.protocol)] ?? nil
                else { continue }
                for endpoint in slice.endpoints {
                    guard let address = endpoint.addresses.first else { continue }
                    found.append(Backend(address: address, port: number, nodeName: endpoint.nodeName,
                                         pod: endpoint.targetRef, ready: endpoint.isReady,
                                         serving: endpoint.isServing, terminating: endpoint.isTerminating,
                                         zoneHints: Set(endpoint.zoneHints), nodeHints: Set(endpoint.nodeHints)))
                }
            }
        } else if let legacy = endpointsByService[service.meta.qualifiedName] {
            for subset in legacy.subsets {
                guard let subsetPort = subset.ports.first(where: { $0.name == port.name && $0.protocol == port.protocol }),
                      let number = subsetPort.port else { continue }
                for (addresses, ready) in [(subset.addresses, true), (subset.notReadyAddresses, false)] {
                    for address in addresses where address.ip.family == family {
                        found.append(Backend(address: address.ip, port: number, nodeName: address.nodeName,
                                             pod: address.targetRef, ready: ready, serving: ready, terminating: false))
                    }
                }
            }
        }
        return Self.deduplicated(found)
    }

    /// Keeps one entry per address and port, preferring the most usable copy.
    static func deduplicated(_ backends: [Backend]) -> [Backend] {
        var best: [AddressPort: Backend] = [:]
        best.reserveCapacity(backends.count)
        for backend in backends {
            let key = AddressPort(address: backend.address, port: backend.port)
            if let existing = best[key], rank(existing) >= rank(backend) { continue }
            best[key] = backend
        }
        return best.values.sorted()
    }

    /// A pod's namespace and name: its key, without building its `ns/name` string.
    private struct PodName: Hashable {
        var namespace: String
        var name: String
    }

    /// What `deduplicated` keeps one backend per (the same as the backend's `label`, without the string).
    private struct AddressPort: Hashable {
        var address: IPAddress
        var port: UInt16
    }

    /// Which copy of a duplicated endpoint wins: kube-proxy prefers one that is not terminating (a pod
    /// address reused before the old Pod is gone), then the more usable copy.
    private static func rank(_ backend: Backend) -> Int {
        (backend.terminating ? 0 : 4) + (backend.ready ? 2 : (backend.serving ? 1 : 0))
    }

    /// kube-proxy's choice: the ready backends, or when none is ready the serving, terminating ones.
    static func usable(_ backends: [Backend]) -> [Backend] {
        let ready = backends.filter(\.ready)
        if !ready.isEmpty { return ready }
        return backends.filter { $0.serving && $0.terminating }
    }

    /// The backends cluster-wide traffic uses, as kube-proxy's `CategorizeEndpoints` picks them: the
    /// topology mode comes from the ready backends' hints (same node when every ready backend has
    /// node hints and one names this node, else same zone when every one has zone hints and one
    /// names this node's zone, else none), and the usable backends are filtered by it.
    static func usableForCluster(_ backends: [Backend], node: String?, zone: String?) -> [Backend] {
        let mode = TopologyMode(backends.filter(\.ready), node: node, zone: zone)
        let ready = backends.filter { $0.ready && mode.admits($0, node: node, zone: zone) }
        if !ready.isEmpty { return ready }
        return backends.filter { $0.serving && $0.terminating && mode.admits($0, node: node, zone: zone) }
    }
}

/// How kube-proxy narrows cluster-wide endpoints by topology hints (the EndpointSlice controller
/// writes them for `trafficDistribution` and topology-aware routing).
enum TopologyMode: Equatable {
    case any, sameNode, sameZone

    init(_ ready: [Backend], node: String?, zone: String?) {
        let allHaveNodeHints = !ready.isEmpty && ready.allSatisfy { !$0.nodeHints.isEmpty }
        let allHaveZoneHints = !ready.isEmpty && ready.allSatisfy { !$0.zoneHints.isEmpty }
        if allHaveNodeHints, let node, ready.contains(where: { $0.nodeHints.contains(node) }) {
            self = .sameNode
        } else if allHaveZoneHints, let zone, ready.contains(where: { $0.zoneHints.contains(zone) }) {
            self = .sameZone
        } else {
            self = .any
        }
    }

    func admits(_ backend: Backend, node: String?, zone: String?) -> Bool {
        switch self {
        case .any: return true
        case .sameNode: return node.map(backend.nodeHints.contains) ?? false
        case .sameZone: return zone.map(backend.zoneHints.contains) ?? false
        }
    }
}
