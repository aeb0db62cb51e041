import NFTRuleset

/// The parts of an incremental change, put in the one order in which the kernel accepts them
/// whatever refers to what. The kernel refuses to delete a chain while a rule or a verdict-map
/// element still jumps to it, or a set while a rule still looks it up (`EBUSY`), and refuses a
/// rule or element that names a chain or set it does not hold yet (`ENOENT`). So additions go
/// from what is referred to towards what refers to it, and removals the other way round:
///
/// 1. new chains, empty, so that anything may jump to them;
/// 2. new sets and maps, empty;
/// 3. element changes of kept sets: elements that jump to stale chains leave, elements that jump
///    to new chains arrive;
/// 4. the rules of new chains, and changed chains flushed and refilled: they may look up the new
///    sets and jump to the new chains, and the flush drops their references to stale objects;
///    then the new sets' elements (map elements may jump to the new chains) — after the rules,
///    because binding a rule to a map makes the kernel walk every element the map holds;
/// 5. stale chains flushed: their rules may jump to other stale chains or look up stale sets;
/// 6. stale sets and maps deleted: their elements may jump to stale chains, and no rule uses them
///    any more;
/// 7. stale chains deleted: nothing refers to them any more;
/// 8. stale counters deleted: no rule counts into them any more (new counters come first of all).
package struct ChangePlan {
    /// A chain of the kernel's table that the desired ruleset does not have.
    package struct StaleChain {
        package var name: String
        package var hasRules: Bool
    }

    package var newChains: [Chain] = []
    package var newSets: [NamedSet] = []
    package var elementChanges: [BatchOperation] = []
    package var changedChains: [Chain] = []
    package var staleChains: [StaleChain] = []
    package var staleSets: [String] = []
    package var newCounters: [CounterObject] = []
    package var staleCounters: [String] = []

    /// The batch's operations, in the order above.
    package var operations: [BatchOperation] {
        var operations: [BatchOperation] = newCounters.map { .addCounter($0) }
        operations += newChains.map { .addChain($0) }
        operations += newSets.map { .addSet($0) }
        operations += elementChanges
        for chain in newChains { operations += chain.rules.map { .addRule(chain: chain.name, $0) } }
        for chain in changedChains {
            operations.append(.flushChain(chain.name))
            operations += chain.rules.map { .addRule(chain: chain.name, $0) }
        }
        for set in newSets where !set.elements.isEmpty { operations.append(.addElements(set: set, elements: set.elements)) }
        operations += staleChains.filter(\.hasRules).map { .flushChain($0.name) }
        operations += staleSets.map { .deleteSet($0) }
        operations += staleChains.map { .deleteChain($0.name) }
        operations += staleCounters.map { .deleteCounter($0) }
        return operations
    }
}
