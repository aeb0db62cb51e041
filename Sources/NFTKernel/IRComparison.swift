import NFTRuleset

/// The IR as a side of `RulesetDelta`: two compiled rulesets compared object by object (what
/// `diff` reports). Elements are compared as sets, as the kernel holds them.
extension Ruleset: ComparableTable {
    package func hasSameHeader(as other: Ruleset) -> Bool { comment == other.comment }
    package var comparedSets: [NamedSet] { sets }
    package var comparedChains: [Chain] { chains }
    package var comparedCounters: [CounterObject]? { counters }
}

extension NamedSet: ComparableSet {
    package func hasSameDeclaration(as other: NamedSet) -> Bool {
        var mine = self, theirs = other
        mine.elements = []
        theirs.elements = []
        return mine == theirs
    }

    package func hasSameElements(as other: NamedSet) -> Bool {
        elements == other.elements || Set(elements) == Set(other.elements)
    }

    package func elementDelta(from old: NamedSet) -> ElementDelta<SetElement>? {
        let now = Set(elements), was = Set(old.elements)
        return ElementDelta(added: Array(now.subtracting(was)), removed: Array(was.subtracting(now)))
    }
}

extension Chain: ComparableChain {
    package func hasSameDeclaration(as other: Chain) -> Bool { hook == other.hook && comment == other.comment }
    package func hasSameRules(as other: Chain) -> Bool { rules == other.rules }
    package var comparedRules: [Rule]? { rules }
}

extension CounterObject: ComparableObject {
    package func hasSameDeclaration(as other: CounterObject) -> Bool { comment == other.comment }
}
