/// One side of a table comparison: a ruleset in whatever form a caller has it (the IR, the kernel's
/// encoding or readback, or the hashes remembered from an earlier apply). `RulesetDelta` compares
/// two values of the same form, keyed by object kind and name, so `verify`, the incremental
/// planners and `diff` all find differences the same way and differ only in what they report.
package protocol ComparableTable {
    associatedtype SetObject: ComparableSet
    associatedtype ChainObject: ComparableChain
    associatedtype CounterEntry: ComparableObject

    /// True when the table's own attributes (comment, flags) are the same.
    func hasSameHeader(as other: Self) -> Bool
    var comparedSets: [SetObject] { get }
    var comparedChains: [ChainObject] { get }
    /// The named counter objects; nil when this side does not know them.
    var comparedCounters: [CounterEntry]? { get }
}

/// A named object of a table; `hasSameDeclaration` compares everything but its contents.
package protocol ComparableObject {
    var name: String { get }
    func hasSameDeclaration(as other: Self) -> Bool
}

/// A set or map: a declaration and elements.
package protocol ComparableSet: ComparableObject {
    /// What an element delta lists: elements, their encodings, or their positions.
    associatedtype Element: Hashable
    func hasSameElements(as other: Self) -> Bool
    /// The elements to add to `old` and remove from it to get these; nil when this side cannot
    /// tell which (only a digest of the elements is known).
    func elementDelta(from old: Self) -> ElementDelta<Element>?
}

/// A chain: a header (hook, comment) and rules in order.
package protocol ComparableChain: ComparableObject {
    associatedtype RuleValue: Equatable
    func hasSameRules(as other: Self) -> Bool
    /// The rules in order; nil when only a digest of them is known.
    var comparedRules: [RuleValue]? { get }
}

/// The elements that differ between two versions of one set.
package struct ElementDelta<Element: Hashable>: Equatable {
    package var added: [Element]
    package var removed: [Element]

    package init(added: [Element], removed: [Element]) {
        self.added = added
        self.removed = removed
    }

    /// Positions of the elements added (in `new`) and removed (in `old`) between two lists of
    /// per-element hashes. The common head and tail are skipped first; what remains is compared as
    /// a short edit script when there is one (a replaced element of a sorted set leaves at one end
    /// and arrives at the other), else through hash sets. Either way a small change to a large set
    /// costs about one pass and no hashing of the unchanged elements.
    package static func positions(old: [UInt64], new: [UInt64]) -> ElementDelta<Int> {
        var head = 0
        while head < new.count, head < old.count, new[head] == old[head] { head += 1 }
        var tail = 0
        while tail < new.count - head, tail < old.count - head, new[new.count - 1 - tail] == old[old.count - 1 - tail] { tail += 1 }
        let newWindow = head..<(new.count - tail), oldWindow = head..<(old.count - tail)
        if let script = ShortEditScript(old: old[oldWindow], new: new[newWindow], limit: 32) {
            let moved = Set(script.removed.map { old[$0] }).intersection(script.added.map { new[$0] })
            guard !moved.isEmpty else { return ElementDelta<Int>(added: script.added, removed: script.removed) }
            return ElementDelta<Int>(added: script.added.filter { !moved.contains(new[$0]) },
                                     removed: script.removed.filter { !moved.contains(old[$0]) })
        }
        let newHashes = Set(new[newWindow]), oldHashes = Set(old[oldWindow])
        return ElementDelta<Int>(added: newWindow.filter { !oldHashes.contains(new[$0]) },
                                 removed: oldWindow.filter { !newHashes.contains(old[$0]) })
    }
}

/// The shortest edit script between two lists when it has at most `limit` insertions and
/// deletions (Myers' greedy O((N+M)·D) algorithm, E. W. Myers, "An O(ND) Difference Algorithm and
/// Its Variations", 1986): positions (in the lists' own indices) deleted from `old` and inserted
/// from `new`, both ascending. Nil when the script is longer than `limit`.
struct ShortEditScript {
    var removed: [Int] = []
    var added: [Int] = []

    init?(old: ArraySlice<UInt64>, new: ArraySlice<UInt64>, limit: Int) {
        let (n, m) = (old.count, new.count)
        let most = min(limit, n + m)
        guard abs(n - m) <= most else { return nil }
        let offset = most + 1
        var furthest = [Int](repeating: 0, count: 2 * most + 3)
        var trace: [[Int]] = []
        for step in 0...most {
            trace.append(furthest)
            for diagonal in stride(from: -step, through: step, by: 2) {
                let down = diagonal == -step || (diagonal != step && furthest[offset + diagonal - 1] < furthest[offset + diagonal + 1])
                var x = down ? furthest[offset + diagonal + 1] : furthest[offset + diagonal - 1] + 1
                var y = x - diagonal
                while x < n, y < m, old[old.startIndex + x] == new[new.startIndex + y] { x += 1; y += 1 }
                furthest[offset + diagonal] = x
                if x >= n, y >= m {
                    backtrack(trace, offset: offset, n: n, m: m, old: old.startIndex, new: new.startIndex)
                    return
                }
            }
        }
        return nil
    }

    /// Walks the recorded frontiers back from the end, collecting one edit per step.
    private mutating func backtrack(_ trace: [[Int]], offset: Int, n: Int, m: Int, old: Int, new: Int) {
        var (x, y) = (n, m)
        for step in stride(from: trace.count - 1, to: 0, by: -1) {
            let furthest = trace[step]
            let diagonal = x - y
            let down = diagonal == -step || (diagonal != step && furthest[offset + diagonal - 1] < furthest[offset + diagonal + 1])
            let previousX = down ? furthest[offset + diagonal + 1] : furthest[offset + diagonal - 1]
            let previousY = previousX - (down ? diagonal + 1 : diagonal - 1)
            if down { added.append(new + previousY) } else { removed.append(old + previousX) }
            (x, y) = (previousX, previousY)
        }
        removed.reverse()
        added.reverse()
    }
}

/// One rule position at which two versions of a chain differ (nil: no rule there).
package struct RuleChange<RuleValue: Equatable>: Equatable {
    package var index: Int
    package var old: RuleValue?
    package var new: RuleValue?
}

/// A set present on both sides that differs.
package struct SetChange<Object: ComparableSet> {
    package var oldIndex: Int, newIndex: Int
    package var old: Object, new: Object
    package var declarationChanged: Bool
    package var elementsChanged: Bool
    /// When the elements changed and the sides can tell which.
    package var elements: ElementDelta<Object.Element>?
}

/// A chain present on both sides that differs.
package struct ChainChange<Object: ComparableChain> {
    package var oldIndex: Int, newIndex: Int
    package var old: Object, new: Object
    package var headerChanged: Bool
    package var rulesChanged: Bool
    /// Every position whose rule differs, when the rules changed and both sides list them.
    package var rules: [RuleChange<Object.RuleValue>]?
}

/// Any other named object present on both sides whose declaration differs.
package struct ObjectChange<Object: ComparableObject> {
    package var oldIndex: Int, newIndex: Int
    package var old: Object, new: Object
}

/// The keyed differences of one kind of object: entries in the new side's order, removals in the
/// old side's order, and how the order of the objects both sides have relates.
package struct ObjectDelta<Change> {
    package enum Entry {
        /// The new side's object at this index has no counterpart.
        case added(Int)
        case changed(Change)
    }

    package var entries: [Entry] = []
    /// Indices of the old side's objects the new side does not have.
    package var removed: [Int] = []
    /// Both sides list the same names in the same order.
    package var sameOrder = true
    /// Keeping the surviving objects in their old order and appending the new ones gives the new
    /// order (so an incremental change lists like a fresh load).
    package var orderCompatible = true

    package var added: [Int] { entries.compactMap { if case .added(let index) = $0 { index } else { nil } } }
    package var changed: [Change] { entries.compactMap { if case .changed(let change) = $0 { change } else { nil } } }
    package var isEmpty: Bool { entries.isEmpty && removed.isEmpty }
}

/// The one keyed comparison of two rulesets: table header, sets and maps (declaration and
/// elements), chains (header and rules) and named counters, as added, removed and changed
/// objects. Objects are matched by name (the first of a duplicated name wins); digests skip the
/// unchanged ones.
package struct RulesetDelta<Table: ComparableTable> {
    package var headerChanged: Bool
    package var sets: ObjectDelta<SetChange<Table.SetObject>>
    package var chains: ObjectDelta<ChainChange<Table.ChainObject>>
    /// Nil when either side does not know its counters.
    package var counters: ObjectDelta<ObjectChange<Table.CounterEntry>>?

    package init(from old: Table, to new: Table) {
        headerChanged = !new.hasSameHeader(as: old)
        sets = Self.keyed(old.comparedSets, new.comparedSets) { oldIndex, newIndex, before, after in
            let declarationChanged = !after.hasSameDeclaration(as: before)
            let elementsChanged = !after.hasSameElements(as: before)
            guard declarationChanged || elementsChanged else { return nil }
            return SetChange(oldIndex: oldIndex, newIndex: newIndex, old: before, new: after, declarationChanged: declarationChanged,
                             elementsChanged: elementsChanged, elements: elementsChanged ? after.elementDelta(from: before) : nil)
        }
        chains = Self.keyed(old.comparedChains, new.comparedChains) { oldIndex, newIndex, before, after in
            let headerChanged = !after.hasSameDeclaration(as: before)
            let rulesChanged = !after.hasSameRules(as: before)
            guard headerChanged || rulesChanged else { return nil }
            var rules: [RuleChange<Table.ChainObject.RuleValue>]?
            if rulesChanged, let was = before.comparedRules, let now = after.comparedRules { rules = Self.ruleChanges(was, now) }
            return ChainChange(oldIndex: oldIndex, newIndex: newIndex, old: before, new: after, headerChanged: headerChanged,
                               rulesChanged: rulesChanged, rules: rules)
        }
        if let was = old.comparedCounters, let now = new.comparedCounters {
            counters = Self.keyed(was, now) { oldIndex, newIndex, before, after in
                after.hasSameDeclaration(as: before) ? nil : ObjectChange(oldIndex: oldIndex, newIndex: newIndex, old: before, new: after)
            }
        }
    }

    /// Nothing differs (counters unknown on either side count as no difference).
    package var isEmpty: Bool {
        !headerChanged && sets.isEmpty && chains.isEmpty && counters?.isEmpty != false
            && sets.sameOrder && chains.sameOrder
    }

    /// Pairs the objects by name: by position while both lists name the same objects in the same
    /// order (the usual case, no dictionary needed), by name otherwise.
    static func keyed<Object: ComparableObject, Change>(
        _ old: [Object], _ new: [Object], change: (Int, Int, Object, Object) -> Change?
    ) -> ObjectDelta<Change> {
        var delta = ObjectDelta<Change>()
        if old.count == new.count, zip(old, new).allSatisfy({ $0.name == $1.name }) {
            for index in new.indices {
                if let found = change(index, index, old[index], new[index]) { delta.entries.append(.changed(found)) }
            }
            return delta
        }
        var oldIndex: [String: Int] = [:]
        for (index, object) in old.enumerated() where oldIndex[object.name] == nil { oldIndex[object.name] = index }
        let newNames = Set(new.map(\.name))
        for (index, object) in new.enumerated() {
            guard let before = oldIndex[object.name] else {
                delta.entries.append(.added(index))
                continue
            }
            if let found = change(before, index, old[before], object) { delta.entries.append(.changed(found)) }
        }
        delta.removed = old.indices.filter { !newNames.contains(old[$0].name) }
        let oldNames = old.map(\.name), wantNames = new.map(\.name)
        delta.sameOrder = oldNames == wantNames
        let existing = Set(oldNames)
        delta.orderCompatible = oldNames.filter { newNames.contains($0) } + wantNames.filter { !existing.contains($0) } == wantNames
        return delta
    }

    /// Every position at which two rule lists differ.
    static func ruleChanges<Rule: Equatable>(_ old: [Rule], _ new: [Rule]) -> [RuleChange<Rule>] {
        var changes: [RuleChange<Rule>] = []
        for index in 0..<max(old.count, new.count) {
            let was = index < old.count ? old[index] : nil, now = index < new.count ? new[index] : nil
            if was != now { changes.append(RuleChange(index: index, old: was, new: now)) }
        }
        return changes
    }
}
