import NetAddress

/// Checks that span objects and need the whole input, run once everything is decoded and sorted so
/// that the result never depends on file order: which pods are still enforced, two live pods with one
/// address, two Services on one node port, and two Services on one address and port. The API server
/// refuses the last three (its allocators and validation); kube-proxy would otherwise let whichever
/// rule comes first win, silently.
enum ClusterChecks {
    static func run(_ cluster: inout Cluster, into diagnostics: inout [Diagnostic]) {
        forgetTerminatedPods(&cluster.pods)
        checkPodAddresses(cluster.pods, into: &diagnostics)
        checkNodePorts(cluster.services, into: &diagnostics)
        checkServiceAddresses(cluster.services, into: &diagnostics)
    }

    /// Pods in phase Succeeded or Failed no longer hold their address: the kubelet has released it
    /// and a new pod may get it. Like upstream policy implementations, kubenft does not enforce them
    /// (their addresses are dropped, so no map entry or matrix row names them).
    static func forgetTerminatedPods(_ pods: inout [Pod]) {
        for index in pods.indices where pods[index].isTerminated { pods[index].podIPs = [] }
    }

    private static func checkPodAddresses(_ pods: [Pod], into diagnostics: inout [Diagnostic]) {
        // The index of the pod that holds each address; its name is spelled only when reported.
        var owners: [IPAddress: Int] = [:]
        owners.reserveCapacity(pods.count)
        for index in pods.indices where !pods[index].hostNetwork {
            let podIPs = pods[index].podIPs
            for address in podIPs.count == 1 ? podIPs : Set(podIPs).sorted() {
                if let other = owners[address] {
                    let pod = pods[index]
                    diagnostics.append(Diagnostic(at: pod.meta.location, object: "Pod \(pod.meta.qualifiedName)",
                                                  field: "status.podIPs",
                                                  reason: "\(address) is also the address of running Pod \(pods[other].meta.qualifiedName)"))
                } else {
                    owners[address] = index
                }
            }
        }
    }

    private static func checkNodePorts(_ services: [Service], into diagnostics: inout [Diagnostic]) {
        var owners: [UInt16: String] = [:]
        for service in services {
            var own: Set<String> = []
            for (index, port) in service.ports.enumerated() {
                guard let nodePort = port.nodePort else { continue }
                let field = "spec.ports[\(index)].nodePort"
                if !own.insert("\(nodePort)/\(port.protocol.rawValue)").inserted {
                    diagnostics.append(problem(service, port.location, field, "duplicate nodePort \(nodePort)/\(port.protocol.rawValue)"))
                } else if let other = owners[nodePort], other != service.meta.qualifiedName {
                    diagnostics.append(problem(service, port.location, field, "nodePort \(nodePort) is already allocated to Service \(other)"))
                } else {
                    owners[nodePort] = service.meta.qualifiedName
                }
            }
        }
    }

    /// Every `address:port/protocol` a Service answers on (cluster IPs, external IPs, load-balancer
    /// ingress IPs) must belong to one Service only.
    private static func checkServiceAddresses(_ services: [Service], into diagnostics: inout [Diagnostic]) {
        var owners: [String: (name: String, isClusterIP: Bool)] = [:]
        let claims = services.filter { $0.type != .externalName }.map { service in (service, addresses(of: service)) }
        // Cluster IPs first: they are allocated by the API server, so an external address that
        // collides with one is the one in the wrong.
        for pass in [true, false] {
            for (service, addresses) in claims {
                for (address, field, isClusterIP) in addresses where isClusterIP == pass {
                    for port in service.ports {
                        let key = "\(address)|\(port.port)|\(port.protocol.rawValue)"
                        guard let other = owners[key] else {
                            owners[key] = (service.meta.qualifiedName, isClusterIP)
                            continue
                        }
                        // Two Services on one cluster IP are reported while loading.
                        guard other.name != service.meta.qualifiedName, !(other.isClusterIP && isClusterIP) else { continue }
                        diagnostics.append(problem(service, service.meta.location, field,
                                                   "\(address) port \(port.port)/\(port.protocol.rawValue) is already served by Service \(other.name)"))
                    }
                }
            }
        }
    }

    private static func addresses(of service: Service) -> [(IPAddress, String, Bool)] {
        var result: [(IPAddress, String, Bool)] = []
        for (index, address) in service.clusterIPs.enumerated() { result.append((address, "spec.clusterIPs[\(index)]", true)) }
        for (index, address) in Set(service.externalIPs).sorted().enumerated() {
            result.append((address, "spec.externalIPs[\(index)]", false))
        }
        if service.type == .loadBalancer {
            for (index, address) in Set(service.loadBalancerIngressIPs).sorted().enumerated() {
                result.append((address, "status.loadBalancer.ingress[\(index)].ip", false))
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
