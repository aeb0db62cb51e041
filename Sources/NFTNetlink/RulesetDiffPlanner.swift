import NFTRuleset

/// The incremental plan from the fingerprint of what the kernel is known to hold (its generation
/// did not move since kubenft committed it) to a desired ruleset, without reading the table back.
/// Chains and sets are compared by their keyed hashes, so an unchanged object costs one hash of
/// the desired side and one comparison; only changed sets are looked at element by element.
/// Returns nil when only a full replacement gives exactly what a fresh load gives.
struct RulesetDiffPlanner {
    let desired: Ruleset
    let wanted: RulesetFingerprint
    let previous: RulesetFingerprint
    /// The element operations for a set whose declaration is unchanged but whose elements differ;
    /// nil when they cannot be worked out (then the table is replaced).
    /// Called with the desired set, its previous print and its new print.
    let elementChanges: (NamedSet, RulesetFingerprint.SetPrint, RulesetFingerprint.SetPrint) throws(NetlinkError) -> [BatchOperation]?

    func plan() throws(NetlinkError) -> [BatchOperation]? {
        guard wanted.key == previous.key, wanted.comment == previous.comment,
              Self.orderCompatible(previous.sets.map(\.name), wanted.sets.map(\.name)),
              Self.orderCompatible(previous.chains.map(\.name), wanted.chains.map(\.name)) else { return nil }
        var plan = ChangePlan()
        guard let counters = previous.counters,
              IncrementalPlanner.counterChanges(have: counters.map(KernelCounter.init), desired: desired.counters, into: &plan) else { return nil }
        guard try addSetChanges(to: &plan), addChainChanges(to: &plan) else { return nil }
        let wantedChains = Set(wanted.chains.map(\.name)), wantedSets = Set(wanted.sets.map(\.name))
        plan.staleChains = previous.chains.filter { !wantedChains.contains($0.name) }
            .map { ChangePlan.StaleChain(name: $0.name, hasRules: $0.ruleCount > 0) }
        plan.staleSets = previous.sets.filter { !wantedSets.contains($0.name) }.map(\.name)
        return plan.operations
    }

    /// New sets, and element changes of existing ones; false when the table must be replaced.
    private func addSetChanges(to plan: inout ChangePlan) throws(NetlinkError) -> Bool {
        let old = Self.lookup(previous.sets, wanted.sets, name: \.name)
        for (index, set) in desired.sets.enumerated() {
            let print = wanted.sets[index]
            guard let before = old(index) else {
                plan.newSets.append(set)
                continue
            }
            guard before.declaration == print.declaration else { return false }
            if before.elements == print.elements { continue }
            guard let changes = try elementChanges(set, before, print) else { return false }
            plan.elementChanges += changes
        }
        return true
    }

    /// New chains, and chains whose rules changed; false when the table must be replaced.
    private func addChainChanges(to plan: inout ChangePlan) -> Bool {
        let old = Self.lookup(previous.chains, wanted.chains, name: \.name)
        for (index, print) in wanted.chains.enumerated() {
            guard let before = old(index) else {
                plan.newChains.append(desired.chains[index])
                continue
            }
            guard before.header == print.header else { return false }
            if before.rules != print.rules { plan.changedChains.append(desired.chains[index]) }
        }
        return true
    }

    /// The previous object for the wanted one at an index: by position while both lists name the
    /// same objects in the same order (the usual case, no dictionary needed), by name otherwise.
    private static func lookup<T>(_ previous: [T], _ wanted: [T], name: KeyPath<T, String>) -> (Int) -> T? {
        if previous.count == wanted.count, zip(previous, wanted).allSatisfy({ $0[keyPath: name] == $1[keyPath: name] }) {
            return { previous[$0] }
        }
        let byName = Dictionary(previous.map { ($0[keyPath: name], $0) }, uniquingKeysWith: { first, _ in first })
        return { byName[wanted[$0][keyPath: name]] }
    }

    /// True when keeping the surviving objects in their current order and appending the new ones
    /// gives the desired order (so the listing matches a fresh load).
    static func orderCompatible(_ have: [String], _ want: [String]) -> Bool {
        if have == want { return true }
        return IncrementalPlanner.orderCompatible(have, want)
    }

    /// Element operations between two versions of a set held in memory. Both lists are compared
    /// by per-element hashes after dropping their common head and tail, so a small change to a
    /// large set costs one pass of hashing. Interval sets are flushed and refilled.
    static func elementChanges(_ set: NamedSet, old: NamedSet, hashes: (new: [UInt64], old: [UInt64]), key: HashKey) -> [BatchOperation] {
        if set.flags.contains(.interval) {
            return [.flushSet(set.name)] + (set.elements.isEmpty ? [] : [.addElements(set: set, elements: set.elements)])
        }
        let newHashes = hashes.new.count == set.elements.count ? hashes.new : RulesetFingerprint.elementHashes(set, key: key)
        let oldHashes = hashes.old.count == old.elements.count ? hashes.old : RulesetFingerprint.elementHashes(old, key: key)
        var head = 0
        while head < newHashes.count, head < oldHashes.count, newHashes[head] == oldHashes[head] { head += 1 }
        var tail = 0
        while tail < newHashes.count - head, tail < oldHashes.count - head,
              newHashes[newHashes.count - 1 - tail] == oldHashes[oldHashes.count - 1 - tail] { tail += 1 }
        let newWindow = head..<(newHashes.count - tail), oldWindow = head..<(oldHashes.count - tail)
        let newSet = Set(newHashes[newWindow]), oldSet = Set(oldHashes[oldWindow])
        let removed = oldWindow.filter { !newSet.contains(oldHashes[$0]) }.map { old.elements[$0] }
        let added = newWindow.filter { !oldSet.contains(newHashes[$0]) }.map { set.elements[$0] }
        var operations: [BatchOperation] = []
        if !removed.isEmpty { operations.append(.deleteElements(set: set, elements: removed)) }
        if !added.isEmpty { operations.append(.addElements(set: set, elements: added)) }
        return operations
    }
}
