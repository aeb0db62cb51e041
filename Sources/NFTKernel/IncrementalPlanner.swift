import NFTRuleset

/// Plans the smallest batch that turns the kernel's table into the desired one: element changes
/// for sets whose declaration is unchanged (flush and refill for interval sets), chains re-filled
/// when their rules changed, new objects added and stale ones removed. Returns nil when only a
/// full replacement can give exactly what a fresh load gives (a changed declaration, hook or
/// comment, objects whose listing order would differ, table flags such as dormant, objects of
/// kinds kubenft never creates, or chains and sets with attributes it never sends).
package struct IncrementalPlanner {
    package let desired: Ruleset
    package let wanted: KernelTable
    /// The kernel's table as read back.
    package let have: KernelTable
    /// The IR the table was last applied from, when the readback found it.
    package let stored: Ruleset?

    package init(desired: Ruleset, wanted: KernelTable, have: KernelTable, stored: Ruleset? = nil) {
        self.desired = desired
        self.wanted = wanted
        self.have = have
        self.stored = stored
    }

    package func plan() -> [BatchOperation]? {
        let delta = RulesetDelta(from: have, to: wanted)
        guard !delta.headerChanged, have.foreignObjects.isEmpty,
              !have.chains.contains(where: { $0.extra != nil }), !have.sets.contains(where: { $0.extra != nil }),
              delta.sets.orderCompatible, delta.chains.orderCompatible else { return nil }
        var plan = ChangePlan()
        guard let counters = delta.counters,
              Self.counterChanges(counters, have: have.counters, wanted: wanted.counters, desired: desired.counters, into: &plan) else { return nil }
        plan.newSets = delta.sets.added.map { desired.sets[$0] }
        for change in delta.sets.changed {
            guard !change.declarationChanged else { return nil }
            let set = desired.sets[change.newIndex]
            let oldElements = stored?.set(named: set.name)?.elements
            guard let elements = change.elements,
                  let changes = Self.elementChanges(set, old: change.old, want: change.new, delta: elements, oldElements: oldElements) else { return nil }
            plan.elementChanges += changes
        }
        plan.newChains = delta.chains.added.map { desired.chains[$0] }
        for change in delta.chains.changed {
            guard !change.headerChanged else { return nil }
            plan.changedChains.append(desired.chains[change.newIndex])
        }
        plan.staleChains = delta.chains.removed.map { ChangePlan.StaleChain(name: have.chains[$0].name, hasRules: !have.chains[$0].rules.isEmpty) }
        plan.staleSets = delta.sets.removed.map { have.sets[$0].name }
        return plan.operations
    }

    /// New and stale counters from a counter delta; false when a kept counter's comment changed
    /// (the kernel cannot change it in place, so the table is replaced). Kept counters keep their
    /// values. `wanted` are the desired counters' kernel forms, `desired` the same in the IR.
    package static func counterChanges(_ delta: ObjectDelta<ObjectChange<KernelCounter>>, have: [KernelCounter], wanted: [KernelCounter],
                               desired: [CounterObject], into plan: inout ChangePlan) -> Bool {
        guard delta.changed.isEmpty else { return false }
        let added = Set(delta.added.map { wanted[$0].name })
        plan.newCounters = desired.filter { added.contains($0.name) }
        plan.staleCounters = delta.removed.map { have[$0].name }
        return true
    }

    /// Element operations turning the kernel's `old` into `want` (the encoding of `set`);
    /// `oldElements` are the old elements in the IR when known, decoded from the kernel's otherwise.
    package static func elementChanges(_ set: NamedSet, old: KernelSet, want: KernelSet, delta: ElementDelta<EncodedElement>,
                               oldElements: [SetElement]?) -> [BatchOperation]? {
        if want.layout.isInterval {
            return [.flushSet(set.name)] + (set.elements.isEmpty ? [] : [.addElements(set: set, elements: set.elements)])
        }
        let removed = Set(delta.removed), added = Set(delta.added)
        // Without the old elements in the IR only the removed ones are decoded, in a fixed order
        // (a dry run and the apply that follows it send the same batch).
        let deletions = oldElements.map { Self.select($0, of: set, encodedIn: removed) }
            ?? Self.decode(removed, of: set, layout: old.layout)
        guard let deletions,
              let additions = Self.select(set.elements, of: set, encodedIn: added) else { return nil }
        var operations: [BatchOperation] = []
        if !deletions.isEmpty { operations.append(.deleteElements(set: set, elements: deletions)) }
        if !additions.isEmpty { operations.append(.addElements(set: set, elements: additions)) }
        return operations
    }

    /// The elements `encoded` holds, sorted; nil unless they encode back to exactly `encoded`.
    private static func decode(_ encoded: Set<EncodedElement>, of set: NamedSet, layout: SetLayout) -> [SetElement]? {
        var decoded = set
        decoded.elements = KernelRaiser.elements(encoded, layout: layout)
        guard let encodings = try? ElementEncoder.encode(decoded, layout: layout), Set(encodings) == encoded else { return nil }
        return decoded.elements
    }

    /// The elements whose encoding is in `encoded`; nil if they do not account for all of it.
    private static func select(_ elements: [SetElement], of set: NamedSet, encodedIn encoded: Set<EncodedElement>) -> [SetElement]? {
        guard !encoded.isEmpty else { return [] }
        guard let layout = try? SetLayout(set) else { return nil }
        var selected: [SetElement] = []
        var found = 0
        for element in elements {
            var single = set
            single.elements = [element]
            guard let encodings = try? ElementEncoder.encode(single, layout: layout), encodings.count == 1 else { return nil }
            if encoded.contains(encodings[0]) {
                selected.append(element)
                found += 1
            }
        }
        return found == encoded.count ? selected : nil
    }
}
