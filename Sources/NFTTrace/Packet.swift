import NetAddress
import NFTRuleset

/// The first packet of a new connection, as the tracer follows it through the table. DNAT and
/// marks change it on the way.
public struct TracePacket: Sendable, Hashable {
    public var source: IPAddress
    public var destination: IPAddress
    /// `tcp`, `udp` or `sctp`.
    public var transport: String
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var mark: UInt32 = 0
    /// The interface the packet arrives on (`meta iifname`); empty for packets the node sends.
    public var inputInterface: String = ""

    public init(source: IPAddress, destination: IPAddress, transport: String, sourcePort: UInt16 = 40000, destinationPort: UInt16) {
        self.source = source
        self.destination = destination
        self.transport = transport
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
    }

    public var family: IPFamily { destination.family }
}

/// Where the packet enters the node: from an interface (a pod or an outside client), or from a
/// socket on the node itself.
public enum TraceOrigin: Sendable, Hashable {
    case network
    case node
}

/// The node facts the kernel would consult: its own addresses (for `fib … type local` and the
/// routing decision between input and forward).
public struct TraceEnvironment: Sendable, Hashable {
    public var localAddresses: [IPAddress]
    public init(localAddresses: [IPAddress]) { self.localAddresses = localAddresses }

    func isLocal(_ address: IPAddress) -> Bool { address.isLoopback || localAddresses.contains(address) }
}

/// One rule (or chain policy) the packet went through on one path.
public struct TraceStep: Sendable, Hashable {
    public var hook: String
    public var chain: String
    /// Index of the rule in its chain; nil for a chain's policy.
    public var rule: Int?
    public var text: String
    public var comment: String?
}

/// How a path ends.
public enum TraceVerdict: String, Sendable, Hashable, Comparable {
    case accept, drop, reject
    public static func < (lhs: TraceVerdict, rhs: TraceVerdict) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One possible fate of the packet and its probability (numgen branches split paths).
public struct TracePath: Sendable, Hashable {
    public var probability: Double
    public var steps: [TraceStep]
    public var verdict: TraceVerdict
    /// Destination after DNAT, when DNAT happened.
    public var translatedDestination: IPAddress?
    public var translatedPort: UInt16?
    public var masqueraded: Bool
    public var notes: [String]
}

/// Everything that can happen to a packet.
public struct TraceResult: Sendable, Hashable {
    public var paths: [TracePath]

    /// The single verdict when every path agrees, nil when paths differ.
    public var verdict: TraceVerdict? {
        let verdicts = Set(paths.map(\.verdict))
        return verdicts.count == 1 ? verdicts.first : nil
    }

    /// Probability that the connection is accepted.
    public var acceptProbability: Double { paths.filter { $0.verdict == .accept }.reduce(0) { $0 + $1.probability } }
}

/// A statement or expression the tracer cannot evaluate; tracing stops rather than guess.
public struct TraceError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
