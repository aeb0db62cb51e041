import Foundation
import KubeManifest
import KubeNFT
import Testing

/// Repository-style inputs (workloads, Services without clusterIP, no cluster state): the derived
/// cluster's matrix against matrices derived by hand in each case's README, and the properties the
/// derivation promises (determinism, no double counting, names people use).
@Suite("Cluster model from declared objects")
struct RepositoryModelTests {
    static let cases = ["repo-online-boutique", "repo-bookinfo", "repo-shop"]

    /// `allow|deny FROM -> TO proto/port` lines of a case's hand-written `expected.matrix`.
    struct ExpectedCell: Hashable {
        var allowed: Bool
        var from: String
        var to: String
        var transport: L4Protocol
        var port: UInt16
    }

    struct BadExpectation: Error { var line: String }

    static func expectedCells(_ path: String) throws -> [ExpectedCell] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let words = line.split(separator: " ").map(String.init)
            let target = words[4].split(separator: "/")
            guard words.count == 5, words[2] == "->", target.count == 2, let port = UInt16(target[1]),
                  let transport = L4Protocol(rawValue: target[0].uppercased()) else {
                throw BadExpectation(line: String(line))
            }
            return ExpectedCell(allowed: words[0] == "allow", from: words[1], to: words[3], transport: transport, port: port)
        }
    }

    @Test("the matrix of the derived cluster equals the hand-derived one", arguments: cases)
    func handDerivedMatrix(_ name: String) throws {
        let fixture = try CLITests.fixture(name)
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        #expect(result.errors.isEmpty, "\(result.errors)")
        let expected = try Self.expectedCells(fixture.file("expected.matrix"))
        var cells: [String: Bool] = [:]
        var names = Set<String>()
        for (transport, port) in Set(expected.map { "\($0.transport.rawValue)/\($0.port)" }).sorted().map({ key in
            let parts = key.split(separator: "/")
            return (L4Protocol(rawValue: String(parts[0]))!, UInt16(parts[1])!)
        }) {
            let matrix = try Review.matrix(ports: [port], protocols: [transport], in: result)
            names = Set(matrix.pods)
            for cell in matrix.cells { cells["\(cell.from)|\(cell.to)|\(transport.rawValue)/\(port)"] = cell.allowed }
        }
        #expect(names == Set(expected.map(\.from)), "the matrix reports exactly one pod per workload")
        for cell in expected {
            let key = "\(cell.from)|\(cell.to)|\(cell.transport.rawValue)/\(cell.port)"
            #expect(cells[key] == cell.allowed, "\(key): expected \(cell.allowed ? "allow" : "deny")")
        }
    }

    /// On declared ports, 106 pod-to-pod connections, and from outside the cluster the 11 workloads
    /// other than frontend: deny-all isolates each for ingress and its own policy admits only named
    /// pods, while frontend's policy admits everything. Beyond them, the ten workloads whose policy
    /// names their one port have the ports below and above it blocked from every other workload (11)
    /// and from outside: 10 × 11 × 2 = 220 more pod connections, 10 × 2 = 20 more from outside.
    /// loadgenerator declares no port and its policy names none: one class, probed at TCP 80.
    @Test("removing Online Boutique's policies from the repository blocks 326 pod connections and 31 from outside, and allows none")
    func onlineBoutiqueDiff() throws {
        let fixture = try CLITests.fixture("repo-online-boutique")
        let manifests = fixture.manifests + "/kubernetes-manifests.yaml"
        let result = try CLITests.run(["diff", "--from", manifests, "--to", fixture.manifests, "--fail-on", "added"] + fixture.arguments)
        #expect(result.status == 0, "nothing newly allowed: \(result.stderr)")
        #expect(result.stdout.hasPrefix("Connectivity: 0 newly allowed, 357 newly blocked\n"), "\(result.stdout.prefix(200))")
        #expect(result.stdout.contains("  blocked default -> default: 326\n  blocked outside -> default: 31\n"))
        #expect(result.stdout.contains("- blocked  default/loadgenerator[Deployment] -> default/cartservice[Deployment] tcp/1-7069\n"))
        #expect(result.stdout.contains("- blocked  default/loadgenerator[Deployment] -> default/cartservice[Deployment] tcp/7071-65535\n"))
        #expect(!result.stdout.contains("outside:0.0.0.0/0 -> default/frontend[Deployment]"))
        #expect(result.stdout.contains("- blocked  default/loadgenerator[Deployment] -> default/cartservice[Deployment] tcp/7070\n"))
        let removed = try CLITests.run(["diff", "--from", manifests, "--to", fixture.manifests, "--fail-on", "removed"] + fixture.arguments)
        #expect(removed.status == 1)
    }

    @Test("opening web to the database between a Deployment and a StatefulSet fails --fail-on added")
    func webToDatabase() throws {
        let fixture = try CLITests.fixture("repo-shop")
        let after = NSTemporaryDirectory() + "kubenft-shop-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: after, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: after) }
        try FileManager.default.copyItem(atPath: fixture.manifests + "/workloads.yaml", toPath: after + "/workloads.yaml")
        try FileManager.default.copyItem(atPath: fixture.directory + "/change/policies.yaml", toPath: after + "/policies.yaml")
        let result = try CLITests.run(["diff", "--from", fixture.manifests, "--to", after, "--fail-on", "added"] + fixture.arguments)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stdout.contains("Connectivity: 1 newly allowed, 0 newly blocked\n"), "\(result.stdout)")
        #expect(result.stdout.contains("+ allowed  shop/web[Deployment] -> db/db[StatefulSet] tcp/5432\n"), "\(result.stdout)")
    }

    @Test("pods already in the input through ownerReferences are not derived again")
    func runtimePodsAreNotDoubled() throws {
        let fixture = try CLITests.fixture("real-online-boutique")
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        #expect(result.cluster.workloads.count == 12)
        #expect(result.cluster.pods.count == 12, "one real pod per Deployment and no derived one")
        #expect(result.cluster.pods.allSatisfy { $0.origin == nil })
    }

    @Test("a runtime dump and declared workloads mix: only the workload without pods is derived")
    func mixedRuntimeAndDeclared() throws {
        let text = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, ports: [{containerPort: 80}]}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api}
        spec:
          selector: {matchLabels: {app: api}}
          template:
            metadata: {labels: {app: api}}
            spec: {containers: [{name: c}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: web-5d9c7b-abcde
          labels: {app: web, pod-template-hash: 5d9c7b}
          ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-5d9c7b, controller: true, uid: u}]
        spec: {containers: [{name: c}]}
        status: {phase: Running, podIP: 10.244.1.7}
        """
        let result = try Self.run(text)
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(result.cluster.pods.map(\.reviewName).sorted() == ["default/api[Deployment]", "default/web-5d9c7b-abcde"])
    }

    static func run(_ text: String, name: String = "m.yaml", node: NodeOptions = NodeOptions(clusterCIDRs: ["10.244.0.0/16"])) throws -> PipelineResult {
        let directory = NSTemporaryDirectory() + "kubenft-repo-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        return Pipeline.run(paths: [directory], node: node)
    }
}
