import Foundation
import KubeManifest
import KubeNFT
import LabKit
import Testing

// The documented effect of real-world policies: `fixtures/<case>/expectations.txt` lists, from the
// recipes' docs and the policies' intent (never from the compiler's output), which connections the
// cluster must allow or deny. Each line is checked against `Review.trace` everywhere, and with real
// connections in a lab that hosts every pod of the fixture.

/// A fixture with an `expectations.txt`.
struct DocumentedFixture: Sendable, CustomTestStringConvertible {
    var fixture: FixtureCase
    /// Prefixes of the recipe manifests (`01`, `02a`, ...) that must each be illustrated by a line.
    var recipes: [String]

    var testDescription: String { fixture.name }
    var expectationsFile: String { fixture.directory + "/expectations.txt" }

    /// The fixture's node context without its node name: one node then enforces the policies of
    /// every pod, so the statements hold for the whole cluster.
    var wholeCluster: NodeOptions {
        var options = fixture.nodeOptions
        options.nodeName = nil
        return options
    }

    static let all: [DocumentedFixture] = ["real-np-recipes", "real-online-boutique"].compactMap { name in
        guard let fixture = Fixtures.valid.first(where: { $0.name == name }) else { return nil }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: fixture.manifests)) ?? []
        let recipes = name == "real-np-recipes"
            ? files.filter { $0.first?.isNumber == true }.compactMap { $0.split(separator: "-").first.map(String.init) }.sorted()
            : []
        return DocumentedFixture(fixture: fixture, recipes: Array(Set(recipes)).sorted())
    }

    func expectations() throws -> [ConnectionExpectation] {
        try ConnectionExpectations.parse(try String(contentsOfFile: expectationsFile, encoding: .utf8))
    }

    func compile() -> PipelineResult { Pipeline.run(paths: [fixture.manifests], node: wholeCluster) }
}

@Suite("Documented policy effects, traced")
struct DocumentedEffectTraceTests {
    @Test("both fixtures are present")
    func fixturesExist() {
        #expect(DocumentedFixture.all.map(\.fixture.name) == ["real-np-recipes", "real-online-boutique"])
    }

    @Test("every expectation parses, illustrates its recipes, and Review.trace gives its verdict", arguments: DocumentedFixture.all)
    func traceAgrees(_ documented: DocumentedFixture) throws {
        let expectations = try documented.expectations()
        #expect(expectations.count >= 20, "\(documented.fixture.name): too few expectations")
        #expect(expectations.contains { $0.allowed } && expectations.contains { !$0.allowed })
        for recipe in documented.recipes {
            #expect(expectations.contains { $0.note.hasPrefix("recipe \(recipe):") }, "no expectation illustrates recipe \(recipe)")
        }
        let result = documented.compile()
        try #require(result.ruleset != nil, "\(documented.fixture.name) must compile: \(result.errors.map(\.description))")
        for expectation in expectations {
            let report = try Review.trace(expectation.query, in: result)
            let accepted = report.verdict == "accept"
            #expect(accepted == expectation.allowed, Comment(rawValue: "traced \(report.verdict), expected \(expectation)\n\(report.text)"))
        }
    }
}

@Suite("Documented policy effects with real packets", .enabled(if: Environment.labTestsEnabled), .serialized)
struct DocumentedEffectLabTests {
    static let timeoutMs = 700
    static let retryTimeoutMs = 2000

    @Test("every expectation holds for real connections, and the trace agrees", arguments: DocumentedFixture.all)
    func realConnections(_ documented: DocumentedFixture) async throws {
        let expectations = try documented.expectations()
        let result = documented.compile()
        let ruleset = try #require(result.ruleset, "\(documented.fixture.name) must compile: \(result.errors.map(\.description))")
        let (pods, clients) = Self.hosts(for: expectations, result: result)
        let probes = expectations.map { expectation in
            SweepProbe(from: ConnectionExpectation.role(expectation.from), target: Self.target(of: expectation, pods: pods),
                       expectedReply: ConnectionExpectation.role(expectation.to), retryIfSilent: expectation.allowed)
        }
        let started = Date()
        let results = try await withLab(tag: "documented-" + documented.fixture.name) { lab -> [SweepResult] in
            try FixtureLab.build(lab, pods: pods, clients: clients)
            let built = Date()
            try lab.loadRuleset(text: Pipeline.render(ruleset, format: .nft))
            let results = try LabSweep.run(lab, probes, timeoutMs: Self.timeoutMs, retryTimeoutMs: Self.retryTimeoutMs)
            print("\(documented.fixture.name): \(expectations.count) expectations, \(pods.count) pods; "
                  + "lab \(FixtureLab.ms(started, built)) ms, load and probe \(FixtureLab.ms(built, Date())) ms")
            return results
        }
        for (expectation, outcome) in zip(expectations, results) {
            let traced = try Review.trace(expectation.query, in: result)
            let accepted = traced.verdict == "accept"
            if outcome.reached != expectation.allowed || accepted != expectation.allowed {
                let seen = outcome.reached ? "reached" : "blocked (\(outcome.retry ?? outcome.first))"
                Issue.record(Comment(rawValue: "\(expectation)\n  observed \(seen), traced \(traced.verdict)\n\(traced.text)"))
            }
        }
    }

    /// Every pod of the fixture with an address, and the external clients the expectations name;
    /// each serves every port an expectation probes on it.
    static func hosts(for expectations: [ConnectionExpectation], result: PipelineResult) -> ([LabHostedPod], [LabHostedClient]) {
        var ports: [String: [(L4Protocol, UInt16)]] = [:]
        for expectation in expectations {
            ports[ConnectionExpectation.role(expectation.to), default: []].append((expectation.transport, expectation.port))
        }
        let pods = FixtureLab.matrixPods(result).map { pod in
            let id = pod.meta.qualifiedName
            return LabHostedPod(id: id, addresses: pod.podIPs, serve: FixtureLab.serveSpec(id: id, ports: ports[id] ?? []))
        }
        var clients: [LabHostedClient] = []
        for endpoint in expectations.flatMap({ [$0.from, $0.to] }) {
            guard let address = ConnectionExpectation.externalAddress(endpoint), !clients.contains(where: { $0.address == address }) else { continue }
            let id = ConnectionExpectation.role(endpoint)
            clients.append(LabHostedClient(id: id, address: address, serve: FixtureLab.serveSpec(id: id, ports: ports[id] ?? [])))
        }
        return (pods, clients)
    }

    /// Where a probe goes: the destination pod's address of the family the source has (IPv4 first),
    /// or the external client's address.
    static func target(of expectation: ConnectionExpectation, pods: [LabHostedPod]) -> ProbeTarget {
        let proto = LabProtocol(rawValue: expectation.transport.nftName) ?? .tcp
        let role = ConnectionExpectation.role(expectation.to)
        var address = ConnectionExpectation.externalAddress(expectation.to)
        if let pod = pods.first(where: { $0.id == role }) {
            let source = pods.first { $0.id == ConnectionExpectation.role(expectation.from) }
            let families: [IPFamily] = source.map { from in [.v4, .v6].filter { from.address($0) != nil } } ?? [.v4]
            address = families.lazy.compactMap { pod.address($0) }.first ?? pod.addresses.first
        }
        return ProbeTarget(address: address?.description ?? "0.0.0.0", port: Int(expectation.port), proto: proto,
                           label: "line \(expectation.line)")
    }
}
