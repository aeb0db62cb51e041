import Foundation

/// The tally printed by `kubenft-lab-agent probe`: who answered and how the
/// other attempts failed.
public struct ProbeResult: Decodable, Sendable, Equatable, CustomStringConvertible {
    /// Replies per server name.
    public var replies: [String: Int]
    /// TCP RST / ICMP port unreachable (ECONNREFUSED), e.g. nft `reject`.
    public var refused: Int
    /// No answer within the per-attempt timeout, e.g. nft `drop`.
    public var timeout: Int
    /// ICMP host/net unreachable or admin prohibited (EHOSTUNREACH, ENETUNREACH, EACCES).
    public var unreachable: Int
    /// Anything else; `errors` says what.
    public var other: Int
    /// Wall time of all attempts.
    public var elapsedMs: Int
    /// Error texts behind `other`.
    public var errors: [String: Int]

    enum CodingKeys: String, CodingKey {
        case replies, refused, timeout, unreachable, other, elapsedMs, errors
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        replies = try c.decode([String: Int].self, forKey: .replies)
        refused = try c.decode(Int.self, forKey: .refused)
        timeout = try c.decode(Int.self, forKey: .timeout)
        unreachable = try c.decode(Int.self, forKey: .unreachable)
        other = try c.decode(Int.self, forKey: .other)
        elapsedMs = try c.decode(Int.self, forKey: .elapsedMs)
        errors = try c.decodeIfPresent([String: Int].self, forKey: .errors) ?? [:]
    }

    /// Number of attempts that got a reply.
    public var answered: Int { replies.values.reduce(0, +) }
    /// Number of attempts in all.
    public var total: Int { answered + refused + timeout + unreachable + other }
    /// Server names that replied at least once.
    public var repliers: Set<String> { Set(replies.filter { $0.value > 0 }.keys) }

    public var description: String {
        let names = replies.keys.sorted().map { "\($0)=\(replies[$0] ?? 0)" }.joined(separator: ",")
        var text = "replies[\(names)] refused=\(refused) timeout=\(timeout) unreachable=\(unreachable) other=\(other) in \(elapsedMs)ms"
        if !errors.isEmpty { text += " errors=\(errors)" }
        return text
    }
}

/// Transport protocol for probes.
public enum LabProtocol: String, Sendable, CaseIterable {
    case tcp, udp, sctp
}

extension Lab {
    /// Runs `kubenft-lab-agent probe` in `role` (a pod, a client or `"node"`):
    /// `count` fresh connections (or datagrams) to `address`:`port`.
    public func probe(
        from role: String, to address: String, port: Int, proto: LabProtocol = .tcp,
        count: Int = 1, timeoutMs: Int = 1000, source: String? = nil, sourcePort: Int? = nil
    ) throws -> ProbeResult {
        var args = [try AgentLocator.agentPath(), "probe", "--to", address, "--port", String(port),
                    "--proto", proto.rawValue, "--count", String(count), "--timeout-ms", String(timeoutMs)]
        if let source { args += ["--source", source] }
        if let sourcePort { args += ["--source-port", String(sourcePort)] }
        let budget = count * timeoutMs + 30_000
        let result = try run(in: role, args, timeoutMs: budget)
        try check(result, args)
        guard let line = result.stdout.split(separator: "\n").last,
              let data = String(line).data(using: .utf8) else {
            throw LabError.badProbeOutput(result.stdout + result.stderr)
        }
        do {
            return try JSONDecoder().decode(ProbeResult.self, from: data)
        } catch {
            throw LabError.badProbeOutput(String(line))
        }
    }
}
