import KubeManifest
import Testing

/// The cases of `UpstreamPolicyCaseTests`, named after the upstream test each comes from.
extension UpstreamPolicyCaseTests {
    static let networkPolicyCases: [Case] = [
        Case(name: "netpol: should support a 'default-deny-ingress' policy",
             policies: np("deny-ingress", "podSelector: {}\npolicyTypes: [Ingress]"),
             probes: [deny("y/a", "x/b"), deny("x/a", "x/b"), allow("x/a", "y/a"), allow("y/a", "z/b")]),
        Case(name: "netpol: should support a 'default-deny-all' policy",
             policies: np("deny-all", "podSelector: {}\npolicyTypes: [Ingress, Egress]"),
             probes: [deny("x/a", "y/a"), deny("y/a", "x/a"), deny("x/a", "x/b"), allow("y/a", "z/a")]),
        Case(name: "netpol: should enforce policy to allow traffic only from a different namespace, based on NamespaceSelector",
             policies: np("from-y", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]}]"),
             probes: [allow("y/b", "x/a"), deny("z/b", "x/a"), deny("x/b", "x/a"), allow("z/b", "x/b")]),
        Case(name: "netpol: should enforce policy based on PodSelector and NamespaceSelector (one peer: AND)",
             policies: np("and", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}, podSelector: {matchLabels: {pod: b}}}]}]"),
             probes: [allow("y/b", "x/a"), deny("y/c", "x/a"), deny("x/b", "x/a"), deny("z/b", "x/a")]),
        Case(name: "netpol: should enforce policy based on PodSelector or NamespaceSelector (two peers: OR)",
             policies: np("or", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}, {podSelector: {matchLabels: {pod: b}}}]}]"),
             probes: [allow("y/c", "x/a"), allow("x/b", "x/a"), deny("z/b", "x/a"), deny("x/c", "x/a")]),
        Case(name: "netpol: should allow ingress access on one named port",
             policies: np("named-in", "podSelector: {}\ningress: [{ports: [{port: serve-81-tcp}]}]"),
             probes: [allow("y/a", "x/b", 81), deny("y/a", "x/b", 80), deny("y/a", "x/b", 81, .udp), allow("x/a", "y/a", 80)]),
        Case(name: "netpol: should allow egress access on one named port",
             policies: np("named-out", "podSelector: {}\npolicyTypes: [Egress]\negress: [{ports: [{port: serve-80-tcp}, {port: 53, protocol: UDP}]}]"),
             probes: [allow("x/a", "y/b", 80), deny("x/a", "y/b", 81), deny("x/a", "y/b", 80, .udp), allow("y/a", "x/a", 81)]),
        Case(name: "netpol: should enforce egress policy allowing traffic to a server in a different namespace based on PodSelector and NamespaceSelector",
             policies: np("egress-and", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\negress: [{to: [{namespaceSelector: {matchLabels: {ns: \"y\"}}, podSelector: {matchLabels: {pod: a}}}]}]"),
             probes: [allow("x/a", "y/a"), deny("x/a", "y/b"), deny("x/a", "z/a"), allow("x/b", "z/a")]),
        Case(name: "netpol: should enforce except clause while egress access to server in CIDR block",
             policies: np("except", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\negress: [{to: [{ipBlock: {cidr: 10.244.1.0/24, except: [10.244.1.22/32]}}]}]"),
             probes: [allow("x/a", "y/a"), deny("x/a", "y/b"), allow("x/a", "z/c"), deny("x/a", "y/r")]),
        Case(name: "netpol: should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed",
             policies: np("except", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\negress: [{to: [{ipBlock: {cidr: 10.244.1.0/24, except: [10.244.1.22/32]}}]}]")
                + "\n---\n" + np("exact", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\negress: [{to: [{ipBlock: {cidr: 10.244.1.22/32}}]}]"),
             probes: [allow("x/a", "y/b"), allow("x/a", "y/a")]),
        Case(name: "netpol: should enforce multiple ingress policies with ingress allow-all policy taking precedence",
             policies: np("only-81", "podSelector: {}\ningress: [{ports: [{port: 81}]}]") + "\n---\n" + np("all", "podSelector: {}\ningress: [{}]"),
             probes: [allow("y/a", "x/a", 80), allow("y/a", "x/a", 81), allow("z/c", "x/b", 80, .udp)]),
        Case(name: "netpol: should support denying of egress traffic on the client side (even if the server explicitly allows this traffic)",
             policies: np("no-egress", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]")
                + "\n---\n" + np("server-allows", "podSelector: {}\ningress: [{from: [{namespaceSelector: {}}]}]", in: "y"),
             probes: [deny("x/a", "y/a"), allow("x/b", "y/a"), allow("y/a", "x/a")]),
        Case(name: "netpol: should enforce ingress policy allowing any port traffic to a server on a specific protocol",
             policies: np("udp-any", "podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{protocol: UDP}]}]"),
             probes: [allow("y/b", "x/a", 80, .udp), allow("y/b", "x/a", 81, .udp), deny("y/b", "x/a", 80), deny("y/b", "x/a", 80, .sctp)]),
        Case(name: "netpol: should not allow access by TCP when a policy specifies only UDP",
             policies: np("udp-81", "podSelector: {matchLabels: {pod: a}}\ningress: [{ports: [{port: 81, protocol: UDP}]}]"),
             probes: [deny("y/b", "x/a", 81), allow("y/b", "x/a", 81, .udp)]),
        Case(name: "netpol: should enforce policy based on Ports [SCTP]",
             policies: np("sctp-81", "podSelector: {}\ningress: [{ports: [{port: 81, protocol: SCTP}]}]"),
             probes: [allow("y/a", "x/a", 81, .sctp), deny("y/a", "x/a", 80, .sctp), deny("y/a", "x/a", 81)]),
        Case(name: "netpol: should enforce egress policy allowing traffic to a server with port range (endPort)",
             policies: np("range", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\negress: [{ports: [{port: 80, endPort: 81, protocol: TCP}]}]"),
             probes: [allow("x/a", "y/b", 80), allow("x/a", "y/b", 81), deny("x/a", "y/b", 80, .udp)]),
        Case(name: "netpol: should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using default ns label",
             policies: np("by-name", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]}]"),
             probes: [allow("z/c", "x/a"), deny("y/c", "x/a")]),
        Case(name: "netpol: policyTypes [Egress] with ingress rules: the ingress rules are not enforced",
             policies: np("egress-only", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\ningress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]"),
             probes: [allow("y/c", "x/a"), deny("x/a", "x/b")]),
        Case(name: "netpol: empty ingress list isolates, empty from allows every source",
             policies: np("empty", "podSelector: {matchLabels: {pod: a}}\ningress: []") + "\n---\n"
                + np("from-all", "podSelector: {matchLabels: {pod: b}}\ningress: [{ports: [{port: 80}]}]"),
             probes: [deny("x/b", "x/a"), allow("z/c", "x/b"), deny("z/c", "x/b", 81)]),
        Case(name: "netpol: a policy selecting no pods has no effect",
             policies: np("none", "podSelector: {matchLabels: {pod: nothere}}\npolicyTypes: [Ingress, Egress]"),
             probes: [allow("y/a", "x/a"), allow("x/a", "y/a")]),
        Case(name: "netpol: traffic from the pod's own node is always allowed, also from a hostNetwork pod there",
             policies: np("deny-ingress", "podSelector: {}\npolicyTypes: [Ingress]"),
             probes: [allow("node", "x/a"), allow("x/h", "x/a"), deny("x/h2", "x/a"), deny("y/a", "x/a")]),
        Case(name: "netpol: a policy selecting hostNetwork pods does not isolate the node",
             policies: np("deny-h", "podSelector: {matchLabels: {pod: h}}\npolicyTypes: [Ingress, Egress]"),
             probes: [allow("x/b", "x/h"), allow("x/h", "x/b"), allow("external:203.0.113.5", "x/h")]),
        Case(name: "netpol: pods on another node are matched by selectors",
             policies: np("from-y", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {matchLabels: {ns: \"y\"}}}]}]\negress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]"),
             probes: [allow("y/r", "x/a"), deny("x/a", "y/r"), allow("x/a", "x/b")]),
        Case(name: "netpol: namespaceSelector {} and the kubernetes.io/metadata.name label also cover a namespace without a Namespace object",
             policies: np("all-ns", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {}}], ports: [{port: 80}]}, {from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: w}}}], ports: [{port: 81}]}]"),
             probes: [allow("w/q", "x/a", 80), allow("w/q", "x/a", 81), deny("y/a", "x/a", 81)]),
        Case(name: "netpol: an IPv4 ipBlock does not allow IPv6 traffic of dual-stack pods",
             policies: np("v4-only", "podSelector: {matchLabels: {pod: a}}\npolicyTypes: [Egress]\negress: [{to: [{ipBlock: {cidr: 10.244.1.0/24}}]}]"),
             probes: [allow("x/a", "y/a"), deny("fd00:10:244:1::11", "fd00:10:244:1::21")]),
    ]

    @Test("NetworkPolicy verdicts as the upstream e2e suite states them", arguments: networkPolicyCases)
    func networkPolicy(_ flow: Case) throws { try Self.check(flow) }
}

extension UpstreamPolicyCaseTests {
    static let xSubject = "subject: {namespaces: {matchLabels: {ns: x}}}"

    static let adminCases: [Case] = [
        Case(name: "anp conformance: Deny wins over a NetworkPolicy that allows",
             policies: admin("deny-y", priority: 10, "\(xSubject)\ningress: [{name: d, action: Deny, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]")
                + "\n---\n" + np("allow-all", "podSelector: {}\ningress: [{}]"),
             probes: [deny("y/a", "x/a"), allow("z/a", "x/a")]),
        Case(name: "anp conformance: Allow wins over a NetworkPolicy that denies",
             policies: admin("allow-y", priority: 10, "\(xSubject)\ningress: [{name: a, action: Allow, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]")
                + "\n---\n" + np("deny-all", "podSelector: {}\npolicyTypes: [Ingress]"),
             probes: [allow("y/a", "x/a"), deny("z/a", "x/a")]),
        Case(name: "anp conformance: lower priority number wins",
             policies: admin("allow-first", priority: 5, "\(xSubject)\ningress: [{name: a, action: Allow, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}}]}]")
                + "\n---\n" + admin("deny-later", priority: 50, "\(xSubject)\ningress: [{name: d, action: Deny, from: [{namespaces: {}}]}]"),
             probes: [allow("y/b", "x/a"), allow("z/b", "x/c"), deny("y/c", "x/a")]),
        Case(name: "anp conformance: Pass skips the remaining admin rules; the NetworkPolicy decides",
             policies: admin("pass", priority: 5, "\(xSubject)\ningress: [{name: p, action: Pass, from: [{namespaces: {matchLabels: {ns: \"y\"}}}]}]")
                + "\n---\n" + admin("deny", priority: 10, "\(xSubject)\ningress: [{name: d, action: Deny, from: [{namespaces: {}}]}]")
                + "\n---\n" + np("from-y-b", "podSelector: {matchLabels: {pod: a}}\ningress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}]}]"),
             probes: [allow("y/b", "x/a"), deny("y/c", "x/a"), allow("y/c", "x/b"), deny("z/b", "x/a")]),
        Case(name: "banp conformance: the baseline applies only to pods no NetworkPolicy isolates",
             policies: admin("default", priority: nil, "subject: {namespaces: {}}\ningress: [{name: d, action: Deny, from: [{namespaces: {matchLabels: {ns: z}}}]}]")
                + "\n---\n" + np("allow-all", "podSelector: {matchLabels: {pod: a}}\ningress: [{}]"),
             probes: [allow("z/a", "x/a"), deny("z/a", "x/b"), allow("y/a", "x/b")]),
        Case(name: "anp conformance: named ports (ingress: the subject's port; egress: the peer's port)",
             policies: admin("named", priority: 3, """
                subject: {pods: {namespaceSelector: {matchLabels: {ns: x}}, podSelector: {matchLabels: {pod: a}}}}
                ingress: [{name: d81, action: Deny, from: [{namespaces: {}}], ports: [{namedPort: serve-81-tcp}]}]
                egress: [{name: d80, action: Deny, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: b}}}}], ports: [{namedPort: serve-80-udp}]}]
                """),
             probes: [deny("y/c", "x/a", 81), allow("y/c", "x/a", 80), allow("y/c", "x/a", 81, .udp),
                      deny("x/a", "z/b", 80, .udp), allow("x/a", "z/b", 80), allow("x/a", "z/c", 80, .udp)]),
        Case(name: "anp conformance: port ranges",
             policies: admin("range", priority: 3, "\(xSubject)\negress: [{name: r, action: Deny, to: [{namespaces: {}}], ports: [{portRange: {protocol: UDP, start: 80, end: 81}}]}]"),
             probes: [deny("x/a", "y/a", 80, .udp), deny("x/a", "y/a", 81, .udp), allow("x/a", "y/a", 80), allow("y/a", "x/a", 80, .udp)]),
        Case(name: "anp conformance: egress networks peer covers pod addresses too",
             policies: admin("net", priority: 3, "\(xSubject)\negress: [{name: deny-net, action: Deny, to: [{networks: [10.244.1.20/30]}]}]"),
             probes: [deny("x/a", "y/a"), deny("x/b", "y/c", 81, .sctp), allow("x/a", "z/a"), allow("z/a", "y/a")]),
        Case(name: "anp conformance: egress nodes peer covers the node's addresses",
             policies: admin("nodes", priority: 3, "\(xSubject)\negress: [{name: deny-nodes, action: Deny, to: [{nodes: {matchLabels: {}}}]}]"),
             probes: [deny("x/a", "x/h2"), deny("x/a", "node"), allow("x/a", "y/r"), allow("y/a", "node")]),
        Case(name: "anp conformance: a pods peer does not select hostNetwork pods",
             policies: admin("pods-h", priority: 3, "\(xSubject)\negress: [{name: deny-h, action: Deny, to: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {pod: h}}}}]}]"),
             probes: [allow("x/a", "x/h2"), allow("x/a", "x/h"), allow("x/a", "node")]),
    ]

    @Test("AdminNetworkPolicy verdicts as the network-policy-api conformance tests state them", arguments: adminCases)
    func adminPolicy(_ flow: Case) throws { try Self.check(flow) }
}
