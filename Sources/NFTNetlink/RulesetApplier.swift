import NFTRuleset

/// How an apply changed the kernel.
public enum ApplyMode: String, Sendable {
    /// The table did not exist and was created.
    case created
    /// The whole table was replaced in one batch.
    case replaced
    /// Only changed elements and chains were sent.
    case incremental
    /// The kernel already held exactly this table; nothing was sent.
    case unchanged
}

/// The result of `RulesetApplier.apply`.
public struct ApplyOutcome: Sendable {
    public var mode: ApplyMode
    public var operations: [BatchOperation]
    /// Nil when nothing was sent.
    public var report: BatchReport?
    /// What the kernel holds after a committed apply, for the next incremental apply without a
    /// readback; nil after a dry run.
    public var state: AppliedState?
}

/// A table kubenft committed and the generation id its commit produced. While the kernel's
/// generation still equals it, nothing changed since, and the next apply can diff against this
/// state instead of reading the table back.
public struct AppliedState: Sendable {
    public let ruleset: Ruleset
    public let generation: UInt32
}

/// Makes the kernel's table equal to a compiled ruleset, in one atomic batch guarded by the
/// ruleset generation id: only the changes when the table exists and its shape allows it, a full
/// replacement (create, delete, create) otherwise. Touches no other table.
public struct RulesetApplier {
    public let transport: RulesetTransport

    public init(transport: RulesetTransport) {
        self.transport = transport
    }

    /// Applies `desired`. With `previous` from the last apply and an unchanged generation, the
    /// table is not read back: the changes are found by comparing the two rulesets directly.
    public func apply(_ desired: Ruleset, dryRun: Bool = false, incremental: Bool = true,
                      previous: AppliedState? = nil) throws(NetlinkError) -> ApplyOutcome {
        let generation = try transport.generation()
        var mode = ApplyMode.replaced
        var operations: [BatchOperation]?
        if incremental, let previous, previous.generation == generation, previous.ruleset.family == desired.family,
           previous.ruleset.name == desired.name {
            operations = RulesetDiffPlanner(desired: desired, previous: previous.ruleset).plan()
        } else if let current = try transport.read(family: desired.family, table: desired.name) {
            if incremental {
                operations = IncrementalPlanner(desired: desired, wanted: try KernelTable(encoding: desired), current: current).plan()
            }
        } else {
            mode = .created
        }
        if let changes = operations {
            if changes.isEmpty {
                return ApplyOutcome(mode: .unchanged, operations: [], report: nil,
                                    state: AppliedState(ruleset: desired, generation: generation))
            }
            mode = .incremental
        }
        let chosen = operations ?? Self.fullReplacement(desired)
        let batch = RulesetBatch(family: desired.family, table: desired.name, operations: chosen, generation: generation,
                                 commit: !dryRun, sets: Dictionary(desired.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
        let report = try transport.send(batch)
        let state = dryRun ? nil : AppliedState(ruleset: desired, generation: generation &+ 1)
        return ApplyOutcome(mode: mode, operations: chosen, report: report, state: state)
    }

    /// Create-if-missing, delete, create, then every object: the replacement `nft -f` also does.
    public static func fullReplacement(_ ruleset: Ruleset) -> [BatchOperation] {
        var operations: [BatchOperation] = [.ensureTable, .deleteTable, .createTable(comment: ruleset.comment)]
        for chain in ruleset.chains { operations.append(.addChain(chain)) }
        for set in ruleset.sets {
            operations.append(.addSet(set))
            if !set.elements.isEmpty { operations.append(.addElements(set: set, elements: set.elements)) }
        }
        for chain in ruleset.chains {
            for rule in chain.rules { operations.append(.addRule(chain: chain.name, rule)) }
        }
        return operations
    }

    /// Deletes the table; false when it did not exist.
    @discardableResult
    public func delete(family: String, table: String) throws(NetlinkError) -> Bool {
        let generation = try transport.generation()
        guard try transport.read(family: family, table: table) != nil else { return false }
        _ = try transport.send(RulesetBatch(family: family, table: table, operations: [.deleteTable], generation: generation))
        return true
    }

    /// The table as the kernel holds it, decoded into the IR; nil when absent.
    public func current(family: String, table: String) throws(NetlinkError) -> Ruleset? {
        try transport.read(family: family, table: table)?.ruleset
    }

    /// Every difference between the kernel's table and `desired`, one readable line each; empty
    /// when they are equal. A missing table is one difference.
    public func differences(_ desired: Ruleset) throws(NetlinkError) -> [String] {
        let wanted = try KernelTable(encoding: desired)
        guard let current = try transport.read(family: desired.family, table: desired.name) else {
            return ["table \(desired.family) \(desired.name) does not exist"]
        }
        return TableComparison(desired: desired, wanted: wanted, current: current).differences()
    }
}
