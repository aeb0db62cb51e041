import KubeManifest
import KubeNFT
import Testing

/// The ClusterNetworkPolicy tests of the network-policy-api conformance suite (conformance/tests/*.go),
/// replayed over its houses (`ConformanceHouses`): each step is the cluster after the patches the Go
/// test has made so far, and each probe the connection it pokes with the verdict it requires, copied
/// by hand from the Go source. Verdicts come from `trace` over the compiled ruleset.
@Suite("network-policy-api conformance: ClusterNetworkPolicy")
struct ConformanceClusterPolicyTests {
    typealias House = ConformanceHouses.House
    static let (g, s, h, r) = (House.gryffindor, House.slytherin, House.hufflepuff, House.ravenclaw)

    struct Probe: Sendable {
        var client: String, server: String, transport: L4Protocol, port: UInt16, allowed: Bool
    }

    /// One `t.Run`: the objects as they are by then, and what it pokes.
    struct Step: Sendable {
        var name: String
        var policies: String
        var relabel: [House: String] = [:]
        var probes: [Probe]
    }

    static func poke(_ client: String, _ server: String, _ transport: L4Protocol, _ port: UInt16, _ allowed: Bool) -> Probe {
        Probe(client: client, server: server, transport: transport, port: port, allowed: allowed)
    }

    static func run(_ test: String, _ steps: [Step]) throws {
        for step in steps {
            let result = try ConformanceHouses.compile(step.policies, relabel: step.relabel)
            for probe in step.probes {
                let traced = try UpstreamPolicyCaseTests.trace(probe.client, probe.server, port: probe.port, transport: probe.transport, in: result)
                #expect(traced.allowed == probe.allowed,
                        "\(test) / \(step.name): \(probe.client) -> \(probe.server) \(probe.transport)/\(probe.port) expected \(probe.allowed ? "allowed" : "denied")\n\(traced.text)")
            }
        }
    }
}

// MARK: - The rule ladders: {ingress,egress}-{tcp,udp,sctp} and gress-rules, in both tiers

extension ConformanceClusterPolicyTests {
    /// The seven rules of an Admin tier ladder (Accept, Deny, Pass everything from/to `every`; Deny,
    /// Pass `denyHouse` at `denyPorts`; Accept `allowHouse` at `allowPorts`, Deny the rest of it); the
    /// Baseline tier files leave the two Pass rules out.
    static func ladder(tier: String, egress: Bool, every: House, denyHouse: House, denyPorts: [String], allowHouse: House, allowPorts: [String]) -> [String] {
        typealias P = ConformancePolicy
        let key = egress ? "to" : "from"
        var rules = [
            P.rule("accept-\(every.rawValue)", "Accept", key, [P.namespace(every)]),
            P.rule("deny-\(every.rawValue)", "Deny", key, [P.namespace(every)]),
            P.rule("pass-\(every.rawValue)", "Pass", key, [P.namespace(every)]),
            P.rule("deny-\(denyHouse.rawValue)-ports", "Deny", key, [P.namespace(denyHouse)], denyPorts),
            P.rule("pass-\(denyHouse.rawValue)-ports", "Pass", key, [P.namespace(denyHouse)], denyPorts),
            P.rule("accept-\(allowHouse.rawValue)-ports", "Accept", key, [P.namespace(allowHouse)], allowPorts),
            P.rule("deny-\(allowHouse.rawValue)-rest", "Deny", key, [P.namespace(allowHouse)]),
        ]
        if tier == "Baseline" { rules.remove(at: 4); rules.remove(at: 2) }
        return rules
    }

    /// A ladder test: the policy, then the Go test's steps; in the Admin tier steps 3, 5 and 6 patch
    /// the rules first (swap 0 and 1; swap 0 and 2; swap 3 and 4), the Baseline tier runs steps 1-4.
    static func ladderSteps(_ base: ConformancePolicy, patch: (inout ConformancePolicy, Int, Int) -> Void, probes: [[Probe]]) -> [Step] {
        var policy = base
        let swaps: [Int: (Int, Int)] = [2: (0, 1), 4: (0, 2), 5: (3, 4)]
        let count = base.tier == "Admin" ? 6 : 4
        return (0..<count).map { index in
            if let (a, b) = swaps[index] { patch(&policy, a, b) }
            return Step(name: "step \(index + 1)", policies: policy.yaml, probes: probes[index])
        }
    }

    static func ingressLadder(_ name: String, tier: String, subject: House, every: House, denyHouse: House, allowHouse: House,
                              denyPorts: [String], allowPorts: [String], probes: [[Probe]]) throws {
        let base = ConformancePolicy(name: name, tier: tier, priority: tier == "Admin" ? 3 : 10, subject: ConformancePolicy.namespace(subject),
                                     ingress: ladder(tier: tier, egress: false, every: every, denyHouse: denyHouse, denyPorts: denyPorts,
                                                     allowHouse: allowHouse, allowPorts: allowPorts))
        try run(name, ladderSteps(base, patch: { $0.ingress.swapAt($1, $2) }, probes: probes))
    }

    static func egressLadder(_ name: String, tier: String, subject: House, every: House, denyHouse: House, allowHouse: House,
                             denyPorts: [String], allowPorts: [String], probes: [[Probe]]) throws {
        let base = ConformancePolicy(name: name, tier: tier, priority: tier == "Admin" ? 6 : 10, subject: ConformancePolicy.namespace(subject),
                                     egress: ladder(tier: tier, egress: true, every: every, denyHouse: denyHouse, denyPorts: denyPorts,
                                                    allowHouse: allowHouse, allowPorts: allowPorts))
        try run(name, ladderSteps(base, patch: { $0.egress.swapAt($1, $2) }, probes: probes))
    }

    static let tiers = ["Admin", "Baseline"]

    @Test("ingress-tcp: rule order, ports, Pass (CNP{Admin,Baseline}TierIngressTCP)", arguments: tiers)
    func ingressTCP(tier: String) throws {
        try Self.ingressLadder("ingress-tcp", tier: tier, subject: Self.g, every: Self.r, denyHouse: Self.s, allowHouse: Self.h,
                               denyPorts: [ConformancePolicy.port("tcp", 80)], allowPorts: [ConformancePolicy.port("tcp", 80)], probes: [
            [Self.poke(Self.r.pod(0), Self.g.pod(0), .tcp, 80, true), Self.poke(Self.r.pod(1), Self.g.pod(0), .tcp, 8080, true)],
            [Self.poke(Self.h.pod(0), Self.g.pod(1), .tcp, 80, true), Self.poke(Self.h.pod(1), Self.g.pod(1), .tcp, 8080, false)],
            [Self.poke(Self.r.pod(0), Self.g.pod(1), .tcp, 80, false), Self.poke(Self.r.pod(1), Self.g.pod(1), .tcp, 8080, false)],
            [Self.poke(Self.s.pod(0), Self.g.pod(0), .tcp, 80, false), Self.poke(Self.s.pod(1), Self.g.pod(0), .tcp, 8080, true)],
            [Self.poke(Self.r.pod(0), Self.g.pod(0), .tcp, 80, true), Self.poke(Self.r.pod(1), Self.g.pod(0), .tcp, 8080, true)],
            [Self.poke(Self.s.pod(0), Self.g.pod(0), .tcp, 80, true), Self.poke(Self.s.pod(1), Self.g.pod(0), .tcp, 8080, true)],
        ])
    }

    @Test("ingress-udp: rule order, ports, Pass (CNP{Admin,Baseline}TierIngressUDP)", arguments: tiers)
    func ingressUDP(tier: String) throws {
        try Self.ingressLadder("ingress-udp", tier: tier, subject: Self.h, every: Self.r, denyHouse: Self.s, allowHouse: Self.g,
                               denyPorts: [ConformancePolicy.port("udp", 5353)], allowPorts: [ConformancePolicy.port("udp", 53)], probes: [
            [Self.poke(Self.r.pod(0), Self.h.pod(0), .udp, 53, true), Self.poke(Self.r.pod(1), Self.h.pod(0), .udp, 5353, true)],
            [Self.poke(Self.g.pod(0), Self.h.pod(1), .udp, 53, true), Self.poke(Self.g.pod(1), Self.h.pod(1), .udp, 5353, false)],
            [Self.poke(Self.r.pod(0), Self.h.pod(1), .udp, 53, false), Self.poke(Self.r.pod(1), Self.h.pod(1), .udp, 5353, false)],
            [Self.poke(Self.s.pod(0), Self.h.pod(0), .udp, 5353, false), Self.poke(Self.s.pod(1), Self.h.pod(0), .udp, 53, true)],
            [Self.poke(Self.r.pod(0), Self.h.pod(1), .udp, 5353, true), Self.poke(Self.r.pod(1), Self.h.pod(1), .udp, 53, true)],
            [Self.poke(Self.s.pod(0), Self.h.pod(0), .udp, 5353, true), Self.poke(Self.s.pod(1), Self.h.pod(0), .udp, 53, true)],
        ])
    }

    @Test("ingress-sctp: rule order, ports, Pass (CNP{Admin,Baseline}TierIngressSCTP)", arguments: tiers)
    func ingressSCTP(tier: String) throws {
        try Self.ingressLadder("ingress-sctp", tier: tier, subject: Self.r, every: Self.g, denyHouse: Self.s, allowHouse: Self.h,
                               denyPorts: [ConformancePolicy.port("sctp", 9003)], allowPorts: [ConformancePolicy.port("sctp", 9003)], probes: [
            [Self.poke(Self.g.pod(0), Self.r.pod(0), .sctp, 9003, true), Self.poke(Self.g.pod(1), Self.r.pod(0), .sctp, 9005, true)],
            [Self.poke(Self.h.pod(0), Self.r.pod(1), .sctp, 9003, true), Self.poke(Self.h.pod(1), Self.r.pod(1), .sctp, 9005, false)],
            [Self.poke(Self.g.pod(0), Self.r.pod(1), .sctp, 9003, false), Self.poke(Self.g.pod(1), Self.r.pod(1), .sctp, 9005, false)],
            [Self.poke(Self.s.pod(0), Self.r.pod(0), .sctp, 9003, false), Self.poke(Self.s.pod(1), Self.r.pod(0), .sctp, 9005, true)],
            [Self.poke(Self.g.pod(0), Self.r.pod(1), .sctp, 9003, true), Self.poke(Self.g.pod(1), Self.r.pod(1), .sctp, 9005, true)],
            [Self.poke(Self.s.pod(0), Self.r.pod(0), .sctp, 9003, true), Self.poke(Self.s.pod(1), Self.r.pod(0), .sctp, 9005, true)],
        ])
    }

    @Test("egress-tcp: rule order, ports, Pass (CNP{Admin,Baseline}TierEgressTCP)", arguments: tiers)
    func egressTCP(tier: String) throws {
        try Self.egressLadder("egress-tcp", tier: tier, subject: Self.g, every: Self.r, denyHouse: Self.s, allowHouse: Self.h,
                              denyPorts: [ConformancePolicy.port("tcp", 80)], allowPorts: [ConformancePolicy.port("tcp", 8080)], probes: [
            [Self.poke(Self.g.pod(0), Self.r.pod(0), .tcp, 80, true), Self.poke(Self.g.pod(1), Self.r.pod(0), .tcp, 8080, true)],
            [Self.poke(Self.g.pod(0), Self.h.pod(1), .tcp, 8080, true), Self.poke(Self.g.pod(1), Self.h.pod(1), .tcp, 80, false)],
            [Self.poke(Self.g.pod(0), Self.r.pod(1), .tcp, 80, false), Self.poke(Self.g.pod(1), Self.r.pod(1), .tcp, 8080, false)],
            [Self.poke(Self.g.pod(0), Self.s.pod(0), .tcp, 80, false), Self.poke(Self.g.pod(1), Self.s.pod(0), .tcp, 8080, true)],
            [Self.poke(Self.g.pod(0), Self.r.pod(0), .tcp, 80, true), Self.poke(Self.g.pod(1), Self.r.pod(0), .tcp, 8080, true)],
            [Self.poke(Self.g.pod(0), Self.s.pod(0), .tcp, 80, true), Self.poke(Self.g.pod(1), Self.s.pod(0), .tcp, 8080, true)],
        ])
    }

    @Test("egress-udp: rule order, ports, Pass (CNP{Admin,Baseline}TierEgressUDP)", arguments: tiers)
    func egressUDP(tier: String) throws {
        try Self.egressLadder("egress-udp", tier: tier, subject: Self.h, every: Self.r, denyHouse: Self.s, allowHouse: Self.g,
                              denyPorts: [ConformancePolicy.port("udp", 5353)], allowPorts: [ConformancePolicy.port("udp", 53)], probes: [
            [Self.poke(Self.h.pod(0), Self.r.pod(0), .udp, 53, true), Self.poke(Self.h.pod(1), Self.r.pod(0), .udp, 5353, true)],
            [Self.poke(Self.h.pod(0), Self.g.pod(1), .udp, 53, true), Self.poke(Self.h.pod(1), Self.g.pod(1), .udp, 5353, false)],
            [Self.poke(Self.h.pod(0), Self.r.pod(1), .udp, 53, false), Self.poke(Self.h.pod(1), Self.r.pod(1), .udp, 5353, false)],
            [Self.poke(Self.h.pod(0), Self.s.pod(0), .udp, 5353, false), Self.poke(Self.h.pod(1), Self.s.pod(0), .udp, 53, true)],
            [Self.poke(Self.h.pod(0), Self.r.pod(1), .udp, 5353, true), Self.poke(Self.h.pod(1), Self.r.pod(1), .udp, 53, true)],
            [Self.poke(Self.h.pod(0), Self.s.pod(0), .udp, 5353, true), Self.poke(Self.h.pod(1), Self.s.pod(0), .udp, 53, true)],
        ])
    }

    @Test("egress-sctp: rule order, ports, Pass (CNP{Admin,Baseline}TierEgressSCTP)", arguments: tiers)
    func egressSCTP(tier: String) throws {
        try Self.egressLadder("egress-sctp", tier: tier, subject: Self.r, every: Self.g, denyHouse: Self.s, allowHouse: Self.h,
                              denyPorts: [ConformancePolicy.port("sctp", 9003)], allowPorts: [ConformancePolicy.port("sctp", 9003)], probes: [
            [Self.poke(Self.r.pod(0), Self.g.pod(0), .sctp, 9003, true), Self.poke(Self.r.pod(1), Self.g.pod(0), .sctp, 9005, true)],
            [Self.poke(Self.r.pod(0), Self.h.pod(1), .sctp, 9003, true), Self.poke(Self.r.pod(1), Self.h.pod(1), .sctp, 9005, false)],
            [Self.poke(Self.r.pod(0), Self.g.pod(1), .sctp, 9003, false), Self.poke(Self.r.pod(1), Self.g.pod(1), .sctp, 9005, false)],
            [Self.poke(Self.r.pod(0), Self.s.pod(0), .sctp, 9003, false), Self.poke(Self.r.pod(1), Self.s.pod(0), .sctp, 9005, true)],
            [Self.poke(Self.r.pod(0), Self.g.pod(1), .sctp, 9003, true), Self.poke(Self.r.pod(1), Self.g.pod(1), .sctp, 9005, true)],
            [Self.poke(Self.r.pod(0), Self.s.pod(0), .sctp, 9003, true), Self.poke(Self.r.pod(1), Self.s.pod(0), .sctp, 9005, true)],
        ])
    }
}
