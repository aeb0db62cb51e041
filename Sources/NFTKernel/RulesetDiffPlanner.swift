import NFTRuleset

/// The incremental plan from the fingerprint of what the kernel is known to hold (its generation
/// did not move since kubenft committed it) to a desired ruleset, without reading the table back.
/// Chains and sets are compared by their keyed hashes (`RulesetDelta` over the two fingerprints),
/// so an unchanged object costs one hash of the desired side and one comparison; only changed
/// sets are looked at element by element.
/// Returns nil when only a full replacement gives exactly what a fresh load gives.
package struct RulesetDiffPlanner {
    package let desired: Ruleset
    package let wanted: RulesetFingerprint
    package let previous: RulesetFingerprint
    /// The element operations for a set whose declaration is unchanged but whose elements differ;
    /// nil when they cannot be worked out (then the table is replaced).
    /// Called with the desired set and the comparison of its previous and new prints.
    package let elementChanges: (NamedSet, SetChange<RulesetFingerprint.SetPrint>) throws(NetlinkError) -> [BatchOperation]?

    package init(desired: Ruleset, wanted: RulesetFingerprint, previous: RulesetFingerprint, elementChanges: @escaping (NamedSet, SetChange<RulesetFingerprint.SetPrint>) throws(NetlinkError) -> [BatchOperation]?) {
        self.desired = desired
        self.wanted = wanted
        self.previous = previous
        self.elementChanges = elementChanges
    }

    package func plan() throws(NetlinkError) -> [BatchOperation]? {
        let delta = RulesetDelta(from: previous, to: wanted)
        guard !delta.headerChanged, delta.sets.orderCompatible, delta.chains.orderCompatible else { return nil }
        var plan = ChangePlan()
        guard let counters = delta.counters, let have = previous.comparedCounters, let want = wanted.comparedCounters,
              IncrementalPlanner.counterChanges(counters, have: have, wanted: want, desired: desired.counters, into: &plan) else { return nil }
        plan.newSets = delta.sets.added.map { desired.sets[$0] }
        for change in delta.sets.changed {
            guard !change.declarationChanged else { return nil }
            guard let changes = try elementChanges(desired.sets[change.newIndex], change) else { return nil }
            plan.elementChanges += changes
        }
        plan.newChains = delta.chains.added.map { desired.chains[$0] }
        for change in delta.chains.changed {
            guard !change.headerChanged else { return nil }
            plan.changedChains.append(desired.chains[change.newIndex])
        }
        plan.staleChains = delta.chains.removed.map {
            ChangePlan.StaleChain(name: previous.chains[$0].name, hasRules: previous.chains[$0].ruleCount > 0)
        }
        plan.staleSets = delta.sets.removed.map { previous.sets[$0].name }
        return plan.operations
    }

    /// Element operations between two versions of a set held in memory, from the positions of
    /// the added and removed elements (worked out from per-element hashes when the prints do not
    /// carry them). Interval sets are flushed and refilled.
    package static func elementChanges(_ set: NamedSet, old: NamedSet, positions: ElementDelta<Int>?, key: HashKey) -> [BatchOperation] {
        if set.flags.contains(.interval) {
            return [.flushSet(set.name)] + (set.elements.isEmpty ? [] : [.addElements(set: set, elements: set.elements)])
        }
        let delta = positions ?? ElementDelta<Int>.positions(old: RulesetFingerprint.elementHashes(old, key: key),
                                                             new: RulesetFingerprint.elementHashes(set, key: key))
        let removed = delta.removed.map { old.elements[$0] }
        let added = delta.added.map { set.elements[$0] }
        var operations: [BatchOperation] = []
        if !removed.isEmpty { operations.append(.deleteElements(set: set, elements: removed)) }
        if !added.isEmpty { operations.append(.addElements(set: set, elements: added)) }
        return operations
    }
}
