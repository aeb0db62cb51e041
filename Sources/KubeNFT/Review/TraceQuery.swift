import KubeManifest
import NFTTrace

/// A packet end as users name it on the command line.
public enum TraceEndpoint: Sendable, Hashable, CustomStringConvertible {
    case pod(namespace: String, name: String)
    case service(namespace: String, name: String)
    case node
    case external(IPAddress)
    case address(IPAddress)

    /// Parses `ns/pod`, `ns/name[Kind]` (a derived workload), `svc/ns/name`, `node`, `external:IP` or an IP address.
    public init?(_ text: String) {
        if text == "node" { self = .node; return }
        if text.hasPrefix("external:"), let address = IPAddress(text.dropFirst("external:".count)) { self = .external(address); return }
        if let address = IPAddress(text) { self = .address(address); return }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3, parts[0] == "svc", !parts[1].isEmpty, !parts[2].isEmpty {
            self = .service(namespace: parts[1], name: parts[2])
        } else if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
            self = .pod(namespace: parts[0], name: parts[1])
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .pod(let namespace, let name): return "\(namespace)/\(name)"
        case .service(let namespace, let name): return "svc/\(namespace)/\(name)"
        case .node: return "node"
        case .external(let address): return "external:\(address)"
        case .address(let address): return address.description
        }
    }
}

/// What to trace: two ends, a port and a transport protocol (defaults: the service's first port, TCP).
public struct TraceQuery: Sendable, Hashable {
    public var from: TraceEndpoint
    public var to: TraceEndpoint
    public var port: UInt16?
    public var transport: L4Protocol?

    public init(from: TraceEndpoint, to: TraceEndpoint, port: UInt16? = nil, transport: L4Protocol? = nil) {
        self.from = from
        self.to = to
        self.port = port
        self.transport = transport
    }
}

/// A query that cannot be answered from the loaded objects (an unknown pod, no node address...).
public struct TraceQueryError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Turns named ends into addresses, picking one address family for both.
struct TraceResolver {
    var cluster: Cluster
    var nodeIPs: [IPAddress]

    func addresses(of endpoint: TraceEndpoint) throws -> [IPAddress] {
        switch endpoint {
        case .address(let address), .external(let address): return [address]
        case .node:
            guard !nodeIPs.isEmpty else { throw TraceQueryError(description: "the node has no known address: give --node-ip or a Node object named by --node-name") }
            return nodeIPs
        case .pod(let namespace, let name):
            let pod = try PodNames(cluster: cluster).pod(namespace, name)
            guard !pod.podIPs.isEmpty else { throw TraceQueryError(description: "pod \(namespace)/\(name) has no IP address") }
            return pod.podIPs
        case .service(let namespace, let name):
            guard let service = service(namespace, name) else { throw TraceQueryError(description: "no service \(namespace)/\(name) in the input") }
            guard !service.clusterIPs.isEmpty else { throw TraceQueryError(description: "service \(namespace)/\(name) has no ClusterIP") }
            return service.clusterIPs
        }
    }

    func service(_ namespace: String, _ name: String) -> Service? {
        cluster.services.first { $0.meta.namespace == namespace && $0.meta.name == name }
    }

    /// Source, destination, port and protocol for the query.
    func resolve(_ query: TraceQuery) throws -> (packet: TracePacket, origin: TraceOrigin) {
        let sources = try addresses(of: query.from)
        let destinations = try addresses(of: query.to)
        guard let family = [IPFamily.v4, .v6].first(where: { family in
            sources.contains { $0.family == family } && destinations.contains { $0.family == family }
        }), let source = sources.first(where: { $0.family == family }), let destination = destinations.first(where: { $0.family == family }) else {
            throw TraceQueryError(description: "\(query.from) and \(query.to) share no address family")
        }
        var port = query.port
        var transport = query.transport
        if case .service(let namespace, let name) = query.to, let first = service(namespace, name)?.ports.first {
            if port == nil { port = first.port; transport = transport ?? first.protocol }
        }
        let packet = TracePacket(source: source, destination: destination, transport: (transport ?? .tcp).nftName,
                                 destinationPort: port ?? 80)
        return (packet, query.from == .node ? .node : .network)
    }
}
