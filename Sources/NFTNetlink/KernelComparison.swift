import NFTKernel
import NFTRuleset

/// The kernel's form as a side of `RulesetDelta`: a desired ruleset's encoding against a readback
/// (what `verify` reports and what an incremental apply from a readback plans from). Objects the
/// IR cannot describe (`extra`, foreign objects, the owner) are the callers' to look at.
extension KernelTable: ComparableTable {
    func hasSameHeader(as other: KernelTable) -> Bool { comment == other.comment && flags == other.flags }
    var comparedSets: [KernelSet] { sets }
    var comparedChains: [KernelChain] { chains }
    var comparedCounters: [KernelCounter]? { counters }
}

extension KernelSet: ComparableSet {
    func hasSameDeclaration(as other: KernelSet) -> Bool { layout == other.layout }
    func hasSameElements(as other: KernelSet) -> Bool { elements == other.elements }

    func elementDelta(from old: KernelSet) -> ElementDelta<EncodedElement>? {
        ElementDelta(added: Array(elements.subtracting(old.elements)), removed: Array(old.elements.subtracting(elements)))
    }
}

extension KernelChain: ComparableChain {
    func hasSameDeclaration(as other: KernelChain) -> Bool { hook == other.hook && comment == other.comment }
    func hasSameRules(as other: KernelChain) -> Bool { rules == other.rules }
    var comparedRules: [KernelRule]? { rules }
}

extension KernelCounter: ComparableObject {
    func hasSameDeclaration(as other: KernelCounter) -> Bool { comment == other.comment }
}

/// Remembered hashes as a side of `RulesetDelta`: the fingerprint of what kubenft last committed
/// against the desired ruleset's (an incremental apply without a readback). Fingerprints made with
/// different keys always differ in their header.
extension RulesetFingerprint: ComparableTable {
    func hasSameHeader(as other: RulesetFingerprint) -> Bool { key == other.key && comment == other.comment }
    var comparedSets: [SetPrint] { sets }
    var comparedChains: [ChainPrint] { chains }
    var comparedCounters: [KernelCounter]? { counters?.map(KernelCounter.init) }
}

extension RulesetFingerprint.SetPrint: ComparableSet {
    func hasSameDeclaration(as other: Self) -> Bool { declaration == other.declaration }
    func hasSameElements(as other: Self) -> Bool { elements == other.elements }

    /// Positions of the added (in this print) and removed (in `old`) elements, when both prints
    /// were made in memory with their per-element hashes.
    func elementDelta(from old: Self) -> ElementDelta<Int>? {
        guard hashesKnown, old.hashesKnown else { return nil }
        return ElementDelta<Int>.positions(old: old.elementHashes, new: elementHashes)
    }
}

extension RulesetFingerprint.ChainPrint: ComparableChain {
    func hasSameDeclaration(as other: Self) -> Bool { header == other.header }
    func hasSameRules(as other: Self) -> Bool { rules == other.rules }
    var comparedRules: [UInt64]? { nil }
}
