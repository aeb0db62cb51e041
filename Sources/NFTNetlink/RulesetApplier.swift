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
}

/// Makes the kernel's table equal to a compiled ruleset, in one atomic batch guarded by the
/// ruleset generation id: only the changes when the table exists and its shape allows it, a full
/// replacement (create, delete, create) otherwise. Touches no other table.
public struct RulesetApplier {
    public let transport: RulesetTransport

    public init(transport: RulesetTransport) {
        self.transport = transport
    }

    public func apply(_ desired: Ruleset, dryRun: Bool = false, incremental: Bool = true) throws(NetlinkError) -> ApplyOutcome {
        let generation = try transport.generation()
        let current = try transport.read(family: desired.family, table: desired.name)
        let wanted = try KernelTable(encoding: desired)
        var mode: ApplyMode = current == nil ? .created : .replaced
        var operations = Self.fullReplacement(desired)
        if incremental, let current, let changes = IncrementalPlanner(desired: desired, wanted: wanted, current: current).plan() {
            if changes.isEmpty { return ApplyOutcome(mode: .unchanged, operations: [], report: nil) }
            mode = .incremental
            operations = changes
        }
        let batch = RulesetBatch(family: desired.family, table: desired.name, operations: operations, generation: generation,
                                 commit: !dryRun, sets: Dictionary(desired.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
        let report = try transport.send(batch)
        return ApplyOutcome(mode: mode, operations: operations, report: report)
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
