import KubeManifest
import NFTRuleset
import NetAddress

/// A place a compiled Service answers on, with the addresses of its serving endpoints: what an
/// apply needs to find connection tracking entries that point at endpoints the Service no longer
/// has (see docs/apply.md). Taken from the typed model, so it does not depend on the shape of the
/// rules that pick a backend.
public struct ServiceFrontend: Sendable, Hashable {
    public enum Destination: Sendable, Hashable {
        /// A ClusterIP, externalIP or load-balancer IP.
        case address(IPAddress)
        /// A NodePort on the node's addresses of this family.
        case nodePort(IPFamily)
    }

    public var destination: Destination
    public var proto: L4Protocol
    public var port: UInt16
    /// Addresses of the endpoints that are serving (ready or terminating-but-serving), whatever the
    /// traffic policies and topology: kube-proxy's rule, so a policy change keeps existing flows.
    public var endpoints: Set<IPAddress>
    /// `namespace/name` of the Service.
    public var service: String
}

/// Service frontends of a cluster (from the model) and of a table (from its frontend maps).
public enum ServiceFrontends {
    /// Every frontend the compiler programs DNAT for, with its serving endpoints. Services the
    /// compiler skips (ExternalName, headless, no clusterIP, owned by another proxy) have none.
    public static func of(_ cluster: Cluster, context: NodeContext) -> [ServiceFrontend] {
        let resolver = EndpointResolver(cluster: cluster)
        var frontends: [ServiceFrontend] = []
        for service in cluster.services where programsDNAT(service) {
            let families = IPFamily.allCases.filter { family in service.clusterIPs.contains { $0.family == family } }
            for family in families {
                guard let clusterIP = service.clusterIPs.first(where: { $0.family == family }) else { continue }
                var addresses = [clusterIP] + service.externalIPs.filter { $0.family == family }
                if service.type == .loadBalancer { addresses += service.loadBalancerIngressIPs.filter { $0.family == family } }
                for port in service.ports {
                    let endpoints = Set(resolver.backends(of: service, port: port, family: family).filter(\.serving).map(\.address))
                    func add(_ destination: ServiceFrontend.Destination, _ number: UInt16) {
                        frontends.append(ServiceFrontend(destination: destination, proto: port.protocol, port: number,
                                                         endpoints: endpoints, service: service.meta.qualifiedName))
                    }
                    for address in addresses { add(.address(address), port.port) }
                    if service.type == .nodePort || service.type == .loadBalancer, let nodePort = port.nodePort {
                        add(.nodePort(family), nodePort)
                    }
                }
            }
        }
        return frontends
    }

    /// The compiler's test for a Service it programs DNAT for: `ServiceCompiler` uses it for its
    /// rate-limit warning and returns early, with a note, in exactly these cases.
    static func programsDNAT(_ service: Service) -> Bool {
        service.type != .externalName && !service.isHeadless && !service.clusterIPs.isEmpty
            && service.meta.labels[ServiceLabels.proxyName] == nil && service.meta.labels[ServiceLabels.headless] == nil
    }

    /// The maps that send a service address and port, or a NodePort, to its Service's chains.
    public static let frontendMaps: [String] = IPFamily.allCases.flatMap { [Names.serviceIPs($0), Names.serviceNodePorts($0)] }

    /// The frontends a table DNATs, read from its frontend maps (`frontendMaps`, as read back from
    /// the kernel); their endpoints are left empty. A frontend with no endpoints is in none of them.
    public static func programmed(in sets: [NamedSet]) -> [ServiceFrontend] {
        var frontends: [ServiceFrontend] = []
        for family in IPFamily.allCases {
            for element in sets.first(where: { $0.name == Names.serviceIPs(family) })?.elements ?? [] {
                guard element.key.count == 3, case .address(let address) = element.key[0], case .proto(let name) = element.key[1],
                      case .port(let port) = element.key[2], let proto = L4Protocol(nftName: name) else { continue }
                frontends.append(ServiceFrontend(destination: .address(address), proto: proto, port: port, endpoints: [], service: ""))
            }
            for element in sets.first(where: { $0.name == Names.serviceNodePorts(family) })?.elements ?? [] {
                guard element.key.count == 2, case .proto(let name) = element.key[0], case .port(let port) = element.key[1],
                      let proto = L4Protocol(nftName: name) else { continue }
                frontends.append(ServiceFrontend(destination: .nodePort(family), proto: proto, port: port, endpoints: [], service: ""))
            }
        }
        return frontends
    }
}

extension L4Protocol {
    init?(nftName: String) {
        guard let found = Self.allCases.first(where: { $0.nftName == nftName }) else { return nil }
        self = found
    }
}
