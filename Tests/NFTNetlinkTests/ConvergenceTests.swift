import Foundation
import KubeNFT
import LabKit
import NFTRuleset
import Testing
@testable import NFTNetlink

/// The property every apply must have: applying A and then B gives exactly what a fresh load of B
/// gives (`nft list table`), from the kernel's readback, from a state file and from the state kept
/// in memory; and a dry run plans exactly the batch the real apply then sends, commits nothing, and
/// is refused only when the real apply is. Inputs are every golden case (the top-level ones and the
/// NetworkPolicy scenarios over their model), the empty input, and generated clusters.
@Suite("Incremental apply converges to a fresh load", .enabled(if: Environment.labTestsEnabled))
struct ConvergenceTests {
    /// The ring is checked in parts that run in parallel (most of the time is spent waiting for
    /// the kernel and for `nft`).
    static let ringParts = 4

    /// The seed of the random golden pairs and generated clusters; printed, and overridable with
    /// `KUBENFT_CONVERGE_SEED` to reproduce or explore.
    static let seed: UInt64 = ProcessInfo.processInfo.environment["KUBENFT_CONVERGE_SEED"].flatMap { UInt64($0) } ?? 20_251_130

    @Test("removing the last NetworkPolicy of a pod group is applied incrementally, dry run included")
    func lastPolicyRemoved() throws {
        let inputs = try ConvergenceInput.goldens()
        let model = try #require(inputs.first { $0.name == "np-model" })
        let denied = try #require(inputs.first { $0.name == "np-scenarios/default-deny-all" })
        try Namespaces.with(2) { names in
            let checker = try ConvergenceChecker(namespaces: names)
            defer { checker.stateFile.remove() }
            let removal = try checker.check(from: denied, to: model)
            #expect(removal.isEmpty, "\(removal)")
            #expect(checker.lastModes == [.incremental, .incremental, .incremental], "readback, state file, remembered")
            let addition = try checker.check(from: model, to: denied)
            #expect(addition.isEmpty, "\(addition)")
        }
    }

    @Test("goldens and the empty input in a ring, both directions", arguments: 0..<Self.ringParts)
    func goldenRing(part: Int) throws {
        let ring = try [ConvergenceInput.empty()] + ConvergenceInput.goldens()
        var pairs: [(ConvergenceInput, ConvergenceInput)] = []
        for index in ring.indices where index % Self.ringParts == part {
            let next = ring[(index + 1) % ring.count]
            pairs += [(ring[index], next), (next, ring[index])]
        }
        try ConvergenceChecker.run(pairs)
    }

    @Test("random pairs of goldens and the empty input")
    func randomGoldenPairs() throws {
        let inputs = try [ConvergenceInput.empty()] + ConvergenceInput.goldens()
        var rng = SplitMix64(state: Self.seed)
        print("ConvergenceTests: random golden pairs with seed \(Self.seed) (KUBENFT_CONVERGE_SEED)")
        var pairs: [(ConvergenceInput, ConvergenceInput)] = []
        while pairs.count < 20 {
            let a = inputs.randomElement(using: &rng)!, b = inputs.randomElement(using: &rng)!
            if a.name != b.name { pairs.append((a, b)) }
        }
        try ConvergenceChecker.run(pairs)
    }

    @Test("generated clusters: policies, endpoints, weights and affinity added, removed and changed")
    func generatedClusters() throws {
        var rng = SplitMix64(state: Self.seed ^ 0x5EED)
        print("ConvergenceTests: generated clusters with seed \(Self.seed) (KUBENFT_CONVERGE_SEED)")
        let empty = try ConvergenceInput.empty()
        var pairs: [(ConvergenceInput, ConvergenceInput)] = []
        for cluster in 0..<6 {
            var current = RandomCluster.random(&rng)
            var previous = ConvergenceInput(name: "generated \(cluster).0", ruleset: try current.compile())
            pairs += [(empty, previous), (previous, empty)]
            for step in 1...2 {
                current = current.mutated(&rng)
                let next = ConvergenceInput(name: "generated \(cluster).\(step)", ruleset: try current.compile())
                pairs += [(previous, next), (next, previous)]
                previous = next
            }
        }
        try ConvergenceChecker.run(pairs)
    }
}

/// One side of a pair: a name for messages and the compiled ruleset.
struct ConvergenceInput: Sendable {
    var name: String
    var ruleset: Ruleset

    /// Every golden case with an expected ruleset: the top-level cases and the NetworkPolicy
    /// scenarios (the model's manifests plus the scenario's policies).
    static func goldens() throws -> [ConvergenceInput] { try compiledGoldens.get() }

    private static let compiledGoldens = Result { try compileGoldens() }

    private static func compileGoldens() throws -> [ConvergenceInput] {
        var inputs = try GoldenCases.all.map { ConvergenceInput(name: $0.name, ruleset: try $0.compile()) }
        let scenarios = GoldenCases.root + "/np-scenarios"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: scenarios)) ?? []).sorted()
        let node = NodeOptions(arguments: (try? String(contentsOfFile: GoldenCases.root + "/np-model/case.args", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).map(String.init) ?? [], relativeTo: GoldenCases.root + "/np-model")
        for name in names where FileManager.default.fileExists(atPath: "\(scenarios)/\(name)/expected.nft") {
            let result = Pipeline.run(paths: [GoldenCases.root + "/np-model/manifests", "\(scenarios)/\(name)/policies.yaml"], node: node)
            guard let ruleset = result.ruleset else {
                throw Namespaces.Failure(description: "np-scenarios/\(name) does not compile: \(result.errors.map(\.description))")
            }
            inputs.append(ConvergenceInput(name: "np-scenarios/" + name, ruleset: ruleset))
        }
        return inputs
    }

    /// No objects at all: the table with no services and no policies.
    static func empty() throws -> ConvergenceInput {
        ConvergenceInput(name: "empty", ruleset: try RandomCluster.compile(yaml: "", node: RandomCluster.node))
    }
}

/// Runs apply A, then B, in one namespace, and compares with a fresh load of B in another, for
/// each of the three ways an apply learns what the kernel holds.
final class ConvergenceChecker {
    enum Path: String, CaseIterable {
        /// No state: the table is read back.
        case readback
        /// A state file saved after A and loaded again (hashes only, no elements).
        case stateFile = "state file"
        /// The state the apply of A returned, with its ruleset.
        case remembered
    }

    let transition: NetlinkTransport
    let freshLoads: NetlinkTransport
    let freshNamespace: String
    let transitionNamespace: String
    let stateFile = AppliedStateFile(path: NSTemporaryDirectory() + "kubenft-converge-\(UUID().uuidString).state")
    private var freshListings: [String: String] = [:]
    private(set) var incremental = 0
    /// The modes of the last pair's applies of B, one per path.
    private(set) var lastModes: [ApplyMode] = []
    private(set) var transitions = 0

    init(namespaces: [String]) throws {
        transitionNamespace = namespaces[0]
        freshNamespace = namespaces[1]
        transition = try NetlinkTransport(namespace: namespaces[0])
        freshLoads = try NetlinkTransport(namespace: namespaces[1])
    }

    /// Checks every pair in throwaway namespaces and records an issue per problem.
    static func run(_ pairs: [(ConvergenceInput, ConvergenceInput)]) throws {
        let start = Date()
        try Namespaces.with(2) { names in
            let checker = try ConvergenceChecker(namespaces: names)
            defer { checker.stateFile.remove() }
            for (a, b) in pairs {
                for problem in try checker.check(from: a, to: b) { Issue.record("\(problem)") }
            }
            #expect(checker.incremental > 0, "no pair was applied incrementally")
            print("ConvergenceTests: \(pairs.count) pairs, \(checker.transitions) applies of B after A, " +
                  "\(checker.incremental) incremental, in \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        }
    }

    /// `nft list table` after a fresh load of `input`.
    func freshListing(_ input: ConvergenceInput) throws -> String {
        if let listing = freshListings[input.name] { return listing }
        let applier = RulesetApplier(transport: freshLoads)
        try applier.delete(family: input.ruleset.family, table: input.ruleset.name)
        let outcome = try applier.apply(input.ruleset)
        guard outcome.mode == .created else { throw Namespaces.Failure(description: "fresh load of \(input.name) was \(outcome.mode)") }
        let listing = try Namespaces.listTable(in: freshNamespace)
        freshListings[input.name] = listing
        return listing
    }

    /// The problems found going from `a` to `b`, one line each.
    func check(from a: ConvergenceInput, to b: ConvergenceInput) throws -> [String] {
        let expected = try freshListing(b)
        var problems: [String] = []
        lastModes = []
        for path in Path.allCases {
            let label = "\(a.name) → \(b.name) (\(path.rawValue))"
            let applier = RulesetApplier(transport: transition)
            try applier.delete(family: a.ruleset.family, table: a.ruleset.name)
            let first = try applier.apply(a.ruleset)
            let previous: AppliedState?
            switch path {
            case .readback: previous = nil
            case .stateFile:
                try stateFile.save(try #require(first.state))
                previous = try #require(stateFile.load(), "\(label): the saved state does not load")
            case .remembered: previous = first.state
            }
            transitions += 1
            problems += try compare(label: label, b: b, previous: previous, expected: expected)
        }
        return problems
    }

    /// Dry run, then the real apply of `b`, from `previous`; then the listing.
    private func compare(label: String, b: ConvergenceInput, previous: AppliedState?, expected: String) throws -> [String] {
        let counting = CountingTransport(inner: transition)
        let applier = RulesetApplier(transport: counting)
        let generation = try transition.generation()
        var problems: [String] = []
        var planned: ApplyOutcome?
        do {
            planned = try applier.apply(b.ruleset, dryRun: true, previous: previous)
        } catch {
            problems.append("\(label): the dry run was refused: \(error.message)")
        }
        if try transition.generation() != generation { problems.append("\(label): the dry run committed something") }
        let readsBefore = counting.reads
        let applied: ApplyOutcome
        do {
            applied = try applier.apply(b.ruleset, previous: previous)
        } catch {
            return problems + ["\(label): apply was refused: \(error.message)"]
        }
        if previous != nil, counting.reads != readsBefore {
            problems.append("\(label): the remembered state was not used (the table was read back)")
        }
        if let planned, planned.mode != applied.mode || planned.operations != applied.operations {
            problems.append("\(label): the dry run planned \(planned.mode) with \(planned.operations.count) operations, " +
                            "the apply sent \(applied.mode) with \(applied.operations.count): " +
                            Self.firstDifference(planned.operations, applied.operations))
        }
        lastModes.append(applied.mode)
        if applied.mode == .incremental { incremental += 1 }
        let listing = try Namespaces.listTable(in: transitionNamespace)
        if listing != expected {
            problems.append("\(label): \(applied.mode) apply differs from a fresh load: " +
                            Self.firstDifference(listing.split(separator: "\n").map(String.init), expected.split(separator: "\n").map(String.init)))
        }
        return problems
    }

    static func firstDifference(_ left: [BatchOperation], _ right: [BatchOperation]) -> String {
        guard let index = left.indices.first(where: { $0 >= right.count || left[$0] != right[$0] }) ?? (left.count < right.count ? left.count : nil) else {
            return "no operation differs"
        }
        return "operation \(index + 1): `\(index < left.count ? "\(left[index])" : "<end>")` against `\(index < right.count ? "\(right[index])" : "<end>")`"
    }

    static func firstDifference(_ left: [String], _ right: [String]) -> String {
        for index in 0..<max(left.count, right.count) where (index < left.count ? left[index] : nil) != (index < right.count ? right[index] : nil) {
            return "line \(index + 1): `\(index < left.count ? left[index] : "<end>")` against `\(index < right.count ? right[index] : "<end>")`"
        }
        return "no line differs"
    }
}
