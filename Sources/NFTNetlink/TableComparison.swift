import NFTRuleset

/// Readable differences between a desired ruleset and the kernel's table, compared at the
/// kernel's level of detail and printed in nft's text form.
struct TableComparison {
    let desired: Ruleset
    let wanted: KernelTable
    let current: TableSnapshot

    func differences() -> [String] {
        let have = current.kernel
        let haveSets = Dictionary(have.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let haveChains = Dictionary(have.chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        if have.comment != wanted.comment {
            lines.append("table comment: want \(quoted(wanted.comment)), have \(quoted(have.comment))")
        }
        if have.flags != wanted.flags {
            var line = "table flags: want \(Self.flags(wanted.flags)), have \(Self.flags(have.flags))"
            if have.flags & KernelTable.dormantFlag != 0 { line += " (dormant: every hook of the table is off)" }
            if let owner = have.owner { line += " (owned by netlink port \(owner))" }
            lines.append(line)
        }
        lines += have.foreignObjects.map { "unexpected \($0.kind) \($0.name)" }
        lines += counterDifferences(have.counters)
        for set in have.sets { if let extra = set.extra { lines.append("set \(set.name): unexpected \(extra)") } }
        for chain in have.chains { if let extra = chain.extra { lines.append("chain \(chain.name): unexpected \(extra)") } }
        for (set, want) in zip(desired.sets, wanted.sets) { lines += setDifferences(set, want, old: haveSets[set.name]) }
        let wantedSets = Set(wanted.sets.map(\.name))
        for set in have.sets where !wantedSets.contains(set.name) { lines.append("unexpected set \(set.name)") }
        for (index, chain) in desired.chains.enumerated() {
            lines += chainDifferences(chain, wanted.chains[index], old: haveChains[chain.name])
        }
        let wantedChains = Set(wanted.chains.map(\.name))
        for chain in have.chains where !wantedChains.contains(chain.name) {
            lines.append("unexpected chain \(chain.name) (\(chain.rules.count) rule\(chain.rules.count == 1 ? "" : "s"))")
        }
        if lines.isEmpty {
            if have.sets.map(\.name) != wanted.sets.map(\.name) { lines.append("sets are listed in a different order") }
            if have.chains.map(\.name) != wanted.chains.map(\.name) { lines.append("chains are listed in a different order") }
        }
        return lines
    }

    /// Missing, unexpected and re-described counters; their values never differ.
    private func counterDifferences(_ have: [KernelCounter]) -> [String] {
        let haveByName = Dictionary(have.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let wantNames = Set(wanted.counters.map(\.name))
        var lines: [String] = []
        for counter in wanted.counters {
            guard let old = haveByName[counter.name] else {
                lines.append("counter \(counter.name) is missing")
                continue
            }
            if old.comment != counter.comment {
                lines.append("counter \(counter.name): comment: want \(quoted(counter.comment)), have \(quoted(old.comment))")
            }
        }
        lines += have.filter { !wantNames.contains($0.name) }.map { "unexpected counter \($0.name)" }
        return lines
    }

    private static func flags(_ flags: UInt32) -> String {
        flags == 0 ? "none" : KernelTable.flagNames(flags).joined(separator: ", ")
    }

    private func quoted(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "none" }

    private func setDifferences(_ set: NamedSet, _ want: KernelSet, old: KernelSet?) -> [String] {
        let kind = set.isMap ? "map" : "set"
        guard let old else { return ["\(kind) \(set.name) is missing"] }
        var lines: [String] = []
        if old.layout != want.layout {
            let have = KernelRaiser.namedSet(old)
            lines.append("\(kind) \(set.name): declaration differs: want \(Self.declaration(set)), have \(Self.declaration(have))")
        }
        if old.elements != want.elements {
            let missing = KernelRaiser.elements(want.elements.subtracting(old.elements), layout: want.layout)
            let extra = KernelRaiser.elements(old.elements.subtracting(want.elements), layout: old.layout)
            if want.layout.isInterval {
                let wantText = KernelRaiser.elements(want.elements, layout: want.layout).map(Self.element)
                let haveText = KernelRaiser.elements(old.elements, layout: old.layout).map(Self.element)
                lines += wantText.filter { !haveText.contains($0) }.map { "\(kind) \(set.name): missing element \($0)" }
                lines += haveText.filter { !wantText.contains($0) }.map { "\(kind) \(set.name): unexpected element \($0)" }
            } else {
                lines += missing.map { "\(kind) \(set.name): missing element \(Self.element($0))" }
                lines += extra.map { "\(kind) \(set.name): unexpected element \(Self.element($0))" }
            }
        }
        return lines
    }

    static func declaration(_ set: NamedSet) -> String {
        var parts = ["type " + set.key.map(\.rawValue).joined(separator: " . ")]
        switch set.mapping {
        case .none: break
        case .verdict: parts[0] += " : verdict"
        case .data(let type): parts[0] += " : " + type.rawValue
        case .concatenatedData(let types): parts[0] += " : " + types.map(\.rawValue).joined(separator: " . ")
        }
        if !set.flags.isEmpty { parts.append("flags " + set.flags.sorted().map(\.rawValue).joined(separator: ",")) }
        if let timeout = set.timeout { parts.append("timeout \(timeout)s") }
        if let size = set.size { parts.append("size \(size)") }
        if let comment = set.comment { parts.append("comment \"\(comment)\"") }
        return "`" + parts.joined(separator: "; ") + "`"
    }

    static func element(_ element: SetElement) -> String {
        var text = element.key.map(NFTTextEmitter.value).joined(separator: " . ")
        switch element.data {
        case nil: break
        case .values(let values)?: text += " : " + values.map(NFTTextEmitter.value).joined(separator: " . ")
        case .verdict(let verdict)?: text += " : " + NFTTextEmitter.verdict(verdict)
        }
        if let comment = element.comment { text += " comment \"\(comment)\"" }
        return text
    }

    private func chainDifferences(_ chain: Chain, _ want: KernelChain, old: KernelChain?) -> [String] {
        guard let old else { return ["chain \(chain.name) is missing"] }
        var lines: [String] = []
        if old.hook != want.hook { lines.append("chain \(chain.name): hook differs") }
        if old.comment != want.comment {
            lines.append("chain \(chain.name): comment: want \(quoted(want.comment)), have \(quoted(old.comment))")
        }
        guard old.rules != want.rules else { return lines }
        for index in 0..<max(old.rules.count, want.rules.count) {
            let wantRule = index < want.rules.count ? want.rules[index] : nil
            let haveRule = index < old.rules.count ? old.rules[index] : nil
            guard wantRule != haveRule else { continue }
            let wantText = index < chain.rules.count ? NFTTextEmitter.rule(chain.rules[index]) : "no rule"
            let haveText = haveRule.map { NFTTextEmitter.rule(KernelRaiser.rule($0)) } ?? "no rule"
            lines.append("chain \(chain.name) rule \(index + 1): want `\(wantText)`, have `\(haveText)`")
        }
        return lines
    }
}
