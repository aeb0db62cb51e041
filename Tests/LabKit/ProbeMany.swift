import Foundation

/// One destination for `Lab.probeMany`: an address, a port and a protocol.
public struct ProbeTarget: Sendable, Hashable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 address.
    public var address: String
    public var port: Int
    public var proto: LabProtocol
    /// Free text echoed back in the outcome (no newlines); defaults to `address:port/proto`.
    public var label: String

    public init(address: String, port: Int, proto: LabProtocol = .tcp, label: String? = nil) {
        self.address = address
        self.port = port
        self.proto = proto
        self.label = label ?? "\(address):\(port)/\(proto.rawValue)"
    }

    public var description: String { label }

    /// The agent's input line `ADDR,PORT,PROTO,LABEL`.
    var line: String { "\(address),\(port),\(proto.rawValue),\(label)" }
}

/// How one `probeMany` attempt ended.
public enum ProbeOutcomeKind: String, Sendable, Decodable {
    /// The server answered with its name.
    case reply
    /// TCP RST or ICMP port unreachable (ECONNREFUSED), e.g. nft `reject`.
    case refused
    /// Nothing before the deadline, e.g. nft `drop`.
    case timeout
    /// ICMP host/net unreachable or admin prohibited.
    case unreachable
    /// Anything else; `ProbeOutcome.error` says what.
    case other
}

/// The result of one target of `Lab.probeMany`, as the agent printed it.
public struct ProbeOutcome: Sendable, Decodable, Equatable, CustomStringConvertible {
    /// The target's label.
    public var label: String
    /// The address probed.
    public var to: String
    public var port: Int
    public var proto: String
    /// The server's name when `result` is `.reply`.
    public var reply: String?
    public var result: ProbeOutcomeKind
    /// The error text behind `.other`.
    public var error: String?
    /// Milliseconds from the start of the run to this outcome.
    public var elapsedMs: Int

    /// True when the server answered.
    public var answered: Bool { result == .reply }

    public var description: String {
        "\(label): \(result.rawValue)" + (reply.map { " \($0)" } ?? "") + (error.map { " (\($0))" } ?? "") + " in \(elapsedMs)ms"
    }
}

extension Lab {
    /// Probes every target at once from `role` with `kubenft-lab-agent probe-many`: one
    /// connection (or datagram) each, all sharing one deadline of `timeoutMs`, so a set of
    /// dropped targets costs one timeout, not one each. Outcomes come back in target order.
    public func probeMany(from role: String, targets: [ProbeTarget], timeoutMs: Int) throws -> [ProbeOutcome] {
        if targets.isEmpty { return [] }
        if let bad = targets.first(where: { $0.label.contains(where: \.isNewline) }) {
            throw LabError.invalidRequest("probe label must be one line: \(bad.label.debugDescription)")
        }
        let args = [try AgentLocator.agentPath(), "probe-many", "--timeout-ms", String(timeoutMs)]
        let input = targets.map(\.line).joined(separator: "\n") + "\n"
        let result = try run(in: role, args, stdin: input, timeoutMs: timeoutMs + 30_000)
        try check(result, args)
        let lines = result.stdout.split(separator: "\n").filter { !$0.isEmpty }
        guard lines.count == targets.count else {
            throw LabError.badProbeOutput("expected \(targets.count) result lines, got \(lines.count): \(result.stdout)\(result.stderr)")
        }
        let decoder = JSONDecoder()
        return try lines.map { line in
            do {
                return try decoder.decode(ProbeOutcome.self, from: Data(line.utf8))
            } catch {
                throw LabError.badProbeOutput(String(line))
            }
        }
    }
}
