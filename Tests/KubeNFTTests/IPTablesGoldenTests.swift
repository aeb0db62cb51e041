import Foundation
import IPTablesRuleset
import KubeNFT
import LabKit
import NetAddress
import Testing

/// The iptables form of every golden case: `expected.iptables` always, `expected.ip6tables` when the
/// case has IPv6 objects. Each file is checked by `iptables-restore --test` and then really restored,
/// twice, in a throwaway namespace with both iptables-nft and iptables-legacy.
@Suite("Golden iptables rulesets")
struct IPTablesGoldenTests {
    static func files(_ fixture: FixtureCase) throws -> [(IPFamily, String, String)] {
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict, shape: .cascade)
        let ruleset = try #require(result.ruleset)
        var files = [(IPFamily.v4, "expected.iptables", try Pipeline.renderIPTables(ruleset, family: .v4))]
        if IPTablesEmitter.uses(.v6, in: ruleset) {
            files.append((.v6, "expected.ip6tables", try Pipeline.renderIPTables(ruleset, family: .v6)))
        }
        return files
    }

    @Test("compiled iptables output matches the golden files", arguments: Fixtures.valid)
    func goldenOutput(_ fixture: FixtureCase) throws {
        let files = try Self.files(fixture)
        for (_, file, text) in files {
            switch Fixtures.compare(text, golden: fixture.file(file)) {
            case .matches: break
            case .recorded: Issue.record("recorded \(fixture.name)/\(file); run again without \(Fixtures.recordVariable)")
            case .differs(let difference): Issue.record("\(fixture.name)/\(file) differs at \(difference)")
            }
        }
        if files.count == 1 {
            #expect(!FileManager.default.fileExists(atPath: fixture.file("expected.ip6tables")),
                    "\(fixture.name) has no IPv6 objects, so it must have no expected.ip6tables")
        }
    }

    @Test("every golden iptables file loads with iptables-nft and iptables-legacy",
          .enabled(if: Environment.labTestsEnabled), arguments: Fixtures.valid)
    func goldenLoads(_ fixture: FixtureCase) throws {
        guard try IPTablesTools.available() else { return }
        for family in IPFamily.allCases {
            let file = fixture.file(family == .v4 ? "expected.iptables" : "expected.ip6tables")
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            let chains = Set(text.split(separator: "\n").filter { $0.hasPrefix(":") }.map { String($0.dropFirst().prefix { $0 != " " }) })
            for backend in IPTablesBackend.allCases {
                try Kernel.withNamespace { namespace in
                    try backend.restore(text, family: family, in: namespace, test: true)
                    try backend.restore(text, family: family, in: namespace)
                    let first = try backend.save(family, in: namespace)
                    try backend.restore(IPTablesTools.withoutHookJumps(text), family: family, in: namespace)
                    let again = try backend.save(family, in: namespace)
                    #expect(IPTablesTools.kubenftRules(first) == IPTablesTools.kubenftRules(again), "\(fixture.name) \(backend): a second restore must give the same chains")
                    let loaded = Set(first.split(separator: "\n").filter { $0.hasPrefix(":KUBENFT-") }.map { String($0.dropFirst().prefix { $0 != " " }) })
                    #expect(loaded == chains, "\(fixture.name) \(backend) \(family): chains in the kernel")
                    let rules = text.split(separator: "\n").filter { $0.hasPrefix("-A ") }.count
                    #expect(IPTablesTools.kubenftRules(first).count == rules, "\(fixture.name) \(backend) \(family): every rule loaded")
                    #expect(IPTablesTools.kubenftRules(first).allSatisfy { $0.contains("-m comment --comment") }, "every rule carries a comment")
                }
            }
        }
    }
}
