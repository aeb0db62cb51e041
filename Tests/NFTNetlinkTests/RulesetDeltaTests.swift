import Foundation
@testable import NFTKernel
import NFTRuleset
import Testing
@testable import NFTNetlink

/// The one keyed comparison of two rulesets: for random pairs of rulesets (goldens, the empty
/// input and generated clusters with their mutations), applying the delta to the old side gives
/// the new side, in the IR, in the kernel's encoding and from fingerprints; and the three forms
/// agree on which objects were added, removed and changed. No kernel is needed.
@Suite("One table comparison")
struct RulesetDeltaTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["KUBENFT_CONVERGE_SEED"].flatMap { UInt64($0) } ?? 20_251_130

    /// Pairs: random golden pairs, each golden against the empty input, and generated clusters
    /// with a few mutations each, in both directions.
    static func pairs() throws -> [(String, Ruleset, Ruleset)] {
        var rng = SplitMix64(state: seed ^ 0xDE17A)
        let goldens = try [ConvergenceInput.empty()] + ConvergenceInput.goldens()
        var pairs: [(String, Ruleset, Ruleset)] = []
        for _ in 0..<30 {
            let a = goldens.randomElement(using: &rng)!, b = goldens.randomElement(using: &rng)!
            pairs.append(("\(a.name) -> \(b.name)", a.ruleset, b.ruleset))
        }
        for cluster in 0..<6 {
            var current = RandomCluster.random(&rng)
            var previous = try current.compile()
            for step in 1...3 {
                current = current.mutated(&rng)
                let next = try current.compile()
                pairs += [("generated \(cluster).\(step)", previous, next), ("generated \(cluster).\(step) back", next, previous)]
                previous = next
            }
        }
        return pairs
    }

    @Test("applying the IR delta to the old ruleset gives the new one")
    func irDeltaApplies() throws {
        for (name, old, new) in try Self.pairs() {
            let delta = RulesetDelta(from: old, to: new)
            let rebuilt = Self.applying(delta, to: old, new: new)
            #expect(rebuilt.sets.map(\.name) == new.sets.map(\.name), "\(name)")
            for (got, want) in zip(rebuilt.sets, new.sets) {
                #expect(Set(got.elements) == Set(want.elements), "\(name): set \(want.name)")
                #expect(got.hasSameDeclaration(as: want), "\(name): set \(want.name)")
            }
            #expect(rebuilt.chains == new.chains, "\(name)")
            #expect(rebuilt.counters == new.counters, "\(name)")
            if old == new { #expect(delta.isEmpty, "\(name)") }
        }
    }

    @Test("applying the kernel delta to the old encoding gives the new one exactly")
    func kernelDeltaApplies() throws {
        for (name, old, new) in try Self.pairs() {
            let before = try KernelTable(encoding: old), after = try KernelTable(encoding: new)
            let delta = RulesetDelta(from: before, to: after)
            var sets: [KernelSet] = []
            for (index, want) in after.sets.enumerated() {
                guard var set = before.sets.first(where: { $0.name == want.name }) else {
                    #expect(delta.sets.added.contains(index), "\(name): \(want.name) is new")
                    sets.append(want)
                    continue
                }
                if let change = delta.sets.changed.first(where: { $0.newIndex == index }) {
                    if change.declarationChanged { set.layout = change.new.layout }
                    #expect((change.elements != nil) == change.elementsChanged, "\(name): \(want.name)")
                    if let elements = change.elements {
                        set.elements.subtract(elements.removed)
                        set.elements.formUnion(elements.added)
                    }
                }
                sets.append(set)
            }
            #expect(sets == after.sets, "\(name)")
            var chains: [KernelChain] = []
            for (index, want) in after.chains.enumerated() {
                guard var chain = before.chains.first(where: { $0.name == want.name }) else {
                    #expect(delta.chains.added.contains(index), "\(name): \(want.name) is new")
                    chains.append(want)
                    continue
                }
                if let change = delta.chains.changed.first(where: { $0.newIndex == index }) {
                    if change.headerChanged { (chain.hook, chain.comment) = (change.new.hook, change.new.comment) }
                    #expect((change.rules != nil) == change.rulesChanged, "\(name): \(want.name)")
                    chain.rules = Self.applying(change.rules ?? [], to: chain.rules)
                }
                chains.append(chain)
            }
            #expect(chains == after.chains, "\(name)")
            let removed = Set(delta.chains.removed.map { before.chains[$0].name })
            #expect(removed == Set(before.chains.map(\.name)).subtracting(after.chains.map(\.name)), "\(name)")
        }
    }

    @Test("fingerprints, the IR and the kernel encoding find the same changed objects")
    func formsAgree() throws {
        let key = HashKey.random()
        for (name, old, new) in try Self.pairs() {
            let ir = RulesetDelta(from: old, to: new)
            let kernel = RulesetDelta(from: try KernelTable(encoding: old), to: try KernelTable(encoding: new))
            let prints = RulesetDelta(from: RulesetFingerprint(old, key: key), to: RulesetFingerprint(new, key: key))
            let changedChains = ir.chains.changed.map(\.newIndex)
            #expect(kernel.chains.changed.map(\.newIndex) == changedChains, "\(name)")
            #expect(prints.chains.changed.map(\.newIndex) == changedChains, "\(name)")
            #expect(kernel.chains.added == ir.chains.added && prints.chains.added == ir.chains.added, "\(name)")
            #expect(kernel.chains.removed == ir.chains.removed && prints.chains.removed == ir.chains.removed, "\(name)")
            #expect(kernel.sets.added == ir.sets.added && prints.sets.added == ir.sets.added, "\(name)")
            #expect(kernel.sets.removed == ir.sets.removed && prints.sets.removed == ir.sets.removed, "\(name)")
            // Element positions from the prints, applied to the old IR, give the new elements.
            for change in prints.sets.changed where change.elementsChanged {
                let positions = try #require(change.elements)
                let was = old.sets[change.oldIndex].elements, now = new.sets[change.newIndex].elements
                let removed = Set(positions.removed)
                let kept = was.indices.filter { !removed.contains($0) }.map { was[$0] }
                #expect(Set(kept + positions.added.map { now[$0] }) == Set(now), "\(name): set \(new.sets[change.newIndex].name)")
            }
        }
    }

    @Test("element positions from hashes skip the common head and tail")
    func positions() {
        let old: [UInt64] = [1, 2, 3, 4, 5, 6], new: [UInt64] = [1, 2, 9, 4, 6, 7]
        let delta = ElementDelta<Int>.positions(old: old, new: new)
        #expect(delta.removed.map { old[$0] } == [3, 5])
        #expect(delta.added.map { new[$0] } == [9, 7])
        #expect(ElementDelta<Int>.positions(old: old, new: old) == ElementDelta(added: [], removed: []))
    }

    @Test("listings compare sets by their elements, not the order the kernel lists them in")
    func listingsSortElements() {
        let listing = """
            table inet kubenft {
            \tmap m {
            \t\telements = { 10.0.0.2 . tcp . 80 comment "a, b" : goto x,
            \t\t\t     10.0.0.1 . tcp . 80 : goto y }
            \t}
            }
            """
        let reordered = """
            table inet kubenft {
            \tmap m {
            \t\telements = { 10.0.0.1 . tcp . 80 : goto y, 10.0.0.2 . tcp . 80 comment "a, b" : goto x }
            \t}
            }
            """
        #expect(Namespaces.sortingElements(listing) == Namespaces.sortingElements(reordered))
        #expect(Namespaces.sortingElements(listing).contains("comment \"a, b\" : goto x"))
        #expect(Namespaces.sortingElements(listing) != Namespaces.sortingElements(reordered.replacingOccurrences(of: "goto y", with: "goto z")))
        #expect(Namespaces.sortingElements("no sets here\n") == "no sets here\n")
    }

    @Test("element positions give exactly the elements only one side has, for short and long edit scripts")
    func positionsProperty() {
        var random = SplitMix64(state: 0x5EED_0E1E)
        for round in 0..<400 {
            let size = Int.random(in: 0...300, using: &random)
            var next: UInt64 = 1
            let old: [UInt64] = (0..<size).map { _ in next += UInt64.random(in: 1...3, using: &random); return next }
            var new = old
            // Few edits take the edit-script path, many the hash-set path; some moves keep an element.
            let edits = round % 4 == 3 ? Int.random(in: 33...120, using: &random) : Int.random(in: 0...12, using: &random)
            for _ in 0..<edits {
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where !new.isEmpty: new.remove(at: Int.random(in: 0..<new.count, using: &random))
                case 1 where !new.isEmpty:
                    let moved = new.remove(at: Int.random(in: 0..<new.count, using: &random))
                    new.insert(moved, at: Int.random(in: 0...new.count, using: &random))
                default:
                    next += 1_000
                    new.insert(next, at: Int.random(in: 0...new.count, using: &random))
                }
            }
            let delta = ElementDelta<Int>.positions(old: old, new: new)
            #expect(Set(delta.removed.map { old[$0] }) == Set(old).subtracting(new), "round \(round)")
            #expect(Set(delta.added.map { new[$0] }) == Set(new).subtracting(old), "round \(round)")
            #expect(delta.removed.count == Set(old).subtracting(new).count && delta.added.count == Set(new).subtracting(old).count)
            #expect(delta.removed == delta.removed.sorted() && delta.added == delta.added.sorted(), "round \(round)")
        }
    }

    @Test("an element replaced at the start of a sorted set and one arriving at its end cost two edits")
    func shortEditScript() throws {
        let old = Array(UInt64(0)..<UInt64(100_000)), new = Array(old.dropFirst()) + [200_000]
        let script = try #require(ShortEditScript(old: old[...], new: new[...], limit: 2))
        #expect(script.removed == [0] && script.added == [new.count - 1])
        #expect(ShortEditScript(old: old[...], new: new[...], limit: 1) == nil)
        let disjoint: [UInt64] = [7, 8, 9]
        #expect(ShortEditScript(old: disjoint[...], new: [1, 2, 3][...], limit: 5) == nil)
        #expect(try #require(ShortEditScript(old: disjoint[...], new: [1, 2, 3][...], limit: 6)).removed == [0, 1, 2])
    }

    /// The old ruleset with the delta's changes made to it: kept objects are the old ones with
    /// their elements or rules changed, added objects are the new ones.
    static func applying(_ delta: RulesetDelta<Ruleset>, to old: Ruleset, new: Ruleset) -> Ruleset {
        var result = old
        let oldSets = Dictionary(old.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        result.sets = new.sets.enumerated().map { index, want in
            guard var set = oldSets[want.name] else { return want }
            if let change = delta.sets.changed.first(where: { $0.newIndex == index }) {
                if change.declarationChanged { set = NamedSet(copyingDeclarationOf: change.new, elements: set.elements) }
                if let elements = change.elements {
                    let removed = Set(elements.removed)
                    set.elements = set.elements.filter { !removed.contains($0) } + elements.added
                }
            }
            return set
        }
        let oldChains = Dictionary(old.chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        result.chains = new.chains.enumerated().map { index, want in
            guard var chain = oldChains[want.name] else { return want }
            if let change = delta.chains.changed.first(where: { $0.newIndex == index }) {
                if change.headerChanged { (chain.hook, chain.comment) = (change.new.hook, change.new.comment) }
                if let rules = change.rules { chain.rules = applying(rules, to: chain.rules) }
            }
            return chain
        }
        var counters = old.counters
        if let delta = delta.counters {
            let removed = Set(delta.removed.map { old.counters[$0].name })
            counters.removeAll { removed.contains($0.name) }
            for change in delta.changed { counters[counters.firstIndex { $0.name == change.old.name }!] = change.new }
            let byName = Dictionary(counters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            counters = new.counters.map { byName[$0.name] ?? $0 }
        }
        result.counters = counters
        result.comment = delta.headerChanged ? new.comment : old.comment
        return result
    }

    /// Rules with every changed position replaced (and trailing positions dropped or appended).
    static func applying<Rule: Equatable>(_ changes: [RuleChange<Rule>], to rules: [Rule]) -> [Rule] {
        var slots: [Rule?] = rules
        for change in changes {
            while slots.count <= change.index { slots.append(nil) }
            slots[change.index] = change.new
        }
        return slots.compactMap { $0 }
    }
}

extension NamedSet {
    /// `declaration`'s declaration with `elements`.
    init(copyingDeclarationOf declaration: NamedSet, elements: [SetElement]) {
        self = declaration
        self.elements = elements
    }
}
