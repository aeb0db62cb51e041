import Foundation
import KubeManifest
import KubeNFT
import Testing

/// `trace`, `matrix` and `diff` outputs against golden files, and the tracer's coverage of every
/// statement the compiler emits.
@Suite("Review commands")
struct ReviewTests {
    static let directory = Fixtures.root + "/review"

    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".args") }.map { String($0.dropLast(5)) }.sorted()
    }()

    @Test("review command output matches its golden file", arguments: cases)
    func goldenReview(_ name: String) throws {
        let line = try String(contentsOfFile: "\(Self.directory)/\(name).args", encoding: .utf8)
        let arguments = line.split(whereSeparator: \.isWhitespace).map { word -> String in
            word.hasPrefix("fixtures/") ? Fixtures.packageRoot + "/" + word : String(word)
        }
        let result = try CLITests.run(arguments)
        #expect(result.status != 2, "\(result.stderr)")
        let output = result.stdout.replacingOccurrences(of: Fixtures.packageRoot + "/", with: "")
        switch Fixtures.compare(output, golden: "\(Self.directory)/\(name).out") {
        case .matches: break
        case .recorded: Issue.record("recorded review/\(name).out; run again without \(Fixtures.recordVariable)")
        case .differs(let difference): Issue.record("review/\(name).out differs at \(difference)")
        }
    }

    @Test("every golden case is traceable: every pod to every service port, and outside clients to every NodePort",
          arguments: Fixtures.valid)
    func everyGoldenCaseIsTraceable(_ fixture: FixtureCase) throws {
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        let sources: [TraceEndpoint] = result.cluster.pods.filter { !$0.podIPs.isEmpty }.prefix(3).map {
            .pod(namespace: $0.meta.namespace, name: $0.meta.name)
        } + [.external(IPAddress("198.51.100.77")!), .external(IPAddress("2001:db8::77")!)] + (result.context.nodeIPs.isEmpty ? [] : [.node])
        var traced = 0
        for service in result.cluster.services where !service.clusterIPs.isEmpty {
            for port in service.ports {
                for source in sources {
                    let query = TraceQuery(from: source, to: .service(namespace: service.meta.namespace, name: service.meta.name),
                                           port: port.port, transport: port.protocol)
                    do {
                        let report = try Review.trace(query, in: result)
                        #expect(!report.result.paths.isEmpty)
                        traced += 1
                    } catch let error as TraceQueryError {
                        // Ends without a common address family are not traceable questions.
                        #expect(error.description.contains("share no address family"), "\(error)")
                    }
                }
                if let nodePort = port.nodePort, let nodeIP = result.context.nodeIPs.first {
                    _ = try Review.trace(TraceQuery(from: .external(IPAddress(nodeIP.family == .v4 ? "198.51.100.77" : "2001:db8::77")!),
                                                    to: .address(nodeIP), port: nodePort, transport: port.protocol), in: result)
                    traced += 1
                }
            }
        }
        if result.cluster.pods.count > 1 {
            _ = try Review.matrix(ports: [80], protocols: [.tcp], in: result)
        }
        #expect(traced > 0 || result.cluster.services.allSatisfy { $0.clusterIPs.isEmpty })
    }

    static let scenarioPairs: [(String, String)] = [
        ("allow-all-baseline", "default-deny-ingress"), ("default-deny-ingress", "allow-same-namespace-podselector"),
        ("podselector-or-nsselector", "podselector-and-nsselector"), ("ipblock-except", "ipblock-except-overridden"),
        ("named-port-ingress", "named-port-egress"), ("anp-pass-to-networkpolicy", "anp-pass-to-baseline"),
        ("egress-deny-namespace", "banp-default-deny-after-networkpolicy"),
    ]

    @Test("the connectivity diff equals the difference of the two full traced matrices", arguments: Array(0..<7))
    func diffMatchesBruteForce(_ index: Int) throws {
        let (from, to) = Self.scenarioPairs[index]
        let model = Fixtures.root + "/np-model/manifests"
        let node = NodeOptions(nodeName: "node-1", clusterCIDRs: ["10.244.0.0/16", "fd00:10:244::/56"])
        let before = Pipeline.run(paths: [model, Fixtures.root + "/np-scenarios/\(from)/policies.yaml"], node: node)
        let after = Pipeline.run(paths: [model, Fixtures.root + "/np-scenarios/\(to)/policies.yaml"], node: node)
        let report = try ChangeAnalysis.compare(before, after)
        let old = try Review.matrix(ports: [80, 81], protocols: [.tcp, .udp, .sctp], in: before)
        let new = try Review.matrix(ports: [80, 81], protocols: [.tcp, .udp, .sctp], in: after)
        var expectedAllowed = Set<String>(), expectedBlocked = Set<String>()
        for (was, now) in zip(old.cells, new.cells) where was.from != was.to && was.allowed != now.allowed {
            let key = "\(was.from)>\(was.to)>\(was.transport.nftName)/\(was.port)"
            if now.allowed { expectedAllowed.insert(key) } else { expectedBlocked.insert(key) }
        }
        let describe = { (c: ChangeReport.Connection) in "\(c.from)>\(c.to)>\(c.transport.nftName)/\(c.port)" }
        // The matrix covers pods; the diff's connections with outside peers are checked in OutsidePeerTests.
        let pods = Set(new.pods + old.pods)
        let podPair = { (c: ChangeReport.Connection) in pods.contains(c.from) && pods.contains(c.to) && (c.port == 80 || c.port == 81) }
        #expect(Set(report.allowed.filter(podPair).map(describe)) == expectedAllowed)
        #expect(Set(report.blocked.filter(podPair).map(describe)) == expectedBlocked)
        #expect(!expectedAllowed.isEmpty || !expectedBlocked.isEmpty, "each pair must change something")
    }
}
