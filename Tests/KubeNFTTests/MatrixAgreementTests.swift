import Foundation
import KubeManifest
import KubeNFT
import LabKit
import Testing

// `kubenft matrix` against real packets: the pod × pod table that `Review.matrix` computes by tracing
// the compiled ruleset must equal the table observed in a lab that hosts every pod of the fixture,
// once the same ruleset is loaded into the lab node.

/// The ports of one protocol a case probes.
struct ProbedPorts: Sendable {
    var transport: L4Protocol
    var ports: [UInt16]
}

/// One agreement case: manifests, node context, and the ports to compare.
struct AgreementCase: Sendable, CustomTestStringConvertible {
    var name: String
    var paths: [String]
    var node: NodeOptions
    /// The probed ports, per protocol; nil means the container ports of the fixture's pods.
    var blocks: [ProbedPorts]?
    /// Also compare SCTP on the same ports, when the kernel has it.
    var wantsSCTP = false
    /// At most this many source pods, picked evenly in matrix order; every pod stays a destination.
    var sourceLimit: Int?

    var testDescription: String { name }

    static let scenarioPorts = [ProbedPorts(transport: .tcp, ports: [80, 81]), ProbedPorts(transport: .udp, ports: [80, 81])]

    /// Every NetworkPolicy scenario over the x/y/z × a/b/c model.
    static let scenarios: [AgreementCase] = PolicyScenario.all.map { scenario in
        let text = (try? String(contentsOfFile: scenario.expectedFile, encoding: .utf8)) ?? ""
        return AgreementCase(name: "np-scenarios/" + scenario.name, paths: [PolicyScenario.modelManifests, scenario.policies],
                             node: PolicyScenario.nodeOptions, blocks: scenarioPorts, wantsSCTP: text.contains("# sctp/"))
    }

    /// The real-world fixtures and the demo, with their own node context.
    static let fixtures: [AgreementCase] = [
        fixture("real-np-recipes", blocks: [ProbedPorts(transport: .tcp, ports: [80])]),
        fixture("cnp-tiers", blocks: [ProbedPorts(transport: .tcp, ports: [80, 81]), ProbedPorts(transport: .udp, ports: [80])]),
        fixture("real-online-boutique", blocks: nil),
        fixture("demo", blocks: [ProbedPorts(transport: .tcp, ports: [8000, 8080, 8443, 50051]), ProbedPorts(transport: .udp, ports: [53])]),
    ].compactMap { $0 }

    static func fixture(_ name: String, blocks: [ProbedPorts]?, sourceLimit: Int? = nil) -> AgreementCase? {
        guard let fixture = Fixtures.valid.first(where: { $0.name == name }) else { return nil }
        let ports = blocks.map { $0.map { "\($0.transport.nftName) \($0.ports.map(String.init).joined(separator: ","))" }.joined(separator: "; ") }
        var label = name + " (" + (ports ?? "every container port") + ")"
        if let sourceLimit { label += ", \(sourceLimit) sources spread evenly, all destinations" }
        return AgreementCase(name: label, paths: [fixture.manifests], node: fixture.nodeOptions, blocks: blocks, sourceLimit: sourceLimit)
    }

    /// The probed ports for `result`: the declared ones, or the pods' container ports.
    func probedPorts(_ result: PipelineResult, sctp: Bool) -> [ProbedPorts] {
        var list = blocks ?? L4Protocol.allCases.compactMap { transport in
            let ports = Set(FixtureLab.matrixPods(result).flatMap(\.containerPorts).filter { $0.protocol == transport }.map(\.port))
            return ports.isEmpty ? nil : ProbedPorts(transport: transport, ports: ports.sorted())
        }
        if wantsSCTP, sctp, let tcp = list.first(where: { $0.transport == .tcp }) {
            list.append(ProbedPorts(transport: .sctp, ports: tcp.ports))
        }
        return list.filter { $0.transport != .sctp || sctp }
    }

    /// The source pods: all of them, or `sourceLimit` of them spread evenly.
    func sources(_ pods: [String]) -> [String] {
        guard let limit = sourceLimit, pods.count > limit, limit > 0 else { return pods }
        return (0..<limit).map { pods[$0 * pods.count / limit] }
    }

    static var all: [AgreementCase] { scenarios + fixtures }
}

/// One differing cell, ready for the report.
struct MatrixDisagreement: CustomStringConvertible {
    var cell: ConnectivityMatrix.Cell
    var observed: SweepResult?

    var description: String {
        let seen = observed.map { $0.reached ? "reached" : "blocked (\($0.retry ?? $0.first))" } ?? "not probed (no shared family)"
        return "\(cell.from) -> \(cell.to) \(cell.transport.nftName)/\(cell.port): traced \(cell.allowed ? "allowed" : "blocked"), observed \(seen)"
    }
}

@Suite("The traced matrix agrees with real packets", .enabled(if: Environment.labTestsEnabled), .serialized)
struct MatrixAgreementTests {
    static let timeoutMs = 700
    static let retryTimeoutMs = 2000

    @Test("observed pod-to-pod reachability equals Review.matrix", arguments: AgreementCase.all)
    func agreement(_ test: AgreementCase) async throws {
        let result = Pipeline.run(paths: test.paths, node: test.node, shape: RulesetForm.current.shape)
        let ruleset = try #require(result.ruleset, "\(test.name) must compile: \(result.errors.map(\.description))")
        let sctp = Environment.sctpAvailable
        let blocks = test.probedPorts(result, sctp: sctp)
        let cells = try blocks.flatMap { block in
            try Review.matrix(ports: block.ports, protocols: [block.transport], in: result).cells
        }
        let pods = FixtureLab.matrixPods(result)
        let hosted = pods.map { pod in
            LabHostedPod(id: pod.meta.qualifiedName, addresses: pod.podIPs,
                         serve: FixtureLab.serveSpec(id: pod.meta.qualifiedName, ports: blocks.flatMap { b in b.ports.map { (b.transport, $0) } }))
        }
        let sources = Set(test.sources(hosted.map(\.id)))
        let compared = cells.filter { $0.from != $0.to && sources.contains($0.from) }
        let started = Date()
        let disagreements = try await withLab(tag: "agree-" + test.name) { lab -> [MatrixDisagreement] in
            try FixtureLab.build(lab, pods: hosted)
            let built = Date()
            try RulesetForm.current.load(ruleset, into: lab)
            let found = try Self.compare(lab, cells: compared, pods: hosted)
            print("\(test.name): \(hosted.count) pods, \(sources.count) sources, \(compared.count) cells; "
                  + "lab \(FixtureLab.ms(started, built)) ms, load and probe \(FixtureLab.ms(built, Date())) ms")
            return found
        }
        #expect(!compared.isEmpty, "\(test.name): nothing compared")
        if !disagreements.isEmpty {
            Issue.record(Comment(rawValue: Self.report(test.name, disagreements, result: result)))
        }
    }

    /// Probes every compared cell over the first address family both pods have (the one the matrix
    /// traces) and returns the cells where the packets disagree with the trace.
    static func compare(_ lab: Lab, cells: [ConnectivityMatrix.Cell], pods: [LabHostedPod]) throws -> [MatrixDisagreement] {
        let byID = Dictionary(uniqueKeysWithValues: pods.map { ($0.id, $0) })
        var probed: [(cell: ConnectivityMatrix.Cell, probe: SweepProbe)] = []
        var disagreements: [MatrixDisagreement] = []
        for cell in cells {
            guard let from = byID[cell.from], let to = byID[cell.to],
                  let family = [IPFamily.v4, .v6].first(where: { from.address($0) != nil && to.address($0) != nil }),
                  let address = to.address(family), let proto = LabProtocol(rawValue: cell.transport.nftName) else {
                if cell.allowed { disagreements.append(MatrixDisagreement(cell: cell, observed: nil)) }
                continue
            }
            let target = ProbeTarget(address: address.description, port: Int(cell.port), proto: proto,
                                     label: "\(cell.transport.nftName)/\(cell.port)|\(cell.to)")
            probed.append((cell, SweepProbe(from: cell.from, target: target, expectedReply: cell.to, retryIfSilent: cell.allowed)))
        }
        let results = try LabSweep.run(lab, probed.map(\.probe), timeoutMs: timeoutMs, retryTimeoutMs: retryTimeoutMs)
        for (entry, result) in zip(probed, results) {
            if result.reached != entry.cell.allowed { disagreements.append(MatrixDisagreement(cell: entry.cell, observed: result)) }
            if result.answeredOnlyOnRetry { print("\(entry.cell.from) -> \(result.retry.map(\.description) ?? "") (answered only on the slow retry)") }
        }
        return disagreements
    }

    /// The differing cells, and the trace of the first few of them, rule by rule.
    static func report(_ name: String, _ disagreements: [MatrixDisagreement], result: PipelineResult) -> String {
        var lines = ["\(name): \(disagreements.count) cell(s) where the traced matrix and real packets disagree"]
        lines += disagreements.prefix(40).map { "  " + $0.description }
        for disagreement in disagreements.prefix(3) {
            let cell = disagreement.cell
            let parts = cell.from.split(separator: "/").map(String.init), toParts = cell.to.split(separator: "/").map(String.init)
            guard parts.count == 2, toParts.count == 2 else { continue }
            let query = TraceQuery(from: .pod(namespace: parts[0], name: parts[1]), to: .pod(namespace: toParts[0], name: toParts[1]),
                                   port: cell.port, transport: cell.transport)
            if let report = try? Review.trace(query, in: result) { lines.append(report.text) }
        }
        return lines.joined(separator: "\n")
    }
}
