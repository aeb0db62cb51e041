import KubeManifest
import KubeNFTCompiler
import NFTRuleset
import Testing

/// Topology hints narrow cluster-wide endpoints exactly as kube-proxy's `CategorizeEndpoints` does
/// (cases after upstream's pkg/proxy/topology_test.go). Expectations are written by hand from those
/// rules: which of the endpoints .1 (zone a, node-a), .2 (zone a, node-x), .3 (zone b, node-b) a node
/// in zone a named node-a sends cluster traffic to.
@Suite("Topology-aware endpoint choice")
struct TopologyTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        /// Per endpoint .1, .2, .3: `hints:` YAML (or "" for none) and whether it is ready.
        var hints: [String]
        var ready: [Bool] = [true, true, true]
        var nodeLabels = "topology.kubernetes.io/zone: zone-a"
        var expected: Set<Int>
    }

    static let zoneHints = ["{forZones: [{name: zone-a}]}", "{forZones: [{name: zone-a}]}", "{forZones: [{name: zone-b}]}"]
    static let nodeAndZoneHints = ["{forZones: [{name: zone-a}], forNodes: [{name: node-a}]}",
                                   "{forZones: [{name: zone-a}], forNodes: [{name: node-x}]}",
                                   "{forZones: [{name: zone-b}], forNodes: [{name: node-b}]}"]

    static let cases: [Case] = [
        Case(description: "no hints: every endpoint", hints: ["", "", ""], expected: [1, 2, 3]),
        Case(description: "zone hints on all: the node's zone", hints: zoneHints, expected: [1, 2]),
        Case(description: "one ready endpoint without hints: every endpoint", hints: [zoneHints[0], zoneHints[1], ""], expected: [1, 2, 3]),
        Case(description: "a not-ready endpoint without hints does not count", hints: [zoneHints[0], zoneHints[1], ""],
             ready: [true, true, false], expected: [1, 2]),
        Case(description: "no hint for the node's zone: every endpoint",
             hints: ["{forZones: [{name: zone-b}]}", "{forZones: [{name: zone-c}]}", zoneHints[2]], expected: [1, 2, 3]),
        Case(description: "node without a zone label: every endpoint", hints: zoneHints, nodeLabels: "other: x", expected: [1, 2, 3]),
        Case(description: "node hints on all, one for this node: same node", hints: nodeAndZoneHints, expected: [1]),
        Case(description: "node hints on all, none for this node: falls back to zone hints",
             hints: [zoneHints[0].replacingOccurrences(of: "}]}", with: "}], forNodes: [{name: node-y}]}"), nodeAndZoneHints[1], nodeAndZoneHints[2]],
             expected: [1, 2]),
        Case(description: "the node's zone has only not-ready endpoints: their serving, terminating ones are not used",
             hints: zoneHints, ready: [false, false, true], expected: [3]),
    ]

    static func manifests(_ testCase: Case) -> String {
        var endpoints = ""
        let nodes = ["node-a", "node-x", "node-b"]
        for index in 0..<3 {
            let hints = testCase.hints[index].isEmpty ? "" : ", hints: \(testCase.hints[index])"
            endpoints += "- {addresses: [10.244.0.\(index + 1)], nodeName: \(nodes[index]), conditions: {ready: \(testCase.ready[index])}\(hints)}\n"
        }
        return """
        apiVersion: v1
        kind: Node
        metadata: {name: node-a, labels: {\(testCase.nodeLabels)}}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {clusterIP: 10.96.0.50, selector: {app: web}, ports: [{port: 80}]}
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        ports: [{port: 80, protocol: TCP}]
        endpoints:
        \(endpoints)
        """
    }

    @Test("cluster traffic goes to the endpoints kube-proxy would pick", arguments: cases)
    func clusterEndpoints(_ testCase: Case) throws {
        let loaded = loadManifests(Self.manifests(testCase))
        #expect(loaded.diagnostics == [], "\(loaded.diagnostics)")
        let ruleset = KubeNFTCompiler.compile(loaded.cluster, context: NodeContext(nodeName: "node-a")).ruleset
        let text = NFTTextEmitter().emit(ruleset)
        // A backend is a cascade rule (weighted shapes) or an address-map element (equal shares).
        let used = Set((1...3).filter { n in
            text.contains("dnat ip to 10.244.0.\(n):80") || text.contains(": 10.244.0.\(n),\n") || text.contains(": 10.244.0.\(n)\n")
        })
        #expect(used == testCase.expected, "\(testCase)")
    }
}
