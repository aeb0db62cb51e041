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

    static func < (lhs: Backend, rhs: Backend) -> Bool {
        lhs.address == rhs.address ? lhs.port < rhs.port : lhs.address < rhs.address
    }

    var label: String { address.family == .v4 ? "\(address):\(port)" : "[\(address)]:\(port)" }
}

/// Finds the backends of a service port from EndpointSlices (or legacy Endpoints when the service has
/// no slices), with kube-proxy's readiness rules: ready endpoints, else serving and terminating ones,
/// decided separately for cluster-wide and node-local traffic.
struct EndpointResolver {
    private var slicesByService: [String: [EndpointSlice]] = [:]
    private var endpointsByService: [String: Endpoints] = [:]
    private var podsByName: [String: Pod] = [:]

    init(cluster: Cluster) {
        for slice in cluster.endpointSlices {
            guard let service = slice.serviceName else { continue }
            slicesByService["\(slice.meta.namespace)/\(service)", default: []].append(slice)
        }
        for endpoints in cluster.endpoints { endpointsByService[endpoints.meta.qualifiedName] = endpoints }
        for pod in cluster.pods { podsByName[pod.meta.qualifiedName] = pod }
    }

    func pod(_ reference: ObjectReference?) -> Pod? {
        guard let reference, reference.kind == "Pod" || reference.kind.isEmpty else { return nil }
        return podsByName["\(reference.namespace)/\(reference.name)"]
    }

    /// Every known backend of the port in one family, deduplicated by address and port.
    func backends(of service: Service, port: ServicePort, family: IPFamily) -> [Backend] {
        var found: [Backend] = []
        if let slices = slicesByService[service.meta.qualifiedName], !slices.isEmpty {
            for slice in slices where slice.addressType.rawValue == family.rawValue {
                guard let slicePort = slice.ports.first(where: { $0.name == port.name && $0.protocol == port.protocol }),
                      let number = slicePort.port else { continue }
                for endpoint in slice.endpoints {
                    guard let address = endpoint.addresses.first else { continue }
                    found.append(Backend(address: address, port: number, nodeName: endpoint.nodeName ?? pod(endpoint.targetRef)?.nodeName,
                                         pod: endpoint.targetRef, ready: endpoint.isReady && !endpoint.isTerminating,
                                         serving: endpoint.isServing, terminating: endpoint.isTerminating))
                }
            }
        } else if let legacy = endpointsByService[service.meta.qualifiedName] {
            for subset in legacy.subsets {
                guard let subsetPort = subset.ports.first(where: { $0.name == port.name && $0.protocol == port.protocol }),
                      let number = subsetPort.port else { continue }
                for (addresses, ready) in [(subset.addresses, true), (subset.notReadyAddresses, false)] {
                    for address in addresses where address.ip.family == family {
                        found.append(Backend(address: address.ip, port: number, nodeName: address.nodeName ?? pod(address.targetRef)?.nodeName,
                                             pod: address.targetRef, ready: ready, serving: ready, terminating: false))
                    }
                }
            }
        }
        return Self.deduplicated(found)
    }

    /// Keeps one entry per address and port, preferring the most usable copy.
    static func deduplicated(_ backends: [Backend]) -> [Backend] {
        var best: [String: Backend] = [:]
        for backend in backends {
            let key = backend.label
            if let existing = best[key], rank(existing) >= rank(backend) { continue }
            best[key] = backend
        }
        return best.values.sorted()
    }

    private static func rank(_ backend: Backend) -> Int { backend.ready ? 2 : (backend.serving ? 1 : 0) }

    /// kube-proxy's choice: the ready backends, or when none is ready the serving, terminating ones.
    static func usable(_ backends: [Backend]) -> [Backend] {
        let ready = backends.filter(\.ready)
        if !ready.isEmpty { return ready }
        return backends.filter { $0.serving && $0.terminating }
    }
}
