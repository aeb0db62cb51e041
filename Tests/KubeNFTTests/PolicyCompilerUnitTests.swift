@testable import KubeNFTCompiler
import KubeManifest
import NFTRuleset
import Testing

/// Address arithmetic and NetworkPolicy grouping, checked against brute force and hand-worked cases.
@Suite("NetworkPolicy compiler pieces")
struct PolicyCompilerUnitTests {
    static let here = SourceLocation(file: "test", line: 1, column: 1)

    /// Every address of a small IPv4 range list, enumerated one by one.
    static func members(_ ranges: [AddressRange]) -> Set<UInt128> {
        var result = Set<UInt128>()
        for range in ranges { for value in range.lower...range.upper { result.insert(value) } }
        return result
    }

    @Test("cidr minus except, union and prefix cover agree with brute force", arguments: 0..<30)
    func rangeArithmetic(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(seed) + 100)
        let base = try #require(CIDR("10.0.\(Int.random(in: 0...3, using: &generator)).0/\(Int.random(in: 22...26, using: &generator))"))
        let holes = (0..<Int.random(in: 0...4, using: &generator)).compactMap { _ in
            CIDR("10.0.\(Int.random(in: 0...3, using: &generator)).\(Int.random(in: 0...255, using: &generator))/\(Int.random(in: 24...32, using: &generator))")
        }
        let pieces = AddressRange(base).subtracting(holes.map(AddressRange.init))
        var expected = Self.members([AddressRange(base)])
        expected.subtract(Self.members(holes.map(AddressRange.init)))
        #expect(Self.members(pieces) == expected)
        let prefixes = AddressRange.union(pieces).flatMap(\.prefixes)
        #expect(Self.members(prefixes.map(AddressRange.init)) == expected)
        for (first, second) in zip(prefixes, prefixes.dropFirst()) {
            #expect(AddressRange(first).upper < AddressRange(second).lower, "prefixes must not overlap: \(first) \(second)")
        }
    }

    @Test("an IPv6 block minus a pod address leaves every other address")
    func ipv6Except() throws {
        let block = try #require(CIDR("fd00:10:244:1::/64"))
        let pod = try #require(IPAddress("fd00:10:244:1::12"))
        let pieces = AddressRange(block).subtracting([AddressRange(pod)])
        #expect(pieces.count == 2)
        #expect(pieces[0].upperAddress == IPAddress("fd00:10:244:1::11"))
        #expect(pieces[1].lowerAddress == IPAddress("fd00:10:244:1::13"))
        #expect(pieces[1].upperAddress == IPAddress("fd00:10:244:1:ffff:ffff:ffff:ffff"))
    }

    static func pod(_ namespace: String, _ name: String, _ ip: String, labels: [String: String], ports: [Pod.ContainerPort] = [],
                    node: String = "node-1") -> Pod {
        Pod(meta: ObjectMeta(name: name, namespace: namespace, labels: labels, location: here), nodeName: node,
            podIPs: [IPAddress(ip)!], containerPorts: ports)
    }

    static func cluster(policies: [NetworkPolicy]) -> Cluster {
        var cluster = Cluster()
        cluster.namespaces = ["x", "y"].map { Namespace(meta: ObjectMeta(name: $0, labels: ["ns": $0], location: here)) }
        cluster.pods = [
            pod("x", "a", "10.0.0.1", labels: ["pod": "a"], ports: [.init(name: "web", port: 8080)]),
            pod("x", "b", "10.0.0.2", labels: ["pod": "b"], ports: [.init(name: "web", port: 9090)]),
            pod("y", "a", "10.0.1.1", labels: ["pod": "a"], ports: [.init(name: "web", port: 8080)]),
            pod("y", "remote", "10.0.1.9", labels: ["pod": "r"], node: "node-2"),
        ]
        cluster.networkPolicies = policies
        return cluster
    }

    static func rulesText(_ cluster: Cluster, node: String? = "node-1") -> String {
        let result = KubeNFTCompiler.compile(cluster, context: NodeContext(nodeName: node))
        return NFTTextEmitter().emit(result.ruleset)
    }

    @Test("a named port resolves per destination pod, so pods with different numbers get different chains")
    func namedPortsSplitGroups() {
        let policy = NetworkPolicy(meta: ObjectMeta(name: "web", namespace: "x", location: Self.here), podSelector: LabelSelector(),
                                   ingress: [.init(ports: [.init(port: .name("web"))], location: Self.here)])
        let text = Self.rulesText(Self.cluster(policies: [policy]))
        #expect(text.contains("meta l4proto tcp th dport 8080 return"))
        #expect(text.contains("meta l4proto tcp th dport 9090 return"))
        #expect(text.components(separatedBy: "chain np-in-x/web/ports/").count == 3, "one chain per port layout")
    }

    @Test("ports that resolve to nothing allow nothing (never everything)")
    func unresolvedNamedPortAllowsNothing() {
        let policy = NetworkPolicy(meta: ObjectMeta(name: "p", namespace: "x", location: Self.here), podSelector: LabelSelector(),
                                   ingress: [.init(ports: [.init(port: .name("missing"))], location: Self.here)])
        let text = Self.rulesText(Self.cluster(policies: [policy]))
        let chain = text.components(separatedBy: "chain np-in-x/p").dropFirst().first ?? ""
        let body = chain.components(separatedBy: "}").first ?? ""
        #expect(!body.contains("return"), "\(body)")
        #expect(body.contains("drop"))
    }

    @Test("only pods on this node are enforced; without a node name every pod is")
    func enforcementFollowsTheNode() {
        let policy = NetworkPolicy(meta: ObjectMeta(name: "deny", namespace: "y", location: Self.here), podSelector: LabelSelector(), ingress: [])
        let local = Self.rulesText(Self.cluster(policies: [policy]))
        #expect(local.contains("10.0.1.1 comment \"y/a\" : jump"))
        #expect(!local.contains("10.0.1.9 comment"))
        let everywhere = Self.rulesText(Self.cluster(policies: [policy]), node: nil)
        #expect(everywhere.contains("10.0.1.9 comment \"y/remote\" : jump"))
    }

    @Test("egress rules without policyTypes isolate both directions; equal peer lists share one set")
    func defaultingAndSharedSets() {
        let peer = NetworkPolicy.Peer(namespaceSelector: LabelSelector(matchLabels: ["ns": "y"]))
        let first = NetworkPolicy(meta: ObjectMeta(name: "one", namespace: "x", location: Self.here), podSelector: LabelSelector(),
                                  egress: [.init(peers: [peer], location: Self.here)])
        let second = NetworkPolicy(meta: ObjectMeta(name: "two", namespace: "x", location: Self.here),
                                   podSelector: LabelSelector(matchLabels: ["pod": "a"]), ingress: [.init(peers: [peer], location: Self.here)])
        let text = Self.rulesText(Self.cluster(policies: [first, second]))
        #expect(text.contains("chain np-out-x/one {"))
        // Defaulting always includes Ingress, so x/a is ingress-isolated by both policies, x/b by one.
        #expect(text.contains("chain np-in-x/one/x/two {"))
        #expect(text.contains("chain np-in-x/one {"))
        let sets = text.components(separatedBy: "\tset np-addrs4-").count - 1
        #expect(sets == 1, "the y namespace peers appear once as a set")
    }
}
