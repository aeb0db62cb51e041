import NFTRuleset

/// The incremental plan between two compiled rulesets, without the kernel: used when the kernel
/// is known to still hold `previous` (its generation did not move since kubenft committed it).
/// Only sets and chains that differ are looked at, so a small change costs little even on a large
/// table. Returns nil when only a full replacement gives exactly what a fresh load gives.
struct RulesetDiffPlanner {
    let desired: Ruleset
    let previous: Ruleset

    func plan() -> [BatchOperation]? {
        guard desired.comment == previous.comment,
              IncrementalPlanner.orderCompatible(previous.sets.map(\.name), desired.sets.map(\.name)),
              IncrementalPlanner.orderCompatible(previous.chains.map(\.name), desired.chains.map(\.name)) else { return nil }
        let oldSets = Dictionary(previous.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let oldChains = Dictionary(previous.chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var newChains: [BatchOperation] = [], newSets: [BatchOperation] = [], elements: [BatchOperation] = []
        var rules: [BatchOperation] = []
        for set in desired.sets {
            guard let old = oldSets[set.name] else {
                newSets.append(.addSet(set))
                if !set.elements.isEmpty { newSets.append(.addElements(set: set, elements: set.elements)) }
                continue
            }
            if old == set { continue }
            var oldDeclaration = old, newDeclaration = set
            oldDeclaration.elements = []
            newDeclaration.elements = []
            guard oldDeclaration == newDeclaration else { return nil }
            elements += elementChanges(set, old: old)
        }
        for chain in desired.chains {
            guard let old = oldChains[chain.name] else {
                newChains.append(.addChain(chain))
                rules += chain.rules.map { .addRule(chain: chain.name, $0) }
                continue
            }
            if old == chain { continue }
            guard old.hook == chain.hook, old.comment == chain.comment else { return nil }
            rules.append(.flushChain(chain.name))
            rules += chain.rules.map { .addRule(chain: chain.name, $0) }
        }
        let wantedChains = Set(desired.chains.map(\.name)), wantedSets = Set(desired.sets.map(\.name))
        let staleChains = previous.chains.filter { !wantedChains.contains($0.name) }
        var removals: [BatchOperation] = staleChains.filter { !$0.rules.isEmpty }.map { .flushChain($0.name) }
        removals += staleChains.map { .deleteChain($0.name) }
        removals += previous.sets.filter { !wantedSets.contains($0.name) }.map { .deleteSet($0.name) }
        return newChains + newSets + elements + rules + removals
    }

    private func elementChanges(_ set: NamedSet, old: NamedSet) -> [BatchOperation] {
        if set.flags.contains(.interval) {
            return [.flushSet(set.name)] + (set.elements.isEmpty ? [] : [.addElements(set: set, elements: set.elements)])
        }
        let wanted = Set(set.elements)
        let existing = Set(old.elements)
        let removed = old.elements.filter { !wanted.contains($0) }
        let added = set.elements.filter { !existing.contains($0) }
        var operations: [BatchOperation] = []
        if !removed.isEmpty { operations.append(.deleteElements(set: set, elements: removed)) }
        if !added.isEmpty { operations.append(.addElements(set: set, elements: added)) }
        return operations
    }
}
