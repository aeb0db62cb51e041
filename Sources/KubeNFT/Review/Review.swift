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
        // A pod on this node arrives on the interface an interface-based detectLocalMode expects; a
        // hostNetwork pod on this node is the node itself: its packets leave through the output hook.
        if case .pod(let namespace, let name) = query.from,
           let pod = result.cluster.pods.first(where: { $0.meta.namespace == namespace && $0.meta.name == name }),
           result.context.nodeName == nil || pod.nodeName == result.context.nodeName {
            if pod.hostNetwork { origin = .node } else { packet.inputInterface = result.context.localPodInterface }
        }
        return TraceReport(query: query, packet: packet, origin: origin, result: try tracer.trace(packet, origin: origin))
    }

    /// The pod × pod truth table for each port and protocol, traced pod address to pod address, each
    /// cell with the reason its trace gives. With `outside`, also the node and the outside address
    /// classes to and from every pod on the same ports, and outside clients to every NodePort,
    /// load-balancer IP and external IP on the service's own port.
    public static func matrix(ports: [UInt16], protocols: [L4Protocol], in result: PipelineResult,
                              outside: Bool = false) throws -> ConnectivityMatrix {
        let tracer = try tracer(for: result, recordsSteps: true)
        let pods = reviewedPods(result.cluster)
        var cells: [ConnectivityMatrix.Cell] = []
        for transport in protocols {
            for port in ports {
                for source in pods {
                    for destination in pods {
                        var cell = ConnectivityMatrix.Cell(from: source.reviewName, to: destination.reviewName, port: port, transport: transport,
                                                           allowed: false, reason: "no common address family")
                        if let packet = packet(from: source, to: destination, port: port, transport: transport) {
                            let traced = try tracer.trace(packet, origin: .network)
                            cell.allowed = traced.acceptProbability > 0.999_999
                            cell.reason = Reason.of(traced)
                        }
                        cells.append(cell)
                    }
                }
            }
        }
        var matrix = ConnectivityMatrix(pods: pods.map(\.reviewName), ports: ports, protocols: protocols, cells: cells)
        if outside { try addOutside(to: &matrix, tracer: tracer, result: result) }
        return matrix
    }

    /// Cells between the pods and the peers outside them, traced like pod cells.
    static func addOutside(to matrix: inout ConnectivityMatrix, tracer: Tracer, result: PipelineResult) throws {
        let ports = matrix.protocols.flatMap { transport in matrix.ports.map { ($0, transport) } }
        let probes = OutsidePeers.probes(result, classes: AddressClasses.classes([result]), egressPorts: ports, inboundPorts: ports)
        var peers: [String] = [], entries: [String] = []
        for probe in probes {
            let traced = try tracer.trace(probe.packet, origin: probe.origin)
            matrix.cells.append(ConnectivityMatrix.Cell(
                from: probe.connection.from, to: probe.connection.to, port: probe.connection.port, transport: probe.connection.transport,
                allowed: traced.acceptProbability > 0.999_999,
                reason: Reason.of(traced, sourceIsPod: probe.direction == .egress || probe.direction == .nodeEgress,
                                  destinationIsPod: probe.pod == nil || probe.direction == .ingress, toNode: probe.direction == .nodeEgress)))
            let ends = [probe.connection.from, probe.connection.to]
            for end in ends where !matrix.pods.contains(end) {
                if probe.pod == nil && end == probe.connection.to {
                    if !entries.contains(end) { entries.append(end) }
                } else if !peers.contains(end) {
                    peers.append(end)
                }
            }
        }
        matrix.peers = peers
        matrix.entries = entries
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
        /// The policy rules that decided, from the comments of the rules the trace went through.
        public var reason: String

        public init(from: String, to: String, port: UInt16, transport: L4Protocol, allowed: Bool, reason: String = "") {
            self.from = from
            self.to = to
            self.port = port
            self.transport = transport
            self.allowed = allowed
            self.reason = reason
        }
    }

    public var pods: [String]
    /// Peers outside the pods (`node`, `outside:` address classes), when asked for.
    public var peers: [String] = []
    /// Service entry points of outside clients (`nodeport:`, `loadbalancer:`, `externalip:`).
    public var entries: [String] = []
    public var ports: [UInt16]
    public var protocols: [L4Protocol]
    public var cells: [Cell]

    public init(pods: [String], ports: [UInt16], protocols: [L4Protocol], cells: [Cell]) {
        self.pods = pods
        self.ports = ports
        self.protocols = protocols
        self.cells = cells
    }

    /// The upstream e2e layout: one table per protocol and port, `.` allowed, `X` blocked, `-` not
    /// a connection the matrix covers (between two outside peers); rows are sources and columns
    /// destinations. Outside clients to service entry points follow, one line each.
    public var text: String { text(explain: false) }

    /// `explain` adds one line per cell with the reason, after the tables.
    public func text(explain: Bool) -> String {
        var out = ""
        var lookup: [String: Bool] = [:]
        for cell in cells { lookup["\(cell.transport.nftName)|\(cell.port)|\(cell.from)|\(cell.to)"] = cell.allowed }
        let ends = pods + peers
        for transport in protocols {
            for port in ports {
                out += "# \(transport.nftName)/\(port)\n-\t" + ends.map(DisplayText.escaped).joined(separator: "\t") + "\n"
                for source in ends {
                    out += DisplayText.escaped(source)
                    for destination in ends {
                        switch lookup["\(transport.nftName)|\(port)|\(source)|\(destination)"] {
                        case true?: out += "\t."
                        case false?: out += "\tX"
                        case nil: out += pods.contains(source) && pods.contains(destination) ? "\tX" : "\t-"
                        }
                    }
                    out += "\n"
                }
                out += "\n"
            }
        }
        let entryCells = cells.filter { entries.contains($0.to) }
        if !entryCells.isEmpty {
            out += "# outside clients to service entry points\n"
            for cell in entryCells {
                out += "\(cell.allowed ? "." : "X") \(DisplayText.escaped(cell.from)) -> \(DisplayText.escaped(cell.to)) \(cell.transport.nftName)/\(cell.port)\n"
            }
            out += "\n"
        }
        if explain {
            out += "# reasons\n"
            for cell in cells {
                out += "\(cell.allowed ? "allowed" : "blocked") \(DisplayText.escaped(cell.from)) -> \(DisplayText.escaped(cell.to)) "
                out += "\(cell.transport.nftName)/\(cell.port): \(DisplayText.escaped(cell.reason))\n"
            }
        }
        return out
    }

    /// The JSON form: an object with every cell (`cells`) and the input's warnings (`warnings`,
    /// the lint and coverage findings also printed on stderr), as `diff --output json` lists them.
    public func json(warnings: [String] = []) -> String {
        let items: [JSONText] = cells.map { cell in
            .object([("from", .string(cell.from)), ("to", .string(cell.to)), ("port", .number(Int64(cell.port))),
                     ("protocol", .string(cell.transport.nftName)), ("allowed", .bool(cell.allowed)), ("reason", .string(cell.reason))])
        }
        return JSONText.object([("cells", .array(items)), ("warnings", .array(warnings.map { .string($0) }))]).serialized() + "\n"
    }
}
