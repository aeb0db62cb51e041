import Foundation
import KubeNFT
import LabKit
import NFTRuleset
import Testing

/// Real packets through the compiled Service rules: the `lab-services` fixture is compiled, loaded
/// into a node namespace, and pods and external clients connect through it.
@Suite("Services with real packets", .enabled(if: Environment.labTestsEnabled))
struct ServiceLabTests {
    static let nodeV4 = "198.51.100.1"
    static let pods: [(name: String, v4: String, v6: String)] = [
        ("web-a", "10.244.1.10", "fd00:10:244:1::10"),
        ("web-b", "10.244.1.11", "fd00:10:244:1::11"),
        ("web-c", "10.244.1.12", "fd00:10:244:1::12"),
    ]

    /// Builds the node, the three server pods, a client pod and two external clients, and loads the
    /// compiled ruleset into the node.
    static func withServiceLab(_ tag: String = #function, _ body: (Lab) throws -> Void) async throws {
        try await withLab(tag: tag) { lab in
            try lab.addNode(addresses: [nodeV4, "fd00:198:51:100::1"], clientSubnetV4: "198.51.100.0/24",
                            clientSubnetV6: "fd00:198:51:100::/64")
            let sctp = Environment.sctpAvailable ? [8080] : []
            for pod in pods {
                try lab.addPod(LabPod(name: pod.name, addresses: [pod.v4, pod.v6]), serve: ServeSpec(tcp: [8080], udp: [8080], sctp: sctp))
            }
            try lab.addPod(LabPod(name: "client-pod", addresses: ["10.244.1.50", "fd00:10:244:1::50"]))
            try lab.addClient(name: "outside", addresses: ["198.51.100.10"])
            try lab.addClient(name: "blocked", addresses: ["198.51.100.20"])
            try RulesetForm.current.load(try compiledIR(), into: lab)
            try body(lab)
        }
    }

    static func compiledIR() throws -> Ruleset {
        let fixture = try #require(Fixtures.valid.first { $0.name == "lab-services" })
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, shape: RulesetForm.current.shape)
        return try #require(result.ruleset, "lab-services must compile: \(result.errors)")
    }

    /// Pearson's chi-square statistic of observed counts against expected shares.
    static func chiSquare(_ replies: [String: Int], expected shares: [String: Double]) -> Double {
        let total = Double(replies.values.reduce(0, +))
        return shares.reduce(0.0) { sum, entry in
            let expected = total * entry.value
            let observed = Double(replies[entry.key] ?? 0)
            return sum + (observed - expected) * (observed - expected) / expected
        }
    }

    @Test("a weighted ClusterIP splits connections 40/40/20 over IPv4 and reaches every endpoint over IPv6")
    func weightedClusterIP() async throws {
        try await Self.withServiceLab { lab in
            let result = try lab.probe(from: "client-pod", to: "10.96.0.10", port: 80, count: 400)
            #expect(result.answered == 400, "\(result)")
            #expect(Set(result.replies.keys).isSubset(of: ["web-a", "web-b", "web-c"]))
            // 99.99th percentile of chi-square with 2 degrees of freedom (the check runs once per backend).
            let statistic = Self.chiSquare(result.replies, expected: ["web-a": 0.4, "web-b": 0.4, "web-c": 0.2])
            #expect(statistic < 18.42, "observed \(result.replies), chi-square \(statistic)")
            let v6 = try lab.probe(from: "client-pod", to: "fd00:10:96::10", port: 80, count: 60)
            #expect(v6.answered == 60, "\(v6)")
            #expect(v6.repliers == ["web-a", "web-b", "web-c"], "\(v6)")
        }
    }

    @Test("equal shares over UDP, and every endpoint reached over TCP")
    func equalSharesUDPAndTCP() async throws {
        try await Self.withServiceLab { lab in
            let udp = try lab.probe(from: "client-pod", to: "10.96.0.11", port: 80, proto: .udp, count: 300)
            #expect(udp.answered == 300, "\(udp)")
            let statistic = Self.chiSquare(udp.replies, expected: ["web-a": 1.0 / 3, "web-b": 1.0 / 3, "web-c": 1.0 / 3])
            // 99.999th percentile with 2 degrees of freedom: this check runs on every backend of every
            // suite run, so a looser bound would fail a correct ruleset every few hundred runs; a
            // backend left out or doubled still gives a statistic in the hundreds.
            #expect(statistic < 23.03, "observed \(udp.replies), chi-square \(statistic)")
            let tcp = try lab.probe(from: "client-pod", to: "10.96.0.11", port: 80, count: 60)
            #expect(tcp.repliers == ["web-a", "web-b", "web-c"], "\(tcp)")
        }
    }

    @Test("ports with different endpoints, and two Services on one externalIP, each reach exactly their own endpoints")
    func portsThatCannotShareAddressElements() async throws {
        try await Self.withServiceLab { lab in
            let cases: [(from: String, to: String, port: Int, expected: Set<String>)] = [
                ("client-pod", "10.96.0.14", 80, ["web-a", "web-b"]),
                ("client-pod", "10.96.0.14", 81, ["web-c"]),
                ("outside", "203.0.113.30", 80, ["web-a", "web-b"]),
                ("outside", "203.0.113.30", 81, ["web-c"]),
                ("outside", "203.0.113.30", 82, ["web-a"]),
            ]
            for probe in cases {
                let result = try lab.probe(from: probe.from, to: probe.to, port: probe.port, count: 40)
                #expect(result.answered == 40 && result.repliers == probe.expected, "\(probe): \(result)")
            }
        }
    }

    @Test("a NodePort answers an external client on the node's address")
    func nodePortFromOutside() async throws {
        try await Self.withServiceLab { lab in
            let result = try lab.probe(from: "outside", to: Self.nodeV4, port: 30080, count: 30)
            #expect(result.answered == 30, "\(result)")
            #expect(result.repliers.isSubset(of: ["web-a", "web-b"]) && result.repliers.count == 2, "\(result)")
        }
    }

    @Test("loadBalancerSourceRanges admit the listed client and drop the other; the NodePort stays open")
    func loadBalancerSourceRanges() async throws {
        try await Self.withServiceLab { lab in
            let allowed = try lab.probe(from: "outside", to: "203.0.113.10", port: 80, count: 10)
            #expect(allowed.answered == 10, "\(allowed)")
            let denied = try lab.probe(from: "blocked", to: "203.0.113.10", port: 80, count: 2, timeoutMs: 400)
            #expect(denied.answered == 0 && denied.timeout == 2, "\(denied)")
            let nodePort = try lab.probe(from: "blocked", to: Self.nodeV4, port: 30081, count: 5)
            #expect(nodePort.answered == 5, "\(nodePort)")
        }
    }

    @Test("a service without endpoints, and an undefined port on a ClusterIP, are refused at once")
    func rejectIsFast() async throws {
        try await Self.withServiceLab { lab in
            // Few attempts: the kernel rate-limits ICMP errors to one peer after a burst of six.
            let empty = try lab.probe(from: "client-pod", to: "10.96.0.20", port: 80, count: 3, timeoutMs: 2000)
            #expect(empty.refused + empty.unreachable == 3, "\(empty)")
            #expect(empty.elapsedMs < 1000, "a refusal must not wait for a timeout: \(empty)")
            let undefined = try lab.probe(from: "client-pod", to: "10.96.0.10", port: 81, count: 2, timeoutMs: 2000)
            #expect(undefined.refused + undefined.unreachable == 2, "\(undefined)")
            #expect(undefined.elapsedMs < 1000, "\(undefined)")
        }
    }

    @Test("ClientIP session affinity keeps a client on one endpoint")
    func sessionAffinity() async throws {
        try await Self.withServiceLab { lab in
            let result = try lab.probe(from: "client-pod", to: "10.96.0.30", port: 80, count: 60)
            #expect(result.answered == 60, "\(result)")
            #expect(result.repliers.count == 1, "affinity must pin the client: \(result)")
            let outside = try lab.probe(from: "outside", to: "10.96.0.30", port: 80, count: 30)
            #expect(outside.answered == 30 && outside.repliers.count == 1, "\(outside)")
        }
    }

    @Test("externalTrafficPolicy Local drops external traffic on a node without local endpoints; pods still connect")
    func externalTrafficPolicyLocal() async throws {
        try await Self.withServiceLab { lab in
            let external = try lab.probe(from: "outside", to: Self.nodeV4, port: 30090, count: 2, timeoutMs: 400)
            #expect(external.answered == 0 && external.timeout == 2, "\(external)")
            let fromPod = try lab.probe(from: "client-pod", to: "10.96.0.40", port: 80, count: 5)
            #expect(fromPod.replies == ["web-c": 5], "\(fromPod)")
        }
    }

    @Test("an endpoint reaching its own service comes back to itself (hairpin), and the node reaches ClusterIPs")
    func hairpinAndNodeTraffic() async throws {
        try await Self.withServiceLab { lab in
            let hairpin = try lab.probe(from: "web-a", to: "10.96.0.11", port: 80, count: 60)
            #expect(hairpin.answered == 60, "\(hairpin)")
            #expect(hairpin.repliers.contains("web-a"), "\(hairpin)")
            let node = try lab.probe(from: Lab.node, to: "10.96.0.11", port: 80, count: 30)
            #expect(node.answered == 30, "\(node)")
        }
    }
}
