import Foundation
import KubeNFT
import LabKit
import Testing

/// Admin and baseline egress rules apply to a pod's connections to its own node (the input hook),
/// checked with real connections against the table in fixtures/admin-own-node/README.md.
@Suite("Admin policies towards the pod's own node, with real packets", .enabled(if: Environment.labTestsEnabled))
struct AdminOwnNodeLabTests {
    static let nodeV4 = "198.51.100.1"
    /// (pod role, address, answers on 9100, answers on 9200), written from the README's table.
    static let expectations: [(String, String, Bool, Bool)] = [
        ("x-a", "10.244.1.10", false, true),
        ("y-b", "10.244.1.11", true, false),
        ("y-c", "10.244.1.12", true, true),
    ]

    @Test("each pod reaches its node's ports exactly as the admin tiers decide")
    func ownNode() async throws {
        try Environment.ensureKernelLab()
        let fixture = try #require(Fixtures.valid.first { $0.name == "admin-own-node" })
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        let ruleset = try #require(result.ruleset, "admin-own-node must compile: \(result.errors)")
        try await withLab { lab in
            try lab.addNode(addresses: [Self.nodeV4], clientSubnetV4: "198.51.100.0/24", clientSubnetV6: "fd00:198:51:100::/64")
            try lab.serve(in: Lab.node, ServeSpec(name: "node", tcp: [9100, 9200]))
            for (role, address, _, _) in Self.expectations { try lab.addPod(LabPod(name: role, addresses: [address])) }
            try lab.loadRuleset(text: Pipeline.render(ruleset, format: .nft))
            for (role, _, reaches9100, reaches9200) in Self.expectations {
                for (port, expected) in [(9100, reaches9100), (9200, reaches9200)] {
                    let probe = try lab.probe(from: role, to: Self.nodeV4, port: port, count: 2, timeoutMs: 400)
                    #expect((probe.answered == 2) == expected, "\(role) -> node:\(port): \(probe)")
                    #expect(probe.answered == 0 || probe.answered == 2, "\(role) -> node:\(port) flapped: \(probe)")
                }
            }
        }
    }
}
