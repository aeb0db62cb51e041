import KubeManifest
import KubeNFT
import NFTRuleset
import Testing

/// ClusterNetworkPolicy (v1alpha2) verdicts as the network-policy-api conformance tests and the
/// API's own documentation state them, over the same model as the v1alpha1 cases. Each expected
/// verdict is written by hand from upstream's text.
extension UpstreamPolicyCaseTests {
    /// A ClusterNetworkPolicy in `tier` with the given spec lines.
    static func cnp(_ name: String, tier: String = "Admin", priority: Int, _ spec: String) -> String {
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: \(name)}\nspec:\n  tier: \(tier)\n  priority: \(priority)\n"
            + spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    }

    static let clusterCases: [Case] = [
        Case(name: "cnp conformance: named ports through destinationNamedPort (ingress: the subject's; egress: the peer's)",
             policies: cnp("named", priority: 3, """
                subject: {pods: {namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: a}}}}
                ingress: [{name: d81, action: Deny, from: [{namespaces: {}}], protocols: [{destinationNamedPort: serve-81-tcp}]}]
                egress: [{name: d80, action: Deny, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}}], protocols: [{destinationNamedPort: serve-80-udp}]}]
                """),
             probes: [deny("y/c", "x/a", 81), allow("y/c", "x/a", 80), allow("y/c", "x/a", 81, .udp),
                      deny("x/a", "z/b", 80, .udp), allow("x/a", "z/b", 80), allow("x/a", "z/c", 80, .udp)]),
        Case(name: "cnp conformance: egress networks peer (inline CIDR) covers pod addresses too",
             policies: cnp("net", priority: 3, "\(xSubject)\negress: [{name: deny-net, action: Deny, to: [{networks: [10.244.1.20/30]}]}]"),
             probes: [deny("x/a", "y/a"), deny("x/b", "y/c", 81, .sctp), allow("x/a", "z/a"), allow("z/a", "y/a")]),
        Case(name: "cnp conformance: egress nodes peer covers the nodes' addresses",
             policies: cnp("nodes", priority: 3, "\(xSubject)\negress: [{name: deny-nodes, action: Deny, to: [{nodes: {matchLabels: {}}}]}]"),
             probes: [deny("x/a", "x/h2"), deny("x/a", "node"), allow("x/a", "y/r"), allow("y/a", "node")]),
        Case(name: "cnp conformance: priority change (lower number first) decides between Pass and Deny",
             policies: cnp("deny-50", priority: 50, "\(xSubject)\ningress: [{name: d, action: Deny, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]")
                + "\n---\n" + cnp("pass-40", priority: 40, "\(xSubject)\ningress: [{name: p, action: Pass, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]"),
             probes: [allow("y/a", "x/a"), allow("y/b", "x/c", 81)]),
        Case(name: "cnp conformance: Pass to the Baseline tier when no NetworkPolicy isolates",
             policies: cnp("pass", priority: 10, "\(xSubject)\ningress: [{name: p, action: Pass, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]")
                + "\n---\n" + cnp("default", tier: "Baseline", priority: 10, "\(xSubject)\ningress: [{name: d, action: Deny, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]"),
             probes: [deny("y/a", "x/a"), allow("z/a", "x/a")]),
        Case(name: "cnp: Accept in the Admin tier wins over a NetworkPolicy that isolates",
             policies: cnp("accept-y", priority: 10, "\(xSubject)\ningress: [{name: a, action: Accept, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]")
                + "\n---\n" + np("deny-all", "podSelector: {}\npolicyTypes: [Ingress]"),
             probes: [allow("y/a", "x/a"), deny("z/a", "x/a")]),
        Case(name: "cnp: an Accept rule's domainNames peer matches nothing, so a lower Deny decides",
             policies: cnp("names", priority: 1, "\(xSubject)\negress: [{name: a, action: Accept, to: [{domainNames: [example.com]}]}]")
                + "\n---\n" + cnp("deny", priority: 2, "\(xSubject)\negress: [{name: d, action: Deny, to: [{networks: [0.0.0.0/0]}]}]"),
             probes: [deny("x/a", "y/a"), deny("x/a", "203.0.113.9"), allow("y/a", "z/a")]),
        Case(name: "cnp: a Deny rule with a peer of a newer API denies everything",
             policies: cnp("newer", priority: 1, "\(xSubject)\negress: [{name: d, action: Deny, to: [{serviceAccounts: {name: s}}]}]"),
             probes: [deny("x/a", "y/a"), deny("x/b", "z/c", 81, .udp), deny("x/a", "203.0.113.9"), allow("y/a", "x/a")]),
        Case(name: "cnp: a Pass rule with a protocol of a newer API fails closed as Deny",
             policies: cnp("newer", priority: 1, "\(xSubject)\ningress: [{name: p, action: Pass, from: [{namespaces: {matchLabels: {ns: z}}}], protocols: [{icmp: {}}]}]"),
             probes: [deny("y/a", "x/a"), deny("z/a", "x/b", 81, .udp), allow("x/a", "y/a")]),
        Case(name: "cnp and anp at the same priority: both apply, in a documented order (name, then kind)",
             policies: cnp("b-deny", priority: 5, "\(xSubject)\ningress: [{name: d, action: Deny, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]")
                + "\n---\n" + admin("a-allow", priority: 5, "\(xSubject)\ningress: [{name: a, action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}}]}]"),
             probes: [allow("y/b", "x/a"), deny("y/a", "x/a"), allow("z/b", "x/a")]),
    ]

    @Test("ClusterNetworkPolicy verdicts as the network-policy-api conformance tests state them", arguments: clusterCases)
    func clusterPolicy(_ flow: Case) throws { try Self.check(flow) }

    @Test("the ruleset, its counters and the explanations name ClusterNetworkPolicy, not the v1alpha1 kinds")
    func outputsNameTheKind() throws {
        let scenario = PolicyScenario.root + "/cnp-baseline-pass-and-priority/policies.yaml"
        var node = PolicyScenario.nodeOptions
        node.counters = true
        let result = Pipeline.run(paths: [PolicyScenario.modelManifests, scenario], node: node)
        let ruleset = try #require(result.ruleset, "\(result.errors)")
        #expect(ruleset.counters.contains(CounterObject(name: "cnp-deny-in-deny-all-into-x/deny-all", comment: "CNP deny-all-into-x ingress deny-all Deny")))
        let comments = ruleset.chains.filter { $0.name.hasPrefix("np-cnp-base-in-") }.map(\.comment)
        #expect(!comments.isEmpty && comments.allSatisfy { $0 == "ClusterNetworkPolicy Baseline tier ingress rules" }, "\(comments)")
        let rules = ruleset.chains.flatMap(\.rules).compactMap(\.comment)
        #expect(rules.contains("CNP pass-y ingress pass-from-y Pass"), "the action as v1alpha2 spells it")
        let denied = try Review.trace(TraceQuery(from: try #require(TraceEndpoint("z/a")), to: try #require(TraceEndpoint("x/b")), port: 80, transport: .tcp), in: result)
        #expect(denied.text.contains("CNP deny-all-into-x ingress deny-all Deny"), "\(denied.text)")
    }
}
