import Foundation
import KubeNFT
import LabKit
import NFTRuleset
import NetAddress

/// Which form of a compiled ruleset a lab test loads into its node: the nft table, or the iptables
/// form through iptables-nft or iptables-legacy. The Service and NetworkPolicy lab tests load
/// through `RulesetForm.current`, so the iptables suite runs those same tests, with the same
/// expectations, by setting the task-local value around them.
enum RulesetForm: Sendable, CustomStringConvertible, CaseIterable {
    case nft
    case iptables(IPTablesBackend)

    static let allCases: [RulesetForm] = [.nft] + IPTablesBackend.allCases.map { .iptables($0) }

    @TaskLocal static var current: RulesetForm = .nft

    /// The Service shape this form loads: iptables has no maps, so it gets the cascade.
    var shape: ServiceShape {
        switch self {
        case .nft: return .maps
        case .iptables: return .cascade
        }
    }

    var description: String {
        switch self {
        case .nft: return "nft"
        case .iptables(let backend): return backend.description
        }
    }

    /// Loads the ruleset into the lab's node in this form (both families for iptables).
    func load(_ ruleset: Ruleset, into lab: Lab) throws {
        switch self {
        case .nft:
            try lab.loadRuleset(text: Pipeline.render(ruleset, format: .nft))
        case .iptables(let backend):
            for family in IPFamily.allCases {
                let text = try Pipeline.renderIPTables(ruleset, family: family)
                let argv = [backend.tool(family, "restore"), "-w", "--noflush"]
                let result = try lab.run(in: Lab.node, argv, stdin: text)
                guard result.status == 0 else { throw LabError.rulesetRejected(stderr: "\(backend) \(family): " + result.stderr) }
            }
        }
    }
}
