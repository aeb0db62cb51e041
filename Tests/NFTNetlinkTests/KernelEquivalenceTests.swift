import Foundation
import LabKit
import NFTNetlink
import NFTRuleset
import Testing

/// The acceptance test: a ruleset loaded through libnftnl lists exactly like the golden text
/// loaded with `nft -f`, for every golden case.
@Suite("Kernel equivalence with nft -f", .enabled(if: Environment.labTestsEnabled))
struct KernelEquivalenceTests {
    @Test("libnftnl and nft -f give the same table", arguments: GoldenCases.all)
    func sameListing(_ golden: GoldenCase) throws {
        let ruleset = try golden.compile()
        try Namespaces.with(2) { names in
            let outcome = try RulesetApplier(transport: try NetlinkTransport(namespace: names[0])).apply(ruleset)
            #expect(outcome.mode == .created)
            _ = try Namespaces.nft(["-f", "-"], in: names[1], stdin: golden.expectedText)
            let viaNetlink = try Namespaces.listTable(in: names[0])
            let viaText = try Namespaces.listTable(in: names[1])
            #expect(viaNetlink == viaText, "\(golden.name): listings differ")
            if viaNetlink != viaText { firstDifference(viaNetlink, viaText) }
            // Neither table holds anything verify would call drift (flags, foreign attributes).
            for name in names {
                let differences = try RulesetApplier(transport: try NetlinkTransport(namespace: name)).differences(ruleset)
                #expect(differences.isEmpty, "\(golden.name) in \(name): \(differences.prefix(3))")
            }
        }
    }

    /// Large sets are declared with a size (docs/apply.md): such a table loads through libnftnl
    /// as through `nft -f`, verifies clean, and takes an endpoint change as element changes that
    /// end where a fresh load ends.
    @Test("a table with sized sets loads, verifies and changes like any other")
    func sizedSets() throws {
        let base = try SyntheticCluster.compile(services: 700, endpoints: 8)
        let moved = try SyntheticCluster.compile(services: 700, endpoints: 8, moved: [3, 400])
        #expect(base.sets.contains { ($0.size ?? 0) > 0 && $0.elements.count >= 4_096 }, "the cluster has a sized set")
        try Namespaces.with(3) { names in
            let applier = RulesetApplier(transport: try NetlinkTransport(namespace: names[0]))
            let first = try applier.apply(base)
            _ = try Namespaces.nft(["-f", "-"], in: names[1], stdin: NFTTextEmitter().emit(base))
            #expect(try Namespaces.listTable(in: names[0]) == Namespaces.listTable(in: names[1]))
            #expect(try Namespaces.listTable(in: names[0]).contains("size "))
            #expect(try applier.differences(base).isEmpty)
            let changed = try applier.apply(moved, previous: first.state)
            #expect(changed.mode == .incremental)
            _ = try RulesetApplier(transport: try NetlinkTransport(namespace: names[2])).apply(moved)
            #expect(try Namespaces.listTable(in: names[0]) == Namespaces.listTable(in: names[2]))
        }
    }

    func firstDifference(_ left: String, _ right: String) {
        let a = left.split(separator: "\n", omittingEmptySubsequences: false)
        let b = right.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(a.count, b.count) where (index < a.count ? a[index] : "") != (index < b.count ? b[index] : "") {
            Issue.record("line \(index + 1):\n  netlink: \(index < a.count ? a[index] : "<end>")\n  nft -f:  \(index < b.count ? b[index] : "<end>")")
            return
        }
    }
}
