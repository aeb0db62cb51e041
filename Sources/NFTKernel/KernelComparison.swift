import NFTRuleset

/// The kernel's form as a side of `RulesetDelta`: a desired ruleset's encoding against a readback
/// (what `verify` reports and what an incremental apply from a readback plans from). Objects the
/// IR cannot describe (`extra`, foreign objects, the owner) are the callers' to look at.
extension KernelTable: ComparableTable {
    package func hasSameHeader(as other: KernelTable) -> Bool { comment == other.comment && flags == other.flags }
    package var comparedSets: [KernelSet] { sets }
    package var comparedChains: [KernelChain] { chains }
    package var comparedCounters: [KernelCounter]? { counters }
}

extension KernelSet: ComparableSet {
    package func hasSameDeclaration(as other: KernelSet) -> Bool { layout == other.layout }
    package func hasSameElements(as other: KernelSet) -> Bool { elements == other.elements }

    package func elementDelta(from old: KernelSet) -> ElementDelta<EncodedElement>? {
        ElementDelta(added: Array(elements.subtracting(old.elements)), removed: Array(old.elements.subtracting(elements)))
    }
}

extension KernelChain: ComparableChain {
    package func hasSameDeclaration(as other: KernelChain) -> Bool { hook == other.hook && comment == other.comment }
    package func hasSameRules(as other: KernelChain) -> Bool { rules == other.rules }
    package var comparedRules: [KernelRule]? { rules }
}

extension KernelCounter: ComparableObject {
    package func hasSameDeclaration(as other: KernelCounter) -> Bool { comment == other.comment }
}

/// Remembered hashes as a side of `RulesetDelta`: the fingerprint of what kubenft last committed
/// against the desired ruleset's (an incremental apply without a readback). Fingerprints made with
/// different keys always differ in their header.
extension RulesetFingerprint: ComparableTable {
    package func hasSameHeader(as other: RulesetFingerprint) -> Bool { key == other.key && comment == other.comment }
    package var comparedSets: [SetPrint] { sets }
    package var comparedChains: [ChainPrint] { chains }
    package var comparedCounters: [KernelCounter]? { counters?.map(KernelCounter.init) }
}

extension RulesetFingerprint.SetPrint: ComparableSet {
    package func hasSameDeclaration(as other: Self) -> Bool { declaration == other.declaration }
    package func hasSameElements(as other: Self) -> Bool { elements == other.elements }

    /// Positions of the added (in this print) and removed (in `old`) elements, when both prints
    /// were made in memory with their per-element hashes.
    package func elementDelta(from old: Self) -> ElementDelta<Int>? {
        guard hashesKnown, old.hashesKnown else { return nil }
        return ElementDelta<Int>.positions(old: old.elementHashes, new: elementHashes)
    }
}

extension RulesetFingerprint.ChainPrint: ComparableChain {
    package func hasSameDeclaration(as other: Self) -> Bool { header == other.header }
    package func hasSameRules(as other: Self) -> Bool { rules == other.rules }
    package var comparedRules: [UInt64]? { nil }
}
