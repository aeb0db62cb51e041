import Foundation
import KubeManifest
import KubeNFT
import LabKit
import Testing

/// Derived clusters against real packets: the representative pod of every workload is hosted at its
/// derived address, the derived model's ruleset is loaded into the lab node, and every cell of the
/// traced matrix must match what real connections do.
@Suite("The derived model agrees with real packets", .enabled(if: Environment.labTestsEnabled), .serialized)
struct RepositoryLabTests {
    static let cases = ["repo-online-boutique", "repo-shop"]

    @Test("every matrix cell of a derived cluster is what real connections see", arguments: cases)
    func derivedAgreement(_ name: String) async throws {
        let fixture = try CLITests.fixture(name)
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        let ruleset = try #require(result.ruleset, "\(name) must compile: \(result.errors.map(\.description))")
        let pods = result.cluster.pods.filter { $0.origin != nil && $0.isRepresentative && !$0.hostNetwork && !$0.podIPs.isEmpty }
        #expect(pods.count == Set(pods.map(\.reviewName)).count)
        var ports = Set(pods.flatMap(\.containerPorts).filter { $0.protocol == .tcp }.map(\.port))
        ports.insert(80)
        let cells = try Review.matrix(ports: ports.sorted(), protocols: [.tcp], in: result).cells.filter { $0.from != $0.to }
        let hosted = pods.map { pod in
            LabHostedPod(id: pod.reviewName, addresses: pod.podIPs,
                         serve: FixtureLab.serveSpec(id: pod.reviewName, ports: ports.map { (.tcp, $0) }))
        }
        let disagreements = try await withLab(tag: "derived-" + name) { lab -> [MatrixDisagreement] in
            try FixtureLab.build(lab, pods: hosted)
            try lab.loadRuleset(text: Pipeline.render(ruleset, format: .nft))
            let found = try MatrixAgreementTests.compare(lab, cells: cells, pods: hosted)
            print("\(name): \(hosted.count) derived pods, \(cells.count) cells probed, \(cells.filter(\.allowed).count) allowed")
            return found
        }
        #expect(cells.count == pods.count * (pods.count - 1) * ports.count)
        #expect(cells.contains { $0.allowed } && cells.contains { !$0.allowed }, "the case has both verdicts")
        if !disagreements.isEmpty {
            Issue.record(Comment(rawValue: "\(name): \(disagreements.count) disagreeing cells\n"
                                 + disagreements.prefix(40).map(\.description).joined(separator: "\n")))
        }
    }
}
