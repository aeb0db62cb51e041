import NFTRuleset

/// Plans the smallest batch that turns the kernel's table into the desired one: element changes
/// for sets whose declaration is unchanged (flush and refill for interval sets), chains re-filled
/// when their rules changed, new objects added and stale ones removed. Returns nil when only a
/// full replacement can give exactly what a fresh load gives (a changed declaration, hook or
/// comment, objects whose listing order would differ, table flags such as dormant, objects of
/// kinds kubenft never creates, or chains and sets with attributes it never sends).
struct IncrementalPlanner {
    let desired: Ruleset
    let wanted: KernelTable
    let current: TableSnapshot

    func plan() -> [BatchOperation]? {
        let have = current.kernel
        guard have.comment == wanted.comment, have.flags == wanted.flags, have.foreignObjects.isEmpty,
              !have.chains.contains(where: { $0.extra != nil }), !have.sets.contains(where: { $0.extra != nil }),
              Self.orderCompatible(have.sets.map(\.name), wanted.sets.map(\.name)),
              Self.orderCompatible(have.chains.map(\.name), wanted.chains.map(\.name)) else { return nil }
        var plan = ChangePlan()
        guard Self.counterChanges(have: have.counters, desired: desired.counters, into: &plan) else { return nil }
        let haveSets = Dictionary(have.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let haveChains = Dictionary(have.chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (set, want) in zip(desired.sets, wanted.sets) {
            guard let old = haveSets[set.name] else {
                plan.newSets.append(set)
                continue
            }
            guard old.layout == want.layout else { return nil }
            if old.elements == want.elements { continue }
            let oldElements = current.stored?.set(named: set.name)?.elements
            guard let changes = Self.elementChanges(set, old: old, want: want, oldElements: oldElements) else { return nil }
            plan.elementChanges += changes
        }
        for (chain, want) in zip(desired.chains, wanted.chains) {
            guard let old = haveChains[chain.name] else {
                plan.newChains.append(chain)
                continue
            }
            guard old.hook == want.hook, old.comment == want.comment else { return nil }
            if old.rules != want.rules { plan.changedChains.append(chain) }
        }
        let wantedChains = Set(wanted.chains.map(\.name)), wantedSets = Set(wanted.sets.map(\.name))
        plan.staleChains = have.chains.filter { !wantedChains.contains($0.name) }
            .map { ChangePlan.StaleChain(name: $0.name, hasRules: !$0.rules.isEmpty) }
        plan.staleSets = have.sets.filter { !wantedSets.contains($0.name) }.map(\.name)
        return plan.operations
    }

    /// New and stale counters; false when a kept counter's comment changed (the kernel cannot
    /// change it in place, so the table is replaced). Kept counters keep their values.
    static func counterChanges(have: [KernelCounter], desired: [CounterObject], into plan: inout ChangePlan) -> Bool {
        let haveByName = Dictionary(have.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for counter in desired {
            guard let old = haveByName[counter.name] else {
                plan.newCounters.append(counter)
                continue
            }
            guard old.comment == KernelCounter(counter).comment else { return false }
        }
        let wantNames = Set(desired.map(\.name))
        plan.staleCounters = have.map(\.name).filter { !wantNames.contains($0) }
        return true
    }

    /// True when keeping the surviving objects in their current order and appending the new ones
    /// gives the desired order (so the listing matches a fresh load).
    static func orderCompatible(_ have: [String], _ want: [String]) -> Bool {
        let wanted = Set(want), existing = Set(have)
        return have.filter { wanted.contains($0) } + want.filter { !existing.contains($0) } == want
    }

    /// Element operations turning the kernel's `old` into `want` (the encoding of `set`);
    /// `oldElements` are the old elements in the IR when known, decoded from the kernel's otherwise.
    static func elementChanges(_ set: NamedSet, old: KernelSet, want: KernelSet, oldElements: [SetElement]?) -> [BatchOperation]? {
        if want.layout.isInterval {
            return [.flushSet(set.name)] + (set.elements.isEmpty ? [] : [.addElements(set: set, elements: set.elements)])
        }
        let removed = old.elements.subtracting(want.elements)
        let added = want.elements.subtracting(old.elements)
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
