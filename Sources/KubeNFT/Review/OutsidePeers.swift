import KubeManifest
import NFTTrace

/// One connection between a pod and a peer that is not a pod (the node, an outside address class,
/// an outside client of a NodePort, load-balancer IP or external IP), with the packet that tests it.
struct OutsideProbe: Sendable {
    var connection: ChangeReport.Connection
    var packet: TracePacket
    var origin: TraceOrigin
    /// The pod end and the direction of its policy that decides, so alike pods share one trace.
    var pod: String?
    var direction: ConnectivityDiffer.Side.Direction?
}

/// The peers outside the pods that `matrix` and `diff` cover, and the probes that test them.
enum OutsidePeers {
    static let node = "node"

    /// The ports tried towards the node and the outside world: every numeric port an egress rule of
    /// either version names (the first of a range), port 1 of each protocol an egress rule names
    /// without a port (all its ports), and TCP 80 for "any other port".
    static func egressPorts(_ results: [PipelineResult]) -> [(UInt16, L4Protocol)] {
        var seen = Set<String>(["TCP/80"]), ports: [(UInt16, L4Protocol)] = [(80, .tcp)]
        func add(_ port: UInt16, _ transport: L4Protocol) {
            if seen.insert("\(transport.rawValue)/\(port)").inserted { ports.append((port, transport)) }
        }
        for result in results {
            for policy in result.cluster.networkPolicies {
                for port in (policy.egress ?? []).flatMap({ $0.ports ?? [] }) {
                    switch port.port {
                    case .number(let number)?: add(number, port.protocol)
                    case nil: add(1, port.protocol)  // every port of the protocol: its first stands for it
                    case .name?: break  // a named port is a pod's: never the node's or an outside address's
                    }
                }
            }
            for policy in result.cluster.adminPolicies {
                for port in policy.egress.flatMap({ $0.ports ?? [] }) {
                    switch port {
                    case .number(let transport, let number), .range(let transport, let number, _): add(number, transport)
                    case .named: break
                    }
                }
            }
        }
        return ports.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    /// Probes of one version: each reviewed pod to and from each address class and the node, and
    /// each address class to each NodePort, load-balancer IP and external IP.
    /// `inboundPorts` nil: the ports `inbound` gives for the pod (by default its container ports,
    /// TCP 80 when it declares none). `including` limits the pod probes to some pods and directions
    /// (all by default).
    static func probes(_ result: PipelineResult, classes: [AddressClass], egressPorts: [(UInt16, L4Protocol)],
                       inboundPorts: [(UInt16, L4Protocol)]? = nil,
                       inbound: (Pod) -> [ProbePort] = { ConnectivityDiffer.ports(of: $0).map { ProbePort(port: $0.0, transport: $0.1) } },
                       including: (String, ConnectivityDiffer.Side.Direction) -> Bool = { _, _ in true }) -> [OutsideProbe] {
        var probes: [OutsideProbe] = []
        let nodeIPs = result.context.nodeIPs
        for pod in Review.reviewedPods(result.cluster) {
            let name = pod.reviewName
            let egress = including(name, .egress), ingress = including(name, .ingress), nodeEgress = including(name, .nodeEgress)
            guard egress || ingress || nodeEgress else { continue }
            let inbound = inboundPorts.map { $0.map { ProbePort(port: $0.0, transport: $0.1) } } ?? inbound(pod)
            for address in pod.podIPs {
                for peer in classes where peer.representative.family == address.family {
                    for (port, transport) in egressPorts where egress {
                        probes.append(probe(name, peer.name, address, peer.representative, port, transport, .network, pod: name, .egress))
                    }
                    for port in inbound where ingress {
                        probes.append(probe(peer.name, name, peer.representative, address, port, .network, pod: name, .ingress))
                    }
                }
                guard let nodeIP = nodeIPs.first(where: { $0.family == address.family }) else { continue }
                let node = nodeIP.family == nodeIPs.first?.family ? Self.node : "\(Self.node)@\(nodeIP)"
                for (port, transport) in egressPorts where nodeEgress {
                    probes.append(probe(name, node, address, nodeIP, port, transport, .network, pod: name, .nodeEgress))
                }
                for port in inbound where ingress {
                    probes.append(probe(node, name, nodeIP, address, port, .node, pod: name, .ingress))
                }
            }
        }
        return probes + entryProbes(result, classes: classes)
    }

    /// Outside clients (one per address class) reaching the service's NodePorts on the node's first
    /// address of the family, its load-balancer IPs and its external IPs.
    static func entryProbes(_ result: PipelineResult, classes: [AddressClass]) -> [OutsideProbe] {
        var probes: [OutsideProbe] = []
        for service in result.cluster.services {
            let name = service.meta.qualifiedName
            for port in service.ports {
                var entries: [(String, IPAddress, UInt16)] = []
                if let nodePort = port.nodePort {
                    for family in IPFamily.allCases {
                        if let address = result.context.nodeIPs.first(where: { $0.family == family }) {
                            entries.append(("nodeport:\(name)@\(address)", address, nodePort))
                        }
                    }
                }
                for address in service.loadBalancerIngressIPs { entries.append(("loadbalancer:\(name)@\(address)", address, port.port)) }
                for address in service.externalIPs { entries.append(("externalip:\(name)@\(address)", address, port.port)) }
                for (entry, address, number) in entries {
                    for peer in classes where peer.representative.family == address.family {
                        probes.append(probe(peer.name, entry, peer.representative, address, number, port.protocol, .network, pod: nil, nil))
                    }
                }
            }
        }
        return probes
    }

    private static func probe(_ from: String, _ to: String, _ source: IPAddress, _ destination: IPAddress, _ port: UInt16,
                              _ transport: L4Protocol, _ origin: TraceOrigin, pod: String?,
                              _ direction: ConnectivityDiffer.Side.Direction?) -> OutsideProbe {
        OutsideProbe(connection: .init(from: from, to: to, port: port, transport: transport),
                     packet: TracePacket(source: source, destination: destination, transport: transport.nftName, destinationPort: port),
                     origin: origin, pod: pod, direction: direction)
    }

    private static func probe(_ from: String, _ to: String, _ source: IPAddress, _ destination: IPAddress, _ port: ProbePort,
                              _ origin: TraceOrigin, pod: String?, _ direction: ConnectivityDiffer.Side.Direction?) -> OutsideProbe {
        var made = probe(from, to, source, destination, port.port, port.transport, origin, pod: pod, direction)
        made.connection.portRange = port.range
        return made
    }
}
