import Foundation
import LabKit
import Testing

/// Stale UDP conntrack entries after `kubenft apply`, with real datagrams: a client keeps one flow
/// (the same source port) to a Service while its endpoint is replaced or its NodePort moves.
/// Each case also runs with `--no-conntrack-cleanup`, where the flow must still reach the old
/// place, so the test shows that the cleanup is what changes it.
@Suite("conntrack cleanup on apply, with real datagrams", .enabled(if: Environment.labTestsEnabled))
struct ConntrackLabTests {
    static let nodeV4 = "198.51.100.1"

    /// The `kubenft` executable built beside the test bundle.
    static func binary() throws -> String {
        try AgentLocator.builtProduct("kubenft")
    }

    /// A NodePort Service `lab/dns` (UDP 53 → 8080 on ClusterIP 10.96.0.53) whose one endpoint is `endpoint`.
    static func manifests(endpoint: String, nodePort: Int) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: dns, namespace: lab}
        spec:
          type: NodePort
          clusterIP: 10.96.0.53
          clusterIPs: [10.96.0.53]
          ports:
          - {name: dns, port: 53, targetPort: 8080, protocol: UDP, nodePort: \(nodePort)}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: dns-v4
          namespace: lab
          labels: {kubernetes.io/service-name: dns}
        addressType: IPv4
        endpoints:
        - addresses: ["\(endpoint)"]
          conditions: {ready: true, serving: true, terminating: false}
        ports:
        - {name: dns, port: 8080, protocol: UDP}

        """
    }

    /// Applies the manifests to the lab's node with the CLI; returns its standard output.
    static func apply(_ lab: Lab, _ text: String, _ extra: [String] = []) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kn-ct-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("cluster.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let node = try #require(lab.namespaceName(of: Lab.node))
        let result = try Command.run([try binary(), "apply", "--netns", node, "--no-state", "-f", file.path,
                                      "--node-ip", nodeV4, "--cluster-cidr", "10.244.0.0/16"] + extra)
        guard result.status == 0 else {
            throw Namespaces.Failure(description: "kubenft apply exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    static func withLab(_ tag: String = #function, _ body: (Lab) throws -> Void) async throws {
        try await LabKit.withLab(tag: tag) { lab in
            try lab.addNode(addresses: [nodeV4, "fd00:198:51:100::1"], clientSubnetV4: "198.51.100.0/24",
                            clientSubnetV6: "fd00:198:51:100::/64")
            for (name, v4, v6) in [("web-a", "10.244.1.10", "fd00:10:244:1::10"), ("web-b", "10.244.1.11", "fd00:10:244:1::11")] {
                try lab.addPod(LabPod(name: name, addresses: [v4, v6]), serve: ServeSpec(tcp: [], udp: [8080], sctp: []))
            }
            try lab.addPod(LabPod(name: "client-pod", addresses: ["10.244.1.50", "fd00:10:244:1::50"]))
            try lab.addClient(name: "outside", addresses: ["198.51.100.10"])
            try body(lab)
        }
    }

    /// The replier of one datagram from `role` on the fixed source port (nil: no answer).
    static func send(_ lab: Lab, from role: String, to address: String, port: Int) throws -> String? {
        let result = try lab.probe(from: role, to: address, port: port, proto: .udp, count: 1, timeoutMs: 700, sourcePort: 40053)
        return result.replies.keys.sorted().first
    }

    @Test("a ClusterIP flow moves to the new endpoint after the apply removes the old one", arguments: [true, false])
    func clusterIPEndpointReplaced(cleanup: Bool) async throws {
        try await Self.withLab { lab in
            _ = try Self.apply(lab, Self.manifests(endpoint: "10.244.1.10", nodePort: 30053))
            for _ in 0..<3 { #expect(try Self.send(lab, from: "client-pod", to: "10.96.0.53", port: 53) == "web-a") }
            let output = try Self.apply(lab, Self.manifests(endpoint: "10.244.1.11", nodePort: 30053),
                                        cleanup ? [] : ["--no-conntrack-cleanup"])
            if cleanup {
                #expect(output.contains("removed 1 stale UDP conntrack entry"), "\(output)")
                #expect(try Self.send(lab, from: "client-pod", to: "10.96.0.53", port: 53) == "web-b")
            } else {
                #expect(!output.contains("conntrack"), "\(output)")
                // The old flow still goes to the endpoint the Service no longer has.
                #expect(try Self.send(lab, from: "client-pod", to: "10.96.0.53", port: 53) == "web-a")
            }
        }
    }

    @Test("a NodePort flow stops reaching the endpoint after the apply moves the NodePort", arguments: [true, false])
    func nodePortChanged(cleanup: Bool) async throws {
        try await Self.withLab { lab in
            _ = try Self.apply(lab, Self.manifests(endpoint: "10.244.1.10", nodePort: 30053))
            for _ in 0..<3 { #expect(try Self.send(lab, from: "outside", to: Self.nodeV4, port: 30053) == "web-a") }
            let dryRun = try Self.apply(lab, Self.manifests(endpoint: "10.244.1.10", nodePort: 30054),
                                        ["--dry-run"] + (cleanup ? [] : ["--no-conntrack-cleanup"]))
            #expect(dryRun.contains("would remove 1 stale UDP conntrack entry") == cleanup, "\(dryRun)")
            let output = try Self.apply(lab, Self.manifests(endpoint: "10.244.1.10", nodePort: 30054),
                                        cleanup ? [] : ["--no-conntrack-cleanup"])
            #expect(output.contains("removed 1 stale UDP conntrack entry") == cleanup, "\(output)")
            let old = try Self.send(lab, from: "outside", to: Self.nodeV4, port: 30053)
            #expect(old == (cleanup ? nil : "web-a"), "old NodePort answered by \(old ?? "nobody")")
            #expect(try lab.probe(from: "outside", to: Self.nodeV4, port: 30054, proto: .udp, count: 1).repliers == ["web-a"])
        }
    }
}
