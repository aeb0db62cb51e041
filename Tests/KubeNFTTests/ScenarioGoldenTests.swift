import Foundation
import KubeNFT
import LabKit
import Testing

/// Every NetworkPolicy scenario (the upstream-style model plus the scenario's policies) also has a
/// golden ruleset, loaded by the kernel like the other golden cases. Regenerate with
/// `KUBENFT_RECORD=1 swift test --filter ScenarioGolden` and read the diff.
@Suite("NetworkPolicy scenario goldens")
struct ScenarioGoldenTests {
    static let directory = Fixtures.root + "/np-scenarios"
    static let scenarios: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
        .filter { FileManager.default.fileExists(atPath: "\(directory)/\($0)/policies.yaml") }.sorted()

    static func compile(_ scenario: String) throws -> String {
        let node = NodeOptions(nodeName: "node-1", clusterCIDRs: ["10.244.0.0/16", "fd00:10:244::/56"])
        let result = Pipeline.run(paths: [Fixtures.root + "/np-model/manifests", "\(directory)/\(scenario)/policies.yaml"], node: node)
        let ruleset = try #require(result.ruleset, "\(scenario): \(result.errors.map(\.description))")
        return Pipeline.render(ruleset, format: .nft)
    }

    @Test("the scenario's ruleset matches its golden file", arguments: scenarios)
    func golden(_ scenario: String) throws {
        switch Fixtures.compare(try Self.compile(scenario), golden: "\(Self.directory)/\(scenario)/expected.nft") {
        case .matches: break
        case .recorded: Issue.record("recorded np-scenarios/\(scenario)/expected.nft; run again without \(Fixtures.recordVariable)")
        case .differs(let difference): Issue.record("np-scenarios/\(scenario)/expected.nft differs at \(difference)")
        }
    }

    @Test("the scenario's golden ruleset loads in the kernel", .enabled(if: Environment.labTestsEnabled), arguments: scenarios)
    func goldenLoads(_ scenario: String) throws {
        let text = try String(contentsOfFile: "\(Self.directory)/\(scenario)/expected.nft", encoding: .utf8)
        let listing = try Kernel.loadAndList(text)
        let declared = text.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
            return words.count == 3 && words[0] == "chain" && words[2] == "{" ? words[1] : nil
        }
        #expect(!declared.isEmpty)
        for chain in declared { #expect(listing.contains("chain \(chain) {"), "the kernel does not list chain \(chain)") }
    }
}
