import Foundation
import LabKit
import NFTNetlink
import Testing

/// Real packets through a ruleset loaded over netlink into the lab's node namespace (as
/// `kubenft apply --netns` does), using the `lab-services` golden case.
@Suite("Services with real packets after a netlink apply", .enabled(if: Environment.labTestsEnabled))
struct NetlinkLabTests {
    static let nodeV4 = "198.51.100.1"

    static func withLab(_ tag: String = #function, _ body: (Lab) throws -> Void) async throws {
        try await LabKit.withLab(tag: tag) { lab in
            try lab.addNode(addresses: [nodeV4, "fd00:198:51:100::1"], clientSubnetV4: "198.51.100.0/24",
                            clientSubnetV6: "fd00:198:51:100::/64")
            for (name, v4, v6) in [("web-a", "10.244.1.10", "fd00:10:244:1::10"), ("web-b", "10.244.1.11", "fd00:10:244:1::11"),
                                   ("web-c", "10.244.1.12", "fd00:10:244:1::12")] {
                try lab.addPod(LabPod(name: name, addresses: [v4, v6]), serve: ServeSpec(tcp: [8080], udp: [8080], sctp: []))
            }
            try lab.addPod(LabPod(name: "client-pod", addresses: ["10.244.1.50", "fd00:10:244:1::50"]))
            try lab.addClient(name: "outside", addresses: ["198.51.100.10"])
            let node = try #require(lab.namespaceName(of: Lab.node))
            let ruleset = try #require(GoldenCases.named("lab-services")).compile()
            let outcome = try RulesetApplier(transport: try NetlinkTransport(namespace: node)).apply(ruleset)
            #expect(outcome.mode == .created)
            try body(lab)
        }
    }

    @Test("a weighted ClusterIP splits connections 40/40/20")
    func weightedClusterIP() async throws {
        try await Self.withLab { lab in
            let result = try lab.probe(from: "client-pod", to: "10.96.0.10", port: 80, count: 400)
            #expect(result.answered == 400, "\(result)")
            let total = Double(result.replies.values.reduce(0, +))
            let shares = ["web-a": 0.4, "web-b": 0.4, "web-c": 0.2]
            let chiSquare = shares.reduce(0.0) { sum, entry in
                let expected = total * entry.value
                let observed = Double(result.replies[entry.key] ?? 0)
                return sum + (observed - expected) * (observed - expected) / expected
            }
            // 99.9th percentile of chi-square with 2 degrees of freedom.
            #expect(chiSquare < 13.82, "observed \(result.replies), chi-square \(chiSquare)")
        }
    }

    @Test("a NodePort answers an external client on the node's address")
    func nodePort() async throws {
        try await Self.withLab { lab in
            let result = try lab.probe(from: "outside", to: Self.nodeV4, port: 30080, count: 30)
            #expect(result.answered == 30, "\(result)")
            #expect(result.repliers.isSubset(of: ["web-a", "web-b"]) && result.repliers.count == 2, "\(result)")
        }
    }
}
