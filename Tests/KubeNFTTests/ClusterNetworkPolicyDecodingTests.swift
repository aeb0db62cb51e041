import KubeManifest
import Testing

/// ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) read as its CRD validates it
/// (config/crd of kubernetes-sigs/network-policy-api): what is refused, what fails closed, and what
/// the model keeps. Expected messages are written by hand from the CRD's rules.
@Suite("ClusterNetworkPolicy decoding")
struct ClusterNetworkPolicyDecodingTests {
    /// A CNP named `p` with the given spec lines (indented under `spec:`).
    static func cnp(_ spec: String) -> String {
        "apiVersion: policy.networking.k8s.io/v1alpha2\nkind: ClusterNetworkPolicy\nmetadata: {name: p}\nspec:\n"
            + spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n"
    }

    static let head = "tier: Admin\npriority: 5\nsubject: {namespaces: {}}\n"

    /// The error and warning lines of loading one CNP built from `spec`.
    static func lines(_ spec: String, strict: Bool = false) -> [String] {
        var options = LoadOptions()
        options.strict = strict
        return diagnosticLines(loadManifests(cnp(spec), options: options))
    }

    static func policy(_ spec: String) throws -> AdminNetworkPolicy {
        let result = loadManifests(cnp(spec))
        #expect(result.diagnostics.isEmpty, "\(diagnosticLines(result))")
        return try #require(result.cluster.adminPolicies.first)
    }

    @Test("tiers, priority, actions and protocols become the admin policy model, kind kept")
    func decodesIntoTheModel() throws {
        let policy = try Self.policy("""
            tier: Baseline
            priority: 7
            subject: {pods: {namespaceSelector: {matchLabels: {team: a}}, podSelector: {}}}
            ingress:
            - {name: in, action: Accept, from: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 80}}}, {destinationNamedPort: web}]}
            egress:
            - {action: Pass, to: [{networks: [10.0.0.0/8]}], protocols: [{sctp: {destinationPort: {range: {start: 1000, end: 2000}}}}]}
            - {action: Deny, to: [{nodes: {matchLabels: {role: db}}}]}
            """)
        #expect(policy.kind == .clusterNetworkPolicy)
        #expect(policy.tier == .baseline)
        #expect(policy.priority == 7)
        #expect(policy.label == "ClusterNetworkPolicy p")
        #expect(policy.ingress.map(\.action) == [.allow])
        #expect(policy.spelling(of: policy.ingress[0].action) == "Accept")
        #expect(policy.ingress[0].ports == [.number(.tcp, 80), .named("web")])
        #expect(policy.egress.map(\.action) == [.pass, .deny])
        #expect(policy.egress[0].peers == [.networks([cidr("10.0.0.0/8")])])
        #expect(policy.egress[0].ports == [.range(.sctp, 1000, 2000)])
        #expect(policy.egress[1].ports == nil)
    }

    @Test("the v1alpha1 kinds keep their names")
    func v1alpha1KindsUnchanged() throws {
        let text = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1\n  subject: {namespaces: {}}\n"
        let policy = try #require(loadManifests(text).cluster.adminPolicies.first)
        #expect(policy.kind == .adminNetworkPolicy)
        #expect(policy.spelling(of: .allow) == "Allow")
    }

    @Test("what the CRD refuses is an input error naming the field", arguments: [
        ("tier: Middle\npriority: 1\nsubject: {namespaces: {}}", "m.yaml:5:9: ClusterNetworkPolicy p: spec.tier: unsupported tier \"Middle\", must be Admin or Baseline"),
        ("tier: Admin\npriority: 1001\nsubject: {namespaces: {}}", "m.yaml:6:13: ClusterNetworkPolicy p: spec.priority: priority 1001 out of range 0-1000"),
        ("tier: Admin\nsubject: {namespaces: {}}", "m.yaml:5:3: ClusterNetworkPolicy p: spec.priority: is required"),
        ("priority: 1\nsubject: {namespaces: {}}", "m.yaml:5:3: ClusterNetworkPolicy p: spec.tier: is required"),
        ("tier: Admin\npriority: 1\nsubject: {pods: {namespaceSelector: {}}}", "m.yaml:7:19: ClusterNetworkPolicy p: spec.subject.pods.podSelector: is required"),
        (head + "ingress: [{action: Allow, from: [{namespaces: {}}]}]", "m.yaml:8:22: ClusterNetworkPolicy p: spec.ingress[0].action: unsupported action \"Allow\", must be Accept, Deny or Pass"),
        (head + "ingress: [{action: Deny}]", "m.yaml:8:13: ClusterNetworkPolicy p: spec.ingress[0].from: is required"),
        (head + "ingress: [{action: Deny, from: []}]", "m.yaml:8:34: ClusterNetworkPolicy p: spec.ingress[0].from: must list at least one of the peers"),
        (head + "ingress: [{action: Deny, from: [{networks: [10.0.0.0/8]}]}]", "m.yaml:8:46: ClusterNetworkPolicy p: spec.ingress[0].from[0].networks: networks peers are only allowed in egress rules"),
        (head + "egress: [{action: Deny, to: [{}]}]", "m.yaml:8:32: ClusterNetworkPolicy p: spec.egress[0].to[0]: exactly one of namespaces, pods, nodes, networks, domainNames must be set"),
        (head + "egress: [{action: Deny, to: [{namespaces: {}, networks: [10.0.0.0/8]}]}]", "m.yaml:8:32: ClusterNetworkPolicy p: spec.egress[0].to[0]: exactly one of namespaces, pods, nodes, networks, domainNames must be set"),
        (head + "egress: [{action: Deny, to: [{networks: [10.0.0.0/33]}]}]", "m.yaml:8:44: ClusterNetworkPolicy p: spec.egress[0].to[0].networks[0]: invalid CIDR \"10.0.0.0/33\""),
        (head + "egress: [{action: Deny, to: [{namespaces: {}}], protocols: []}]", "m.yaml:8:62: ClusterNetworkPolicy p: spec.egress[0].protocols: must list at least one of the protocols"),
        (head + "egress: [{action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {}}]}]", "m.yaml:8:69: ClusterNetworkPolicy p: spec.egress[0].protocols[0].tcp.destinationPort: is required"),
        (head + "egress: [{action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 1, range: {start: 1, end: 2}}}}]}]",
         "m.yaml:8:87: ClusterNetworkPolicy p: spec.egress[0].protocols[0].tcp.destinationPort: exactly one of number or range must be set"),
        (head + "egress: [{action: Deny, to: [{namespaces: {}}], protocols: [{udp: {destinationPort: {range: {start: 9, end: 9}}}}]}]",
         "m.yaml:8:95: ClusterNetworkPolicy p: spec.egress[0].protocols[0].udp.destinationPort.range: Start port must be less than End port (start 9, end 9)"),
        (head + "egress: [{action: Deny, to: [{namespaces: {}}], protocols: [{tcp: {destinationPort: {number: 1}}, udp: {destinationPort: {number: 1}}}]}]",
         "m.yaml:8:63: ClusterNetworkPolicy p: spec.egress[0].protocols[0]: exactly one of tcp, udp, sctp, destinationNamedPort must be set"),
        (head + "egress: [{action: Deny, to: [{networks: [10.0.0.0/8]}], protocols: [{destinationNamedPort: web}]}]",
         "m.yaml:8:12: ClusterNetworkPolicy p: spec.egress[0]: networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames"),
        (head + "egress: [{action: Accept, to: [{domainNames: [\"bad..name\"]}]}]",
         "m.yaml:8:49: ClusterNetworkPolicy p: spec.egress[0].to[0].domainNames[0]: invalid domain name \"bad..name\": must be a DNS name of at least two labels, optionally prefixed by \"*.\""),
        (head + "egress: [{action: Accept, to: [{domainNames: [a*.example.com]}]}]",
         "m.yaml:8:49: ClusterNetworkPolicy p: spec.egress[0].to[0].domainNames[0]: invalid domain name \"a*.example.com\": must be a DNS name of at least two labels, optionally prefixed by \"*.\""),
        (head + "egress: [{action: Accept, to: [{domainNames: [localhost]}]}]",
         "m.yaml:8:49: ClusterNetworkPolicy p: spec.egress[0].to[0].domainNames[0]: invalid domain name \"localhost\": must be a DNS name of at least two labels, optionally prefixed by \"*.\""),
        (head + "egress: [{action: Accept, to: [{domainNames: [a.example.com, b.example.com, a.example.com]}]}]",
         "m.yaml:8:79: ClusterNetworkPolicy p: spec.egress[0].to[0].domainNames[2]: Duplicate value: \"a.example.com\""),
        (head + "egress: [{action: Deny, to: [{networks: [10.0.0.0/8, 10.0.0.0/8]}]}]",
         "m.yaml:8:56: ClusterNetworkPolicy p: spec.egress[0].to[0].networks[1]: Duplicate value: \"10.0.0.0/8\""),
        (head + "egress: [{action: Deny, to: [{networks: [\"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128\"]}]}]",
         "m.yaml:8:44: ClusterNetworkPolicy p: spec.egress[0].to[0].networks[0]: invalid CIDR \"ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128\": may not be longer than 43 characters"),
        (head + "egress: [{action: Deny, to: [{domainNames: [example.com]}]}]",
         "m.yaml:8:12: ClusterNetworkPolicy p: spec.egress[0]: domainNames peers are only supported in Accept rules; kubenft cannot enforce this Deny rule"),
    ])
    func refusals(_ spec: String, _ expected: String) {
        let lines = Self.lines(spec)
        #expect(lines.contains(expected), "\(lines)")
        #expect(loadManifests(Self.cnp(spec)).cluster.adminPolicies.isEmpty)
    }

    @Test("a rule name may have 100 characters, as the CRD's maxLength counts them, however many bytes they take")
    func ruleNameCountsCharacters() {
        let name = String(repeating: "ü", count: 100)
        #expect(Self.lines(Self.head + "ingress: [{name: \"\(name)\", action: Deny, from: [{namespaces: {}}]}]").isEmpty)
        let longer = Self.lines(Self.head + "ingress: [{name: \"\(name)ü\", action: Deny, from: [{namespaces: {}}]}]")
        #expect(longer.count == 1 && longer[0].hasSuffix("must be no more than 100 characters"), "\(longer)")
        let v1alpha1 = "apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 1\n"
            + "  subject: {namespaces: {}}\n  ingress: [{name: \"\(name)\", action: Deny, from: [{namespaces: {}}]}]\n"
        #expect(diagnosticLines(loadManifests(v1alpha1)).isEmpty, "the v1alpha1 CRD has the same maxLength")
    }

    @Test("more than 25 rules, peers or protocols are refused, 25 are not")
    func limits() {
        let rule = "{action: Deny, to: [{namespaces: {}}]}"
        let ok = Self.head + "egress: [" + Array(repeating: rule, count: 25).joined(separator: ", ") + "]"
        #expect(Self.lines(ok).isEmpty)
        let over = Self.head + "egress: [" + Array(repeating: rule, count: 26).joined(separator: ", ") + "]"
        #expect(Self.lines(over).contains { $0.hasSuffix("spec.egress: at most 25 rules are allowed, got 26") }, "\(Self.lines(over))")
        let peers = Self.head + "egress: [{action: Deny, to: [" + Array(repeating: "{namespaces: {}}", count: 26).joined(separator: ", ") + "]}]"
        #expect(Self.lines(peers).contains { $0.hasSuffix("spec.egress[0].to: at most 25 peers are allowed, got 26") })
        let protocols = Self.head + "egress: [{action: Deny, to: [{namespaces: {}}], protocols: ["
            + Array(repeating: "{tcp: {destinationPort: {number: 80}}}", count: 26).joined(separator: ", ") + "]}]"
        #expect(Self.lines(protocols).contains { $0.hasSuffix("spec.egress[0].protocols: at most 25 protocols are allowed, got 26") })
    }

    @Test("an Accept rule's domainNames peer matches nothing, with a warning (an error under --strict)")
    func domainNamesFailClosed() throws {
        let spec = Self.head + "egress: [{action: Accept, to: [{domainNames: [\"*.example.com\"]}, {namespaces: {}}]}]"
        let lines = Self.lines(spec)
        #expect(lines == ["m.yaml:8:48: warning: ClusterNetworkPolicy p: spec.egress[0].to[0].domainNames: domainNames peers cannot be compiled into static rules: this peer matches nothing (the API's fail-closed reading of an Accept rule it cannot enforce)"], "\(lines)")
        #expect(Self.lines(spec, strict: true) == [lines[0].replacingOccurrences(of: "warning: ", with: "")])
        let policy = try #require(loadManifests(Self.cnp(spec)).cluster.adminPolicies.first)
        #expect(policy.egress[0].peers == [.pods(.namespaces(LabelSelector()))])
    }

    @Test("domain names the CRD's pattern admits are read (wildcard prefix, underscore, final dot)",
          arguments: ["*.example.com", "x_y.example.com.", "a.b", "0.example.com"])
    func domainNamesAccepted(_ name: String) {
        let spec = Self.head + "egress: [{action: Accept, to: [{domainNames: [\"\(name)\"]}]}]"
        #expect(Self.lines(spec).allSatisfy { $0.contains("warning:") }, "\(Self.lines(spec))")
        #expect(loadManifests(Self.cnp(spec)).cluster.adminPolicies.count == 1)
    }

    @Test("a peer or protocol with only unknown fields fails closed: nothing in Accept, deny all in Deny and Pass")
    func unknownEntriesFailClosed() throws {
        let accept = Self.head + "egress: [{action: Accept, to: [{serviceAccounts: {}}]}]"
        let acceptPolicy = try #require(loadManifests(Self.cnp(accept)).cluster.adminPolicies.first)
        #expect(acceptPolicy.egress[0].action == .allow)
        #expect(acceptPolicy.egress[0].peers.isEmpty)
        #expect(Self.lines(accept).contains { $0.contains("warning") && $0.contains("spec.egress[0].to[0]: peer sets none of") })
        let everything: [AdminNetworkPolicy.Peer] = [.networks([cidr("0.0.0.0/0"), cidr("::/0")])]
        for action in ["Deny", "Pass"] {
            let spec = Self.head + "ingress: [{action: \(action), from: [{namespaces: {}}], protocols: [{icmp: {type: 8}}]}]"
            let policy = try #require(loadManifests(Self.cnp(spec)).cluster.adminPolicies.first)
            #expect(policy.ingress[0].action == .deny)
            #expect(policy.ingress[0].peers == everything)
            #expect(policy.ingress[0].ports == nil)
        }
        let acceptProtocol = Self.head + "ingress: [{action: Accept, from: [{namespaces: {}}], protocols: [{icmp: {type: 8}}]}]"
        let policy = try #require(loadManifests(Self.cnp(acceptProtocol)).cluster.adminPolicies.first)
        #expect(policy.ingress[0].ports == [])
        let strict = Self.lines(acceptProtocol, strict: true)
        #expect(strict.count == 1 && !strict[0].contains("warning:") && strict[0].contains("protocol sets none of"), "\(strict)")
    }

    @Test("a ClusterNetworkPolicy and an AdminNetworkPolicy of the same name are two objects")
    func namesPerKind() {
        let text = Self.cnp(Self.head) + "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: p}\nspec:\n  priority: 5\n  subject: {namespaces: {}}\n"
        let result = loadManifests(text)
        #expect(result.diagnostics.isEmpty, "\(diagnosticLines(result))")
        #expect(result.cluster.adminPolicies.map(\.kind) == [.adminNetworkPolicy, .clusterNetworkPolicy])
    }
}
