import KubeManifest
import NFTRuleset
import NFTTrace

/// Answers for reviewers, computed by tracing the compiled IR (the same one `compile` prints and
/// `apply` loads), never from a second model of the semantics.
public enum Review {
    static func tracer(for result: PipelineResult, recordsSteps: Bool = true) throws -> Tracer {
        guard let ruleset = result.ruleset else { throw TraceQueryError(description: "the input has errors; nothing to trace") }
        return Tracer(ruleset: ruleset, environment: TraceEnvironment(localAddresses: result.context.nodeIPs), recordsSteps: recordsSteps)
    }

    /// Traces one packet.
    public static func trace(_ query: TraceQuery, in result: PipelineResult) throws -> TraceReport {
        let tracer = try tracer(for: result)
        let resolver = TraceResolver(cluster: result.cluster, nodeIPs: result.context.nodeIPs)
        var (packet, origin) = try resolver.resolve(query)
        // A pod on this node arrives on the interface an interface-based detectLocalMode expects.
        if case .pod(let namespace, let name) = query.from,
           let pod = result.cluster.pods.first(where: { $0.meta.namespace == namespace && $0.meta.name == name }),
           result.context.nodeName == nil || pod.nodeName == result.context.nodeName {
            packet.inputInterface = result.context.localPodInterface
        }
        return TraceReport(query: query, packet: packet, origin: origin, result: try tracer.trace(packet, origin: origin))
    }

    /// The pod × pod truth table for each port and protocol, traced pod address to pod address.
    public static func matrix(ports: [UInt16], protocols: [L4Protocol], in result: PipelineResult) throws -> ConnectivityMatrix {
        let tracer = try tracer(for: result, recordsSteps: false)
        let pods = reviewedPods(result.cluster)
        var cells: [ConnectivityMatrix.Cell] = []
        for transport in protocols {
            for port in ports {
                for source in pods {
                    for destination in pods {
                        cells.append(ConnectivityMatrix.Cell(
                            from: source.reviewName, to: destination.reviewName, port: port, transport: transport,
                            allowed: try allowed(tracer, from: source, to: destination, port: port, transport: transport)))
                    }
                }
            }
        }
        return ConnectivityMatrix(pods: pods.map(\.reviewName), ports: ports, protocols: protocols, cells: cells)
    }

    /// The pods `matrix` and `diff` compare, by review name: every real pod with an address, and one
    /// representative per derived workload (its replicas behave alike under policy).
    static func reviewedPods(_ cluster: Cluster) -> [Pod] {
        cluster.pods.filter { !$0.hostNetwork && !$0.podIPs.isEmpty && $0.isRepresentative }
            .sorted { $0.reviewName < $1.reviewName }
    }

    /// True when every path of a direct connection is accepted.
    static func allowed(_ tracer: Tracer, from source: Pod, to destination: Pod, port: UInt16, transport: L4Protocol) throws -> Bool {
        guard let packet = packet(from: source, to: destination, port: port, transport: transport) else { return false }
        return try tracer.trace(packet, origin: .network).acceptProbability > 0.999_999
    }

    /// The first packet of a direct connection in the first address family both pods have.
    static func packet(from source: Pod, to destination: Pod, port: UInt16, transport: L4Protocol) -> TracePacket? {
        guard let family = [IPFamily.v4, .v6].first(where: { family in
            source.podIPs.contains { $0.family == family } && destination.podIPs.contains { $0.family == family }
        }), let from = source.podIPs.first(where: { $0.family == family }), let to = destination.podIPs.first(where: { $0.family == family }) else {
            return nil
        }
        return TracePacket(source: from, destination: to, transport: transport.nftName, destinationPort: port)
    }
}

/// Which pods can open connections to which, per port and protocol.
public struct ConnectivityMatrix: Sendable, Hashable {
    public struct Cell: Sendable, Hashable {
        public var from: String
        public var to: String
        public var port: UInt16
        public var transport: L4Protocol
        public var allowed: Bool
    }

    public var pods: [String]
    public var ports: [UInt16]
    public var protocols: [L4Protocol]
    public var cells: [Cell]

    /// The upstream e2e layout: one table per protocol and port, `.` allowed, `X` blocked,
    /// rows are sources and columns destinations.
    public var text: String {
        var out = ""
        var lookup: [String: Bool] = [:]
        for cell in cells { lookup["\(cell.transport.nftName)|\(cell.port)|\(cell.from)|\(cell.to)"] = cell.allowed }
        for transport in protocols {
            for port in ports {
                out += "# \(transport.nftName)/\(port)\n-\t" + pods.map(DisplayText.escaped).joined(separator: "\t") + "\n"
                for source in pods {
                    out += DisplayText.escaped(source)
                    for destination in pods {
                        out += lookup["\(transport.nftName)|\(port)|\(source)|\(destination)"] == true ? "\t." : "\tX"
                    }
                    out += "\n"
                }
                out += "\n"
            }
        }
        return out
    }

    public var json: String {
        let items: [JSONText] = cells.map { cell in
            .object([("from", .string(cell.from)), ("to", .string(cell.to)), ("port", .number(Int64(cell.port))),
                     ("protocol", .string(cell.transport.nftName)), ("allowed", .bool(cell.allowed))])
        }
        return JSONText.array(items).serialized() + "\n"
    }
}
