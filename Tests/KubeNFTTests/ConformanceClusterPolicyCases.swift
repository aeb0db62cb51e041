import KubeManifest
import Testing

/// The conformance tests that are not plain ladders: gress-rules (both directions, three protocols),
/// named ports, node and inline-CIDR peers, the priority field, and Admin + NetworkPolicy + Baseline.
extension ConformanceClusterPolicyTests {
    typealias P = ConformancePolicy
    static let mixedDeny = [P.port("tcp", 80), P.port("udp", 53), P.port("sctp", 9003)]

    /// Both directions' probes of one gress-rules step: the egress pokes from gryffindor to `egress`
    /// and the ingress pokes from `ingress` to gryffindor, each `(client, server, transport, port, verdict)`.
    @Test("gress-rules: both directions and three protocols in one policy (CNP{Admin,Baseline}TierGress)", arguments: tiers)
    func gressRules(tier: String) throws {
        let (g, s, h, r) = (Self.g, Self.s, Self.h, Self.r)
        let base = P(name: "gress-rules", tier: tier, priority: tier == "Admin" ? 15 : 10, subject: P.namespace(g),
                     ingress: Self.ladder(tier: tier, egress: false, every: r, denyHouse: s, denyPorts: Self.mixedDeny, allowHouse: h,
                                          allowPorts: [P.port("tcp", 80), P.port("udp", 5353), P.port("sctp", 9003)]),
                     egress: Self.ladder(tier: tier, egress: true, every: r, denyHouse: s, denyPorts: Self.mixedDeny, allowHouse: h,
                                         allowPorts: [P.port("tcp", 8080), P.port("udp", 5353), P.port("sctp", 9003)]))
        let slytherinPorts: (Bool) -> [Probe] = { passed in [
            Self.poke(g.pod(0), s.pod(0), .tcp, 80, passed), Self.poke(g.pod(1), s.pod(0), .tcp, 8080, true),
            Self.poke(g.pod(0), s.pod(0), .udp, 53, passed), Self.poke(g.pod(1), s.pod(0), .udp, 5353, true),
            Self.poke(g.pod(0), s.pod(0), .sctp, 9003, passed), Self.poke(g.pod(1), s.pod(0), .sctp, 9005, true),
            Self.poke(s.pod(0), g.pod(0), .tcp, 80, passed), Self.poke(s.pod(1), g.pod(0), .tcp, 8080, true),
            Self.poke(s.pod(0), g.pod(0), .udp, 53, passed), Self.poke(s.pod(1), g.pod(0), .udp, 5353, true),
            Self.poke(s.pod(0), g.pod(0), .sctp, 9003, passed), Self.poke(s.pod(1), g.pod(0), .sctp, 9005, true),
        ] }
        let probes: [[Probe]] = [
            [Self.poke(g.pod(0), r.pod(0), .tcp, 80, true), Self.poke(g.pod(1), r.pod(0), .udp, 53, true), Self.poke(g.pod(0), r.pod(0), .sctp, 9003, true),
             Self.poke(r.pod(0), g.pod(0), .tcp, 80, true), Self.poke(r.pod(1), g.pod(0), .udp, 53, true), Self.poke(r.pod(1), g.pod(0), .sctp, 9003, true)],
            [Self.poke(g.pod(0), h.pod(1), .tcp, 8080, true), Self.poke(g.pod(1), h.pod(1), .tcp, 80, false),
             Self.poke(g.pod(0), h.pod(1), .udp, 5353, true), Self.poke(g.pod(1), h.pod(1), .udp, 53, false),
             Self.poke(g.pod(0), h.pod(1), .sctp, 9003, true), Self.poke(g.pod(1), h.pod(1), .sctp, 9005, false),
             Self.poke(h.pod(0), g.pod(1), .tcp, 80, true), Self.poke(h.pod(1), g.pod(1), .tcp, 8080, false),
             Self.poke(h.pod(0), g.pod(1), .udp, 5353, true), Self.poke(h.pod(1), g.pod(1), .udp, 53, false),
             Self.poke(h.pod(0), g.pod(1), .sctp, 9003, true), Self.poke(h.pod(1), g.pod(1), .sctp, 9005, false)],
            [Self.poke(g.pod(0), r.pod(1), .tcp, 80, false), Self.poke(g.pod(1), r.pod(1), .udp, 53, false), Self.poke(g.pod(0), r.pod(1), .sctp, 9003, false),
             Self.poke(r.pod(0), g.pod(1), .tcp, 80, false), Self.poke(r.pod(1), g.pod(1), .udp, 53, false), Self.poke(r.pod(1), g.pod(1), .sctp, 9003, false)],
            slytherinPorts(false),
            [Self.poke(g.pod(0), r.pod(0), .tcp, 80, true), Self.poke(g.pod(0), r.pod(0), .udp, 5353, true), Self.poke(g.pod(0), r.pod(0), .sctp, 9003, true),
             Self.poke(r.pod(0), g.pod(0), .tcp, 80, true), Self.poke(r.pod(1), g.pod(0), .udp, 53, true), Self.poke(r.pod(1), g.pod(0), .sctp, 9003, true)],
            slytherinPorts(true),
        ]
        try Self.run("gress-rules", Self.ladderSteps(base, patch: { $0.ingress.swapAt($1, $2); $0.egress.swapAt($1, $2) }, probes: probes))
    }

    @Test("destinationNamedPort replaces a rule's port (CNP{Admin,Baseline}Tier{Ingress,Egress}NamedPort)")
    func namedPorts() throws {
        let (g, s, h, r) = (Self.g, Self.s, Self.h, Self.r)
        let tcp = { (port: UInt16) in [P.port("tcp", port)] }
        let udp = { (port: UInt16) in [P.port("udp", port)] }
        // Admin egress-tcp, rule 5 (Accept hufflepuff at 8080) patched to the named port web.
        var egressTCP = P(name: "egress-tcp", priority: 6, subject: P.namespace(g),
                          egress: Self.ladder(tier: "Admin", egress: true, every: r, denyHouse: s, denyPorts: tcp(80), allowHouse: h, allowPorts: tcp(8080)))
        egressTCP.egress[5] = P.rule("accept-hufflepuff-web", "Accept", "to", [P.namespace(h)], ["{destinationNamedPort: web}"])
        try Self.run("CNPAdminTierEgressNamedPort", [Step(name: "web", policies: egressTCP.yaml, probes: [
            Self.poke(g.pod(0), h.pod(1), .tcp, 80, true), Self.poke(g.pod(1), h.pod(1), .tcp, 8080, false)])])
        // Admin ingress-udp, rule 5 (Accept gryffindor at 53) patched to the named port dns.
        var ingressUDP = P(name: "ingress-udp", priority: 4, subject: P.namespace(h),
                           ingress: Self.ladder(tier: "Admin", egress: false, every: r, denyHouse: s, denyPorts: udp(5353), allowHouse: g, allowPorts: udp(53)))
        ingressUDP.ingress[5] = P.rule("accept-gryffindor-dns", "Accept", "from", [P.namespace(g)], ["{destinationNamedPort: dns}"])
        try Self.run("CNPAdminTierIngressNamedPort", [Step(name: "dns", policies: ingressUDP.yaml, probes: [
            Self.poke(g.pod(0), h.pod(1), .udp, 53, true), Self.poke(g.pod(1), h.pod(1), .udp, 5353, false)])])
        // Baseline egress-udp, rule 3 (Accept gryffindor at 53) patched to dns.
        var baselineEgress = P(name: "default", tier: "Baseline", priority: 10, subject: P.namespace(h),
                               egress: Self.ladder(tier: "Baseline", egress: true, every: r, denyHouse: s, denyPorts: udp(5353), allowHouse: g, allowPorts: udp(53)))
        baselineEgress.egress[3] = P.rule("accept-gryffindor-dns", "Accept", "to", [P.namespace(g)], ["{destinationNamedPort: dns}"])
        try Self.run("CNPBaselineTierEgressNamedPort", [Step(name: "dns", policies: baselineEgress.yaml, probes: [
            Self.poke(h.pod(0), g.pod(1), .udp, 53, true), Self.poke(h.pod(1), g.pod(1), .udp, 5353, false)])])
        // Baseline ingress-tcp, rule 3 (Accept hufflepuff at 80) patched to web.
        var baselineIngress = P(name: "default", tier: "Baseline", priority: 10, subject: P.namespace(g),
                                ingress: Self.ladder(tier: "Baseline", egress: false, every: r, denyHouse: s, denyPorts: tcp(80), allowHouse: h, allowPorts: tcp(80)))
        baselineIngress.ingress[3] = P.rule("accept-hufflepuff-web", "Accept", "from", [P.namespace(h)], ["{destinationNamedPort: web}"])
        try Self.run("CNPBaselineTierIngressNamedPort", [Step(name: "web", policies: baselineIngress.yaml, probes: [
            Self.poke(h.pod(0), g.pod(1), .tcp, 80, true), Self.poke(h.pod(1), g.pod(1), .tcp, 8080, false)])])
    }

    @Test("nodes peers reach host-network pods on another node (CNP{Admin,Baseline}TierEgressNodePeers)")
    func nodePeers() throws {
        let ports = ConformanceHouses.hostNetworkPorts, g = Self.g
        let nodes = "{nodes: {matchLabels: {kubernetes.io/os: linux}}}", internet = "{networks: [0.0.0.0/0, \"::/0\"]}"
        let centaur = ConformanceHouses.forest + "/centaur-1"
        let admin = P(name: "node-and-cidr-as-peers-example", priority: 75, subject: P.pods("gryffindor"), egress: [
            P.rule("accept-nodes-tcp", "Accept", "to", [nodes], [P.port("tcp", ports[0])]),
            P.rule("pass-nodes-udp", "Pass", "to", [nodes], [P.port("udp", ports[2])]),
            P.rule("deny-slytherin-nodes-internet", "Deny", "to", [P.pods("slytherin"), nodes, internet]),
        ])
        try Self.run("CNPAdminTierEgressNodePeers", [Step(name: "accept, pass, deny", policies: admin.yaml, probes: [
            Self.poke(g.pod(1), centaur, .tcp, ports[0], true), Self.poke(g.pod(1), centaur, .udp, ports[2], true),
            Self.poke(g.pod(1), centaur, .tcp, ports[1], false), Self.poke(g.pod(1), centaur, .udp, ports[4], false),
            Self.poke(g.pod(1), centaur, .sctp, ports[6], false),
        ])])
        let baseline = P(name: "default", tier: "Baseline", priority: 10, subject: P.namespace(g), egress: [
            P.rule("accept-nodes-tcp-range", "Accept", "to", [nodes], ["{tcp: {destinationPort: {range: {start: \(ports[0]), end: \(ports[1])}}}}"]),
            P.rule("deny-nodes-internet", "Deny", "to", [nodes, internet]),
        ])
        try Self.run("CNPBaselineTierEgressNodePeers", [Step(name: "range accept, deny", policies: baseline.yaml, probes: [
            Self.poke(g.pod(0), centaur, .tcp, ports[0], true), Self.poke(g.pod(1), centaur, .tcp, ports[1], true),
            Self.poke(g.pod(1), centaur, .udp, ports[4], false), Self.poke(g.pod(1), centaur, .sctp, ports[6], false),
        ])])
    }

    @Test("inline CIDR networks peers, a relabelled namespace, an inserted /32 rule (CNP{Admin,Baseline}TierEgressInlineCIDRPeers)", arguments: tiers)
    func inlineCIDR(tier: String) throws {
        let (g, s, h, r) = (Self.g, Self.s, Self.h, Self.r)
        let subject = tier == "Admin" ? P.pods("gryffindor") : P.namespace(g)
        var policy = P(name: tier == "Admin" ? "inline-cidr-as-peers-example" : "default", tier: tier, priority: tier == "Admin" ? 85 : 10, subject: subject, egress: [
            P.rule("accept-slytherin", "Accept", "to", [P.pods("slytherin")]),
            P.rule("deny-internet", "Deny", "to", ["{networks: [0.0.0.0/0, \"::/0\"]}"]),
        ])
        let three = { (server: String, allowed: Bool) in
            [Self.poke(g.pod(1), server, .tcp, 80, allowed), Self.poke(g.pod(1), server, .udp, 53, allowed), Self.poke(g.pod(1), server, .sctp, 9003, allowed)]
        }
        var steps = [
            Step(name: "deny to pods through 0.0.0.0/0, accept slytherin", policies: policy.yaml,
                 probes: three(r.pod(0), false) + three(h.pod(0), false) + three(s.pod(0), true)),
            Step(name: "slytherin relabelled", policies: policy.yaml, relabel: [s: "denied-namespace-label"], probes: three(s.pod(0), false)),
            Step(name: "slytherin label back", policies: policy.yaml, probes: three(s.pod(0), true)),
        ]
        policy.egress.insert(P.rule("accept-pod-ips", "Accept", "to", ["{networks: [\(r.address(0))/32, \(h.address(0))/32]}"]), at: 0)
        steps.append(Step(name: "accept two pod IPs inserted first", policies: policy.yaml,
                          probes: three(r.pod(0), true) + three(h.pod(0), true) + three(r.pod(1), false) + three(h.pod(1), false)))
        try Self.run("inline-cidr", steps)
    }

    @Test("priority: a Pass moved from 60 to 40 hands slytherin to the Baseline tier's Accept (CNPAdminTierPriorityField)")
    func priorityField() throws {
        let (g, s) = (Self.g, Self.s)
        let peer = [P.pods("slytherin")]
        let deny50 = P(name: "priority-50-example", priority: 50, subject: P.pods("gryffindor"),
                       ingress: [P.rule("deny-in", "Deny", "from", peer)], egress: [P.rule("deny-out", "Deny", "to", peer)])
        var pass60 = P(name: "old-priority-60-new-priority-40-example", priority: 60, subject: P.pods("gryffindor"),
                       ingress: [P.rule("pass-in", "Pass", "from", peer)], egress: [P.rule("pass-out", "Pass", "to", peer)])
        let baseline = P(name: "default", tier: "Baseline", priority: 10, subject: P.pods("gryffindor"),
                         ingress: [P.rule("accept-in", "Accept", "from", peer)], egress: [P.rule("accept-out", "Accept", "to", peer)])
        let all = { [deny50.yaml, pass60.yaml, baseline.yaml].joined(separator: "\n---\n") }
        let both = { (allowed: Bool) in
            [Self.poke(s.pod(0), g.pod(0), .tcp, 80, allowed), Self.poke(s.pod(1), g.pod(0), .tcp, 8080, allowed),
             Self.poke(g.pod(0), s.pod(0), .tcp, 80, allowed), Self.poke(g.pod(1), s.pod(0), .tcp, 8080, allowed)]
        }
        let before = Step(name: "priority 50 Deny first", policies: all(), probes: both(false))
        pass60.priority = 40
        try Self.run("CNPAdminTierPriorityField", [before, Step(name: "priority 40 Pass first", policies: all(), probes: both(true))])
    }

    @Test("Admin Deny, then Pass to a NetworkPolicy's allow, then to the Baseline Deny once it is deleted (CNPAdminTierIntegration)")
    func integration() throws {
        let (g, s) = (Self.g, Self.s)
        let slytherin = "{namespaces: {matchLabels: {conformance-house: slytherin}}}"
        var admin = P(name: "pass-example", priority: 10, subject: "{namespaces: {matchLabels: {conformance-house: gryffindor}}}",
                      ingress: [P.rule("deny-in", "Deny", "from", [slytherin])], egress: [P.rule("deny-out", "Deny", "to", [slytherin])])
        var baseline = admin
        baseline.name = "default"
        baseline.tier = "Baseline"
        let networkPolicy = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: allow-gress-from-to-slytherin-to-gryffindor, namespace: \(g.namespace)}
            spec:
              podSelector: {}
              policyTypes: [Ingress, Egress]
              ingress: [{from: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]}]
              egress: [{to: [{namespaceSelector: {matchLabels: {conformance-house: slytherin}}}]}]
            """
        let into = { (allowed: Bool) in [Self.poke(s.pod(0), g.pod(0), .tcp, 80, allowed), Self.poke(s.pod(1), g.pod(0), .tcp, 8080, allowed)] }
        let out = { (allowed: Bool) in [Self.poke(g.pod(0), s.pod(0), .tcp, 80, allowed), Self.poke(g.pod(1), s.pod(0), .tcp, 8080, allowed)] }
        var steps = [Step(name: "Admin Deny both ways", policies: [admin.yaml, networkPolicy, baseline.yaml].joined(separator: "\n---\n"),
                          probes: into(false) + out(false))]
        admin.ingress[0] = P.rule("deny-in", "Pass", "from", [slytherin])
        steps.append(Step(name: "ingress Pass: the NetworkPolicy allows", policies: [admin.yaml, networkPolicy, baseline.yaml].joined(separator: "\n---\n"),
                          probes: into(true)))
        admin.egress[0] = P.rule("deny-out", "Pass", "to", [slytherin])
        steps.append(Step(name: "egress Pass: the NetworkPolicy allows", policies: [admin.yaml, networkPolicy, baseline.yaml].joined(separator: "\n---\n"),
                          probes: out(true)))
        steps.append(Step(name: "NetworkPolicy deleted: the Baseline Deny decides", policies: [admin.yaml, baseline.yaml].joined(separator: "\n---\n"),
                          probes: into(false) + out(false)))
        try Self.run("CNPAdminTierIntegration", steps)
    }
}
