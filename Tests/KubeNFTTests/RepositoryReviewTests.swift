import Foundation
import KubeManifest
import KubeNFT
import Testing

/// Determinism of derived addresses, the names `trace` accepts, the warnings that keep a review gate
/// from passing silently, and the validation of workload templates.
@Suite("Reviewing declared workloads")
struct RepositoryReviewTests {
    /// Every derived address (pods by review name and replica, Services by name).
    static func addresses(_ result: PipelineResult) -> [String: String] {
        var table: [String: String] = [:]
        for pod in result.cluster.pods where pod.origin != nil {
            table["\(pod.reviewName)#\(pod.origin?.replica ?? -1)"] = pod.podIPs.map(\.description).joined(separator: ",")
        }
        for service in result.cluster.services { table["svc/\(service.meta.qualifiedName)"] = service.clusterIPs.map(\.description).joined(separator: ",") }
        return table
    }

    static func documents(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n---\n")
    }

    static func write(_ documents: [String], fileCount: Int) throws -> String {
        let directory = NSTemporaryDirectory() + "kubenft-shuffle-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in 0..<fileCount {
            let part = documents.enumerated().filter { $0.offset % fileCount == file }.map(\.element)
            try part.joined(separator: "\n---\n").write(toFile: "\(directory)/part-\(file).yaml", atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("shuffled input gives the same derived addresses and ruleset; an added workload moves no other")
    func determinism() throws {
        let fixture = try CLITests.fixture("repo-shop")
        let source = try Self.documents(fixture.manifests + "/workloads.yaml")
        let baseline = Pipeline.run(paths: [fixture.manifests + "/workloads.yaml"], node: fixture.nodeOptions)
        let table = Self.addresses(baseline)
        #expect(table.count == 3 + 2 + 1 + 1 + 2, "3 web, 2 db, report, agent, 2 Services")
        #expect(Set(table.values).count == table.count, "no two derived addresses are equal")
        var generator = SystemRandomNumberGenerator()
        for round in 0..<4 {
            let directory = try Self.write(source.shuffled(using: &generator), fileCount: 1 + round % 3)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let shuffled = Pipeline.run(paths: [directory], node: fixture.nodeOptions)
            #expect(Self.addresses(shuffled) == table)
            #expect(shuffled.ruleset.map { Pipeline.render($0, format: .nft) } == baseline.ruleset.map { Pipeline.render($0, format: .nft) })
        }
        let extra = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: aaa-new, namespace: shop}
        spec:
          replicas: 5
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec: {containers: [{name: c, ports: [{name: http, containerPort: 8080}]}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: aaa-new, namespace: shop}
        spec: {selector: {app: web}, ports: [{port: 80}]}
        """
        let directory = try Self.write(source + [extra], fileCount: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let grown = Self.addresses(Pipeline.run(paths: [directory], node: fixture.nodeOptions))
        #expect(grown.count == table.count + 6)
        for (key, address) in table { #expect(grown[key] == address, "\(key) moved after adding an unrelated workload") }
    }

    @Test("a derived cluster IP never takes a declared one")
    func clusterIPCollision() throws {
        let service = "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec: {selector: {app: api}, ports: [{port: 80}]}\n"
        let alone = try RepositoryModelTests.run(service)
        let chosen = try #require(alone.cluster.services.first?.clusterIPs.first)
        let squatter = "---\napiVersion: v1\nkind: Service\nmetadata: {name: zzz}\nspec: {clusterIP: \(chosen), ports: [{port: 80}]}\n"
        let both = try RepositoryModelTests.run(service + squatter)
        #expect(both.errors.isEmpty, "\(both.errors)")
        let api = try #require(both.cluster.services.first { $0.meta.name == "api" })
        #expect(api.clusterIPs.count == 1 && api.clusterIPs != [chosen])
        #expect(DerivationPlacement.defaultServiceRange.contains(api.clusterIPs[0]))
    }

    @Test("trace accepts ns/name[Kind] and ns/name when unambiguous, and shows every derived endpoint")
    func traceNames() throws {
        let fixture = try CLITests.fixture("repo-shop")
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        for from in ["shop/report[CronJob]", "shop/report"] {
            let report = try Review.trace(TraceQuery(from: try #require(TraceEndpoint(from)), to: try #require(TraceEndpoint("db/db[StatefulSet]")),
                                                     port: 5432), in: result)
            #expect(report.verdict == "accept")
        }
        let service = try Review.trace(TraceQuery(from: try #require(TraceEndpoint("monitoring/agent")), to: .service(namespace: "shop", name: "web")), in: result)
        #expect(service.backends.count == 3, "three web replicas behind the Service")
        #expect(service.backends.allSatisfy { $0.port == 8080 && abs($0.probability - 1.0 / 3) < 0.001 })
        #expect(service.verdict == "accept")

        let twins = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec: {selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: a}}, spec: {containers: [{name: c}]}}}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: web}
        spec: {selector: {matchLabels: {app: b}}, template: {metadata: {labels: {app: b}}, spec: {containers: [{name: c}]}}}
        """
        let ambiguous = try RepositoryModelTests.run(twins)
        #expect(throws: TraceQueryError.self) {
            try Review.trace(TraceQuery(from: .pod(namespace: "default", name: "web"), to: .pod(namespace: "default", name: "web[Deployment]")), in: ambiguous)
        }
        let named = try Review.trace(TraceQuery(from: .pod(namespace: "default", name: "web[StatefulSet]"),
                                                to: .pod(namespace: "default", name: "web[Deployment]")), in: ambiguous)
        #expect(named.verdict == "accept")
    }

    @Test("policies that select no pod, or no pods at all, are warned about and fail under --strict")
    func noSilentPass() throws {
        let fixture = try CLITests.fixture("repo-online-boutique")
        let policies = fixture.manifests + "/network-policies"
        let lenient = try CLITests.run(["matrix", "-f", policies] + fixture.arguments)
        #expect(lenient.status == 0)
        #expect(lenient.stderr.contains("warning: -f: the input holds no pods"), "\(lenient.stderr)")
        let strict = try CLITests.run(["diff", "--from", policies, "--to", policies, "--strict"] + fixture.arguments)
        #expect(strict.status == 2, "\(strict.stderr)")
        #expect(strict.stderr.contains("--from: the input holds no pods"))

        let unrelated = """
        apiVersion: v1
        kind: Pod
        metadata: {name: lonely, namespace: other}
        spec: {containers: [{name: c}]}
        """
        let directory = NSTemporaryDirectory() + "kubenft-nosel-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try unrelated.write(toFile: directory + "/pod.yaml", atomically: true, encoding: .utf8)
        let diff = try CLITests.run(["diff", "--from", directory, "--to", directory, "--to", policies, "--strict"] + fixture.arguments)
        #expect(diff.status == 2)
        #expect(diff.stderr.contains("spec.podSelector: none of the 13 NetworkPolicies in --to selects a pod"), "\(diff.stderr)")
    }

    @Test("--from and --to take -, files and directories; - only once")
    func diffInputs() throws {
        let fixture = try CLITests.fixture("repo-shop")
        let workloads = try String(contentsOfFile: fixture.manifests + "/workloads.yaml", encoding: .utf8)
        let policies = try String(contentsOfFile: fixture.directory + "/change/policies.yaml", encoding: .utf8)
        let piped = try CLITests.run(["diff", "--from", fixture.manifests, "--to", "-", "--fail-on", "added", "--output", "markdown"] + fixture.arguments,
                                     stdin: workloads + "\n---\n" + policies)
        #expect(piped.status == 1, "\(piped.stderr)")
        #expect(piped.stdout.contains("| :warning: allowed | `shop/web[Deployment]` | `db/db[StatefulSet]` | tcp/5432 |"), "\(piped.stdout)")
        let twice = try CLITests.run(["diff", "--from", "-", "--to", "-"], stdin: workloads)
        #expect(twice.status != 0 && twice.status != 1)
        #expect(twice.stderr.contains("standard input (-) can be read once"))
    }

    @Test("workload templates are validated like pods: selectors, labels, replicas, explicit null")
    func templateValidation() {
        let result = loadManifests("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicas: -1
          selector: {matchLabels: {app: other}}
          template:
            metadata: {labels: {app: web, "bad key!": x}}
            spec: {containers: [{name: c, ports: [{containerPort: 70000}]}]}
        ---
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: db}
        spec:
          template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c}]}}
        ---
        apiVersion: batch/v1
        kind: Job
        metadata: {name: nulls}
        spec:
          parallelism: null
          template:
            metadata: {labels: null}
            spec: {containers: [null], hostNetwork: null}
        """)
        #expect(diagnosticLines(result) == [
            "m.yaml:5:13: Deployment default/web: spec.replicas: must be greater than or equal to 0",
            "m.yaml:6:13: Deployment default/web: spec.selector: does not match the template's labels",
            "m.yaml:8:35: Deployment default/web: spec.template.metadata.labels[bad key!]: invalid key \"bad key!\": must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit",
            "m.yaml:9:59: Deployment default/web: spec.template.spec.containers[0].ports[0].containerPort: port 70000 out of range 1-65535",
            "m.yaml:15:3: StatefulSet default/db: spec.selector: is required",
        ])
        #expect(result.cluster.workloads.map(\.meta.name) == ["nulls"])
        #expect(result.cluster.workloads.first?.replicas == 1, "null parallelism is absent: the default, 1")
    }

    @Test("unknown fields of a workload spec are warnings, errors under --strict")
    func strictWorkloadFields() {
        let text = """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          replicass: 2
          strategy: {type: Recreate}
          selector: {matchLabels: {app: web}}
          template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c}]}}
        """
        #expect(diagnosticLines(loadManifests(text)) == [
            "m.yaml:5:3: warning: Deployment default/web: spec.replicass: unknown field \"replicass\"",
        ])
        #expect(diagnosticLines(loadManifests(text, options: LoadOptions(strict: true))) == [
            "m.yaml:5:3: Deployment default/web: spec.replicass: unknown field \"replicass\"",
        ])
    }
}
