import NFTRuleset

/// Readable differences between a desired ruleset and the kernel's table, compared at the
/// kernel's level of detail (`RulesetDelta` of the two kernel forms) and printed in nft's text form.
package struct TableComparison {
    package let desired: Ruleset
    package let wanted: KernelTable
    /// The kernel's table as read back.
    package let have: KernelTable

    package init(desired: Ruleset, wanted: KernelTable, have: KernelTable) {
        self.desired = desired
        self.wanted = wanted
        self.have = have
    }

    package func differences() -> [String] {
        let delta = RulesetDelta(from: have, to: wanted)
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
        if let counters = delta.counters { lines += counterDifferences(counters) }
        for set in have.sets { if let extra = set.extra { lines.append("set \(set.name): unexpected \(extra)") } }
        for chain in have.chains { if let extra = chain.extra { lines.append("chain \(chain.name): unexpected \(extra)") } }
        for entry in delta.sets.entries {
            switch entry {
            case .added(let index): lines.append("\(desired.sets[index].isMap ? "map" : "set") \(desired.sets[index].name) is missing")
            case .changed(let change): lines += setDifferences(desired.sets[change.newIndex], change)
            }
        }
        lines += delta.sets.removed.map { "unexpected set \(have.sets[$0].name)" }
        for entry in delta.chains.entries {
            switch entry {
            case .added(let index): lines.append("chain \(desired.chains[index].name) is missing")
            case .changed(let change): lines += chainDifferences(desired.chains[change.newIndex], change)
            }
        }
        lines += delta.chains.removed.map { have.chains[$0] }.map {
            "unexpected chain \($0.name) (\($0.rules.count) rule\($0.rules.count == 1 ? "" : "s"))"
        }
        if lines.isEmpty {
            if !delta.sets.sameOrder { lines.append("sets are listed in a different order") }
            if !delta.chains.sameOrder { lines.append("chains are listed in a different order") }
        }
        return lines
    }

    /// Missing, unexpected and re-described counters; their values never differ.
    private func counterDifferences(_ delta: ObjectDelta<ObjectChange<KernelCounter>>) -> [String] {
        var lines: [String] = []
        for entry in delta.entries {
            switch entry {
            case .added(let index): lines.append("counter \(wanted.counters[index].name) is missing")
            case .changed(let change):
                lines.append("counter \(change.new.name): comment: want \(quoted(change.new.comment)), have \(quoted(change.old.comment))")
            }
        }
        lines += delta.removed.map { "unexpected counter \(have.counters[$0].name)" }
        return lines
    }

    private static func flags(_ flags: UInt32) -> String {
        flags == 0 ? "none" : KernelTable.flagNames(flags).joined(separator: ", ")
    }

    private func quoted(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "none" }

    private func setDifferences(_ set: NamedSet, _ change: SetChange<KernelSet>) -> [String] {
        let kind = set.isMap ? "map" : "set"
        let old = change.old, want = change.new
        var lines: [String] = []
        if change.declarationChanged {
            let have = KernelRaiser.namedSet(old)
            lines.append("\(kind) \(set.name): declaration differs: want \(Self.declaration(set)), have \(Self.declaration(have))")
        }
        if let delta = change.elements {
            if want.layout.isInterval {
                let wantText = KernelRaiser.elements(want.elements, layout: want.layout).map(Self.element)
                let haveText = KernelRaiser.elements(old.elements, layout: old.layout).map(Self.element)
                lines += wantText.filter { !haveText.contains($0) }.map { "\(kind) \(set.name): missing element \($0)" }
                lines += haveText.filter { !wantText.contains($0) }.map { "\(kind) \(set.name): unexpected element \($0)" }
            } else {
                let missing = KernelRaiser.elements(Set(delta.added), layout: want.layout)
                let extra = KernelRaiser.elements(Set(delta.removed), layout: old.layout)
                lines += missing.map { "\(kind) \(set.name): missing element \(Self.element($0))" }
                lines += extra.map { "\(kind) \(set.name): unexpected element \(Self.element($0))" }
            }
        }
        return lines
    }

    package static func declaration(_ set: NamedSet) -> String {
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

    package static func element(_ element: SetElement) -> String {
        var text = element.key.map(NFTTextEmitter.value).joined(separator: " . ")
        switch element.data {
        case nil: break
        case .values(let values)?: text += " : " + values.map(NFTTextEmitter.value).joined(separator: " . ")
        case .verdict(let verdict)?: text += " : " + NFTTextEmitter.verdict(verdict)
        }
        if let comment = element.comment { text += " comment \"\(comment)\"" }
        return text
    }

    /// A base chain's hook as `nft list` prints its first line, or `none` for a regular chain.
    package static func hook(_ hook: Chain.Hook?) -> String {
        guard let hook else { return "none" }
        return "type \(hook.type.rawValue) hook \(hook.point.rawValue) priority \(hook.priority); policy \(hook.policy.rawValue);"
    }

    private func chainDifferences(_ chain: Chain, _ change: ChainChange<KernelChain>) -> [String] {
        let old = change.old, want = change.new
        var lines: [String] = []
        if old.hook != want.hook {
            lines.append("chain \(chain.name): hook: want `\(Self.hook(want.hook))`, have `\(Self.hook(old.hook))`")
        }
        if old.comment != want.comment {
            lines.append("chain \(chain.name): comment: want \(quoted(want.comment)), have \(quoted(old.comment))")
        }
        for rule in change.rules ?? [] {
            let wantText = rule.index < chain.rules.count ? NFTTextEmitter.rule(chain.rules[rule.index]) : "no rule"
            let haveText = rule.old.map { NFTTextEmitter.rule(KernelRaiser.rule($0)) } ?? "no rule"
            lines.append("chain \(chain.name) rule \(rule.index + 1): want `\(wantText)`, have `\(haveText)`")
        }
        return lines
    }
}
