import Foundation
import KubeManifest
@testable import KubeNFT
import NFTTrace
import Testing

/// `diff` and `matrix` beyond pod pairs: the node, outside address classes and the service entry
/// points outside clients use; reasons named from the traced rule comments; both sides of
/// dual-stack Services. Expected results are derived by hand in each fixture's README.
@Suite("Peers outside the pods")
struct OutsidePeerTests {
    static let diffs = Fixtures.root + "/diff"

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "kubenft-outside-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a new egress rule to 0.0.0.0/0 port 443 is a newly allowed connection, and --fail-on added exits 1")
    func egressToTheWorld() throws {
        let base = Self.diffs + "/egress-world-443"
        let arguments = ["diff", "--from", base + "/before", "--to", base + "/after", "--cluster-cidr", "10.244.0.0/16", "--fail-on", "added"]
        let result = try CLITests.run(arguments + ["--output", "json"])
        #expect(result.status == 1, "\(result.stderr)")
        let expected = #"{"allowed": [{"from": "shop/web[Deployment]", "to": "outside:0.0.0.0/0 except 10.0.0.0/8", "port": 443, "portRange": {"first": 443, "last": 443}, "protocol": "tcp", "reason": "egress: shop/web-https-out egress[0]"}], "blocked": []}"#
        #expect(result.stdout.contains(#""connectivity": "# + expected), "\(result.stdout)")
        let back = try CLITests.run(["diff", "--from", base + "/after", "--to", base + "/before", "--cluster-cidr", "10.244.0.0/16", "--fail-on", "added"])
        #expect(back.status == 0, "removing the rule allows nothing new")
        #expect(back.stdout.contains("- blocked  shop/web[Deployment] -> outside:0.0.0.0/0 except 10.0.0.0/8 tcp/443\n"))
    }

    @Test("--explain prints the deciding rule in text and markdown; csv always carries it")
    func explainedOutputs() throws {
        let base = Self.diffs + "/egress-world-443"
        let arguments = ["diff", "--from", base + "/before", "--to", base + "/after", "--cluster-cidr", "10.244.0.0/16"]
        let text = try CLITests.run(arguments + ["--explain"])
        #expect(text.stdout.contains("+ allowed  shop/web[Deployment] -> outside:0.0.0.0/0 except 10.0.0.0/8 tcp/443\n      because egress: shop/web-https-out egress[0]\n"))
        let plain = try CLITests.run(arguments)
        #expect(!plain.stdout.contains("because"))
        let markdown = try CLITests.run(arguments + ["--output", "markdown", "--explain"])
        #expect(markdown.stdout.contains("| :warning: allowed | `shop/web[Deployment]` | `outside:0.0.0.0/0 except 10.0.0.0/8` | tcp/443 | `egress: shop/web-https-out egress[0]` |\n"))
        let csv = try CLITests.run(arguments + ["--output", "csv"])
        #expect(csv.stdout == "change,from,to,protocol,port,reason\r\nallowed,shop/web[Deployment],outside:0.0.0.0/0 except 10.0.0.0/8,tcp,443,egress: shop/web-https-out egress[0]\r\n")
    }

    @Test("a pod's egress to its own node is a connection: an ANP denying node port 9100 blocks it, named by its rule")
    func podToNode() throws {
        let fixture = try CLITests.fixture("admin-own-node")
        let text = try String(contentsOfFile: fixture.manifests + "/cluster.yaml", encoding: .utf8)
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = text.components(separatedBy: "\n---\n").filter { !$0.contains("x-not-to-nodes-9100") }.joined(separator: "\n---\n")
        try before.write(toFile: directory + "/before.yaml", atomically: true, encoding: .utf8)
        let result = try CLITests.run(["diff", "--from", directory + "/before.yaml", "--to", fixture.manifests, "--explain"] + fixture.arguments)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Connectivity: 0 newly allowed, 1 newly blocked\n  blocked x -> node: 1\n"
            + "- blocked  x/a -> node tcp/9100\n      because egress to node: ANP x-not-to-nodes-9100 egress deny-node-exporter Deny\n"), "\(result.stdout)")
    }

    static let nodePortShop = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: shop}
    spec:
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - {name: web, image: web, ports: [{name: http, containerPort: 8080}]}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: default-deny, namespace: shop}
    spec:
      podSelector: {}
      policyTypes: [Ingress]
    """

    static let nodePortService = """
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec:
      type: NodePort
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: http, nodePort: 30080}]
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: web-public, namespace: shop}
    spec:
      podSelector: {matchLabels: {app: web}}
      ingress:
      - ports: [{port: 8080}]
    """

    @Test("a new NodePort to a now-reachable pod fails the gate: outside clients reach it on the node's address")
    func newNodePort() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.nodePortShop.write(toFile: directory + "/before.yaml", atomically: true, encoding: .utf8)
        try (Self.nodePortShop + "\n" + Self.nodePortService).write(toFile: directory + "/after.yaml", atomically: true, encoding: .utf8)
        let result = try CLITests.run(["diff", "--from", directory + "/before.yaml", "--to", directory + "/after.yaml", "--fail-on", "added",
                                       "--node-ip", "198.51.100.1", "--cluster-cidr", "10.244.0.0/16", "--explain"])
        #expect(result.status == 1, "\(result.stderr)")
        // web-public opens 8080 to every source: from outside directly, from the node, and through the new NodePort.
        for line in ["+ allowed  outside:0.0.0.0/0 -> nodeport:shop/web@198.51.100.1 tcp/30080\n      because ingress: shop/web-public ingress[0]\n",
                     "+ allowed  outside:0.0.0.0/0 -> shop/web[Deployment] tcp/8080\n      because ingress: shop/web-public ingress[0]\n"] {
            #expect(result.stdout.contains(line), "\(result.stdout)")
        }
    }

    @Test("diff follows the IPv6 side of a dual-stack Service")
    func dualStackBackends() throws {
        let base = Self.diffs + "/dual-stack-v6-backend"
        let node = NodeOptions(nodeName: "node-1", nodeIPs: ["198.51.100.1", "fd00:198:51:100::1"], clusterCIDRs: ["10.244.0.0/16", "fd00:10:244::/56"])
        let report = try ChangeAnalysis.compare(Pipeline.run(paths: [base + "/before"], node: node), Pipeline.run(paths: [base + "/after"], node: node))
        #expect(report.services.map(\.service) == ["ds/web:http (IPv6)"])
        #expect(report.services.first?.details == ["backend [fd00:10:244:1::20]:8080 removed (was 100.00%)",
                                                    "backend [fd00:10:244:1::21]:8080 added (100.00%)"])
    }

    @Test("address classes: nested ipBlocks and excepts cut the space into classes, each traced at an address of its own")
    func addressClasses() throws {
        let cidrs = Set(["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "10.1.2.0/24"].compactMap { CIDR($0) })
        let occupied: Set<IPAddress> = [IPAddress("203.0.113.77")!]
        let classes = AddressClasses.classes(.v4, cidrs: cidrs, occupied: occupied)
        #expect(Set(classes.map(\.name)) == ["outside:0.0.0.0/0 except 10.0.0.0/8,192.168.0.0/16", "outside:10.0.0.0/8 except 10.1.0.0/16",
                                             "outside:10.1.0.0/16 except 10.1.2.0/24", "outside:10.1.2.0/24", "outside:192.168.0.0/16"])
        for item in classes {
            #expect(item.cidrs.contains { $0.contains(item.representative) }, "\(item.name) holds \(item.representative)")
            #expect(!item.except.contains { $0.contains(item.representative) }, "\(item.name): \(item.representative) is cut out")
            #expect(!occupied.contains(item.representative))
        }
    }

    @Test("outside changes equal tracing every probe of both versions one by one (no sharing among alike pods)",
          arguments: Array(0..<7))
    func outsideMatchesBruteForce(_ index: Int) throws {
        let (from, to) = ReviewTests.scenarioPairs[index]
        let model = Fixtures.root + "/np-model/manifests"
        let node = NodeOptions(nodeName: "node-1", nodeIPs: ["198.51.100.1"], clusterCIDRs: ["10.244.0.0/16", "fd00:10:244::/56"])
        let before = Pipeline.run(paths: [model, Fixtures.root + "/np-scenarios/\(from)/policies.yaml"], node: node)
        let after = Pipeline.run(paths: [model, Fixtures.root + "/np-scenarios/\(to)/policies.yaml"], node: node)
        let report = try ChangeAnalysis.compare(before, after)
        let classes = AddressClasses.classes([before, after]), ports = OutsidePeers.egressPorts([before, after])
        let inbound = DiffPorts([before, after])
        func allowed(_ result: PipelineResult) throws -> Set<String> {
            let tracer = try Review.tracer(for: result, recordsSteps: false)
            var keys = Set<String>()
            for probe in OutsidePeers.probes(result, classes: classes, egressPorts: ports, inbound: { inbound.inbound(to: $0.reviewName) })
            where try tracer.trace(probe.packet, origin: probe.origin).acceptProbability > 0.999_999 {
                keys.insert("\(probe.connection.from)>\(probe.connection.to)>\(probe.packet.transport)/\(probe.packet.destinationPort)")
            }
            return keys
        }
        let was = try allowed(before), now = try allowed(after)
        let describe = { (c: ChangeReport.Connection) in "\(c.from)>\(c.to)>\(c.transport.nftName)/\(c.port)" }
        let outside = { (c: ChangeReport.Connection) in c.from.hasPrefix("outside:") || c.to.hasPrefix("outside:") || c.from == "node" || c.to == "node" }
        #expect(Set(report.allowed.filter(outside).map(describe)) == now.subtracting(was))
        #expect(Set(report.blocked.filter(outside).map(describe)) == was.subtracting(now))
    }

    @Test("without a node address, NodePorts are not silently skipped: a warning names the Service, an error under --strict")
    func nodePortsWithoutNode() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try (Self.nodePortShop + "\n" + Self.nodePortService).write(toFile: directory + "/shop.yaml", atomically: true, encoding: .utf8)
        let result = try CLITests.run(["matrix", "-f", directory + "/shop.yaml", "--cluster-cidr", "10.244.0.0/16", "--ports", "8080"])
        #expect(result.status == 0)
        #expect(result.stderr.contains(": warning: Service shop/web: spec.ports: NodePorts in -f are not checked: the node has no known address"),
                "\(result.stderr)")
        let strict = try CLITests.run(["diff", "--from", directory, "--to", directory, "--cluster-cidr", "10.244.0.0/16", "--strict"])
        #expect(strict.status == 2)
    }
}
