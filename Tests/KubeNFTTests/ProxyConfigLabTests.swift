import Foundation
import KubeNFT
import LabKit
import Testing

/// Real packets through rules compiled with a KubeProxyConfiguration and ServiceCIDRs: the
/// `lab-services` cluster, recompiled with each setting and reloaded into the same lab.
@Suite("Node context with real packets", .enabled(if: Environment.labTestsEnabled))
struct ProxyConfigLabTests {
    static let backends = ["web-a", "web-b", "web-c"]

    /// lab-services compiled with `config` (a KubeProxyConfiguration body) and extra ServiceCIDRs.
    static func ruleset(config: String?, serviceCIDRs: [String] = []) throws -> String {
        let fixture = try #require(Fixtures.valid.first { $0.name == "lab-services" })
        var options = fixture.nodeOptions
        options.serviceCIDRs = serviceCIDRs
        var file: URL?
        if let config {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("kubeproxy-\(UUID().uuidString).yaml")
            try ("apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n" + config)
                .write(to: url, atomically: true, encoding: .utf8)
            options.configPath = url.path
            file = url
        }
        defer { if let file { try? FileManager.default.removeItem(at: file) } }
        let result = Pipeline.run(paths: [fixture.manifests], node: options)
        let ruleset = try #require(result.ruleset, "must compile: \(result.errors)")
        return Pipeline.render(ruleset, format: .nft)
    }

    /// Counts, in every backend pod, new connections to 8080 per source address the backend sees.
    static func watchSources(_ lab: Lab, _ sources: [String]) throws {
        let rules = sources.map { "\t\ttcp dport 8080 ct state new ip saddr \($0) counter\n" }.joined()
        let table = "table inet seen\ndelete table inet seen\ntable inet seen {\n\tchain input {\n"
            + "\t\ttype filter hook input priority 0; policy accept;\n" + rules + "\t}\n}\n"
        for pod in backends { try lab.loadRuleset(text: table, into: pod) }
    }

    /// New connections the backends saw from `source` itself, i.e. not masqueraded.
    static func seenFrom(_ lab: Lab, _ source: String) throws -> Int {
        try backends.reduce(0) { sum, pod in
            let listing = try lab.run(in: pod, ["nft", "list", "table", "inet", "seen"]).stdout
            guard let line = listing.split(separator: "\n").first(where: { $0.contains("saddr \(source) ") }),
                  let range = line.range(of: "packets ") else { return sum }
            return sum + (Int(line[range.upperBound...].prefix { $0.isNumber }) ?? 0)
        }
    }

    /// True when `count` connections from `role` (address `source`) to lab/even reached a backend
    /// with their source rewritten, false when they kept it.
    static func masqueraded(_ lab: Lab, from role: String, source: String, count: Int = 6) throws -> Bool {
        try watchSources(lab, ["10.244.1.50", "10.244.2.60", "198.51.100.10"])
        let result = try lab.probe(from: role, to: "10.96.0.11", port: 80, count: count)
        #expect(result.answered == count, "\(role): \(result)")
        let kept = try seenFrom(lab, source)
        #expect(kept == 0 || kept == count, "\(role): \(kept) of \(count) kept their source")
        return kept == 0
    }

    @Test("each detectLocalMode masquerades, to a ClusterIP, exactly the sources it does not count as local pods")
    func detectLocalModes() async throws {
        // client-pod (10.244.1.50) is in node-1's pod CIDR, far-pod (10.244.2.60) only in the cluster CIDR;
        // both arrive on a pod interface knpN. The outside client arrives on the bridge kn-ext.
        let modes: [(name: String, config: String, client: Bool, far: Bool, outside: Bool)] = [
            ("ClusterCIDR", "clusterCIDR: 10.244.0.0/16\n", false, false, true),
            ("NodeCIDR", "clusterCIDR: 10.244.0.0/16\ndetectLocalMode: NodeCIDR\n", false, true, true),
            ("InterfaceNamePrefix", "detectLocalMode: InterfaceNamePrefix\ndetectLocal: {interfaceNamePrefix: knp}\n", false, false, true),
            // Naming the clients' bridge inverts the roles: that is what an iifname match on it does.
            ("BridgeInterface", "detectLocalMode: BridgeInterface\ndetectLocal: {bridgeInterface: kn-ext}\n", true, true, false),
        ]
        try await ServiceLabTests.withServiceLab { lab in
            try lab.addPod(LabPod(name: "far-pod", addresses: ["10.244.2.60"]))
            for mode in modes {
                try lab.loadRuleset(text: try Self.ruleset(config: mode.config))
                #expect(try Self.masqueraded(lab, from: "client-pod", source: "10.244.1.50") == mode.client, "\(mode.name) client-pod")
                #expect(try Self.masqueraded(lab, from: "far-pod", source: "10.244.2.60") == mode.far, "\(mode.name) far-pod")
                #expect(try Self.masqueraded(lab, from: "outside", source: "198.51.100.10") == mode.outside, "\(mode.name) outside")
            }
        }
    }

    @Test("NodePorts answer on the primary address by default, on listed addresses otherwise, never on loopback")
    func nodePortAddresses() async throws {
        try await ServiceLabTests.withServiceLab { lab in
            let added = try lab.run(in: Lab.node, ["ip", "addr", "add", "198.51.100.2/24", "dev", Lab.externalBridge])
            #expect(added.status == 0, "\(added)")
            func answers(_ role: String, _ address: String) throws -> Bool {
                let result = try lab.probe(from: role, to: address, port: 30080, count: 3, timeoutMs: 1000)
                #expect(result.answered == 3 || result.refused + result.unreachable == 3, "\(address): \(result)")
                return result.answered == 3
            }
            try lab.loadRuleset(text: try Self.ruleset(config: nil))
            #expect(try answers("outside", "198.51.100.1"), "primary: the Node's InternalIP")
            #expect(try !answers("outside", "198.51.100.2"), "primary: not another local address")
            try lab.loadRuleset(text: try Self.ruleset(config: "nodePortAddresses: [198.51.100.2/32]\n"))
            #expect(try answers("outside", "198.51.100.2"))
            #expect(try !answers("outside", "198.51.100.1"))
            try lab.loadRuleset(text: try Self.ruleset(config: "nodePortAddresses: [127.0.0.0/8, 198.51.100.0/24]\n"))
            #expect(try answers("outside", "198.51.100.1") && answers("outside", "198.51.100.2"))
            #expect(try !answers(Lab.node, "127.0.0.1"), "listed loopback still gets no NodePort")
        }
    }

    @Test("a packet to an unallocated address in a ServiceCIDR is dropped while allocated ClusterIPs work")
    func serviceCIDRDrop() async throws {
        try await ServiceLabTests.withServiceLab { lab in
            // A host that owns 10.96.0.99 on the clients' bridge: without the ServiceCIDR rule the
            // address is reachable, so a timeout with it can only be the drop.
            try lab.addClient(name: "sink", addresses: ["198.51.100.30", "10.96.0.99"])
            try lab.serve(in: "sink", ServeSpec(name: "sink", tcp: [80]))
            try lab.loadRuleset(text: try Self.ruleset(config: nil))
            let before = try lab.probe(from: "client-pod", to: "10.96.0.99", port: 80, count: 3)
            #expect(before.replies == ["sink": 3], "\(before)")
            try lab.loadRuleset(text: try Self.ruleset(config: nil, serviceCIDRs: ["10.96.0.0/16", "fd00:10:96::/112"]))
            let dropped = try lab.probe(from: "client-pod", to: "10.96.0.99", port: 80, count: 2, timeoutMs: 500)
            #expect(dropped.answered == 0 && dropped.timeout == 2, "\(dropped)")
            let fromNode = try lab.probe(from: Lab.node, to: "10.96.0.99", port: 80, count: 2, timeoutMs: 500)
            #expect(fromNode.answered == 0 && fromNode.timeout == 2, "\(fromNode)")
            let allocated = try lab.probe(from: "client-pod", to: "10.96.0.11", port: 80, count: 10)
            #expect(allocated.answered == 10, "\(allocated)")
            let v6 = try lab.probe(from: "client-pod", to: "fd00:10:96::10", port: 80, count: 5)
            #expect(v6.answered == 5, "\(v6)")
        }
    }
}
