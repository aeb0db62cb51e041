import NetAddress

/// Checks that span objects and need the whole input, run once everything is decoded and sorted so
/// that the result never depends on file order: which pods are still enforced, two live pods with one
/// address, two Services on one node port, and two Services on one address and port. The API server
/// refuses the last three (its allocators and validation); kube-proxy would otherwise let whichever
/// rule comes first win, silently.
enum ClusterChecks {
    static func run(_ cluster: inout Cluster, into diagnostics: inout [Diagnostic], parallelFrom threshold: Int = parallelThreshold) {
        forgetTerminatedPods(&cluster.pods)
        let pods = cluster.pods, services = cluster.services
        /// The check of one list: 0 the pods, 1 the Services.
        @Sendable func check(_ list: Int) -> [Diagnostic] {
            var found: [Diagnostic] = []
            if list == 0 {
                checkPodAddresses(pods, into: &found)
            } else {
                checkNodePorts(services, into: &found)
                checkServiceAddresses(services, into: &found)
            }
            return found
        }
        // The two read disjoint lists: on a large cluster they run side by side, and their findings
        // are joined in the order one thread gives.
        guard pods.count + services.count >= threshold else {
            diagnostics += check(0) + check(1)
            return
        }
        diagnostics += Concurrently.map(2, check).joined()
    }

    /// Objects from which the pod and Service checks run on two threads.
    static let parallelThreshold = 16_384

    /// Pods in phase Succeeded or Failed no longer hold their address: the kubelet has released it
    /// and a new pod may get it. Like upstream policy implementations, kubenft does not enforce them
    /// (their addresses are dropped, so no map entry or matrix row names them).
    static func forgetTerminatedPods(_ pods: inout [Pod]) {
        for index in pods.indices where pods[index].isTerminated { pods[index].podIPs = [] }
    }

    private static func checkPodAddresses(_ pods: [Pod], into diagnostics: inout [Diagnostic]) {
        // Every claim of an address by a pod, sorted by address and then by pod: the first claim of
        // an address names its owner, and the others are reported in pod order, as a pass over
        // the pods that remembers each address's first holder reports them. Sorting numbers costs
        // a fraction of hashing every address into a table.
        var claims: [AddressClaim] = []
        claims.reserveCapacity(pods.count)
        for index in pods.indices where !pods[index].hostNetwork {
            let podIPs = pods[index].podIPs
            for address in podIPs.count == 1 ? podIPs : Set(podIPs).sorted() { claims.append(AddressClaim(address, pod: index)) }
        }
        claims.sort()
        var repeats: [(pod: Int, address: IPAddress, owner: Int)] = []
        var owner = 0
        for position in claims.indices {
            if position == 0 || !claims[position].sameAddress(as: claims[position - 1]) {
                owner = claims[position].pod
            } else {
                repeats.append((claims[position].pod, claims[position].address, owner))
            }
        }
        repeats.sort { $0.pod != $1.pod ? $0.pod < $1.pod : $0.address < $1.address }
        for (index, address, other) in repeats {
            let pod = pods[index]
            diagnostics.append(Diagnostic(at: pod.meta.location, object: "Pod \(pod.meta.qualifiedName)",
                                          field: "status.podIPs",
                                          reason: "\(address) is also the address of running Pod \(pods[other].meta.qualifiedName)"))
        }
    }

    /// A pod's claim of an address, ordered by the address's number and family, then by pod.
    private struct AddressClaim: Comparable {
        let value: UInt128
        let isV6: Bool
        let pod: Int

        init(_ address: IPAddress, pod: Int) {
            value = address.numericValue
            isV6 = address.family == .v6
            self.pod = pod
        }

        var address: IPAddress { IPAddress(numericValue: value, family: isV6 ? .v6 : .v4) }

        func sameAddress(as other: AddressClaim) -> Bool { value == other.value && isV6 == other.isV6 }

        static func < (left: AddressClaim, right: AddressClaim) -> Bool {
            if left.value != right.value { return left.value < right.value }
            if left.isV6 != right.isV6 { return !left.isV6 }
            return left.pod < right.pod
        }
    }

    private static func checkNodePorts(_ services: [Service], into diagnostics: inout [Diagnostic]) {
        // The index of the Service holding each node port (names are unique after loading, so two
        // indices differ exactly when two names do); each Service's own ports by number and protocol.
        var owners: [UInt16: Int] = [:]
        for index in services.indices {
            let ports = services[index].ports
            var own: Set<ServedPort.Key> = []
            for (position, port) in ports.enumerated() {
                guard let nodePort = port.nodePort else { continue }
                let field = "spec.ports[\(position)].nodePort"
                if !own.insert(ServedPort.Key(port: nodePort, proto: port.protocol)).inserted {
                    let service = services[index]
                    diagnostics.append(problem(service, port.location, field, "duplicate nodePort \(nodePort)/\(port.protocol.rawValue)"))
                } else if let other = owners[nodePort], other != index {
                    let service = services[index]
                    diagnostics.append(problem(service, port.location, field, "nodePort \(nodePort) is already allocated to Service \(services[other].meta.qualifiedName)"))
                } else {
                    owners[nodePort] = index
                }
            }
        }
    }

    /// Every `address:port/protocol` a Service answers on (cluster IPs, external IPs, load-balancer
    /// ingress IPs) must belong to one Service only.
    /// Where a Service lists an address, spelled as a field path only when a collision is reported.
    private enum AddressSite {
        case clusterIP(Int), externalIP(Int), loadBalancerIngress(Int)

        var field: String {
            switch self {
            case .clusterIP(let index): "spec.clusterIPs[\(index)]"
            case .externalIP(let index): "spec.externalIPs[\(index)]"
            case .loadBalancerIngress(let index): "status.loadBalancer.ingress[\(index)].ip"
            }
        }

        var isClusterIP: Bool { if case .clusterIP = self { true } else { false } }
    }

    /// An address, port and protocol one Service serves.
    private struct ServedPort: Hashable {
        var address: IPAddress
        var port: UInt16
        var proto: L4Protocol

        /// A port and protocol without an address.
        struct Key: Hashable {
            var port: UInt16
            var proto: L4Protocol
        }
    }

    private static func checkServiceAddresses(_ services: [Service], into diagnostics: inout [Diagnostic]) {
        // The index of the Service that serves each address and port first (names are unique after
        // loading, so two indices differ exactly when two names do).
        var owners: [ServedPort: (service: Int, isClusterIP: Bool)] = [:]
        owners.reserveCapacity(services.count * 2)
        let claims = services.indices.filter { services[$0].type != .externalName }.map { ($0, addresses(of: services[$0])) }
        // Cluster IPs first: they are allocated by the API server, so an external address that
        // collides with one is the one in the wrong.
        for pass in [true, false] {
            for (index, addresses) in claims {
                for (address, site) in addresses where site.isClusterIP == pass {
                    for port in services[index].ports {
                        let key = ServedPort(address: address, port: port.port, proto: port.protocol)
                        guard let other = owners[key] else {
                            owners[key] = (index, pass)
                            continue
                        }
                        // Two Services on one cluster IP are reported while loading.
                        guard other.service != index, !(other.isClusterIP && pass) else { continue }
                        let service = services[index]
                        diagnostics.append(problem(service, service.meta.location, site.field,
                                                   "\(address) port \(port.port)/\(port.protocol.rawValue) is already served by Service "
                                                       + services[other.service].meta.qualifiedName))
                    }
                }
            }
        }
    }

    private static func addresses(of service: Service) -> [(IPAddress, AddressSite)] {
        var result: [(IPAddress, AddressSite)] = []
        for (index, address) in service.clusterIPs.enumerated() { result.append((address, .clusterIP(index))) }
        guard !service.externalIPs.isEmpty || service.type == .loadBalancer else { return result }
        // Each address once, at the position it is first listed.
        var listed: Set<IPAddress> = []
        for (index, address) in service.externalIPs.enumerated() where listed.insert(address).inserted {
            result.append((address, .externalIP(index)))
        }
        if service.type == .loadBalancer {
            for (index, address) in Set(service.loadBalancerIngressIPs).sorted().enumerated() {
                result.append((address, .loadBalancerIngress(index)))
            }
        }
        return result
    }

    private static func problem(_ service: Service, _ location: SourceLocation, _ field: String, _ reason: String) -> Diagnostic {
        Diagnostic(at: location, object: "Service \(service.meta.qualifiedName)", field: field, reason: reason)
    }
}

extension Pod {
    /// True for pods in phase Succeeded or Failed, whose containers have all stopped for good.
    public var isTerminated: Bool { phase == "Succeeded" || phase == "Failed" }
}
