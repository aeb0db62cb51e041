#if canImport(Glibc)
import Glibc
#endif
import NFTKernel
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

/// A table kubenft committed, the generation id its commit produced and the namespace it is in.
/// While the kernel's generation still equals it, nothing changed since, and the next apply can
/// diff against this state instead of reading the table back. Kept in memory by a long-running
/// caller, or stored between runs with `AppliedStateFile`.
public struct AppliedState: Sendable {
    /// The committed ruleset; nil for a state loaded from a file (which keeps only hashes).
    public let ruleset: Ruleset?
    public let generation: UInt32
    public let family: String
    public let table: String
    /// `RulesetTransport.namespaceIdentity()` of the namespace the table is in.
    let namespace: UInt64?
    let fingerprint: RulesetFingerprint
    /// The elements of a state loaded from a file, by set name (interval sets are not kept);
    /// empty for a state that has its ruleset.
    let storedElements: [String: StoredElements]
    /// The stored elements of the loaded state this one was applied from: when this state is
    /// written, a set whose elements did not change keeps its records, and a changed one has only
    /// its new elements written.
    let carried: [String: StoredElements]

    init(ruleset: Ruleset?, generation: UInt32, family: String, table: String, namespace: UInt64?, fingerprint: RulesetFingerprint,
         storedElements: [String: StoredElements] = [:], carried: [String: StoredElements] = [:]) {
        self.storedElements = storedElements
        self.carried = carried
        self.ruleset = ruleset
        self.generation = generation
        self.family = family
        self.table = table
        self.namespace = namespace
        self.fingerprint = fingerprint
    }
}

/// Makes the kernel's table equal to a compiled ruleset, in one atomic batch guarded by the
/// ruleset generation id: only the changes when the table exists and its shape allows it, a full
/// replacement (create, delete, create) otherwise. Touches no other table.
public struct RulesetApplier {
    public let transport: RulesetTransport

    public init(transport: RulesetTransport) {
        self.transport = transport
    }

    /// Applies `desired`. With `previous` from the last apply, in the same namespace and with the
    /// kernel's generation unchanged since, the table is not read back: the changes are found by
    /// comparing hashes of the two rulesets' chains and sets.
    /// A batch the kernel refused because the ruleset changed after it was planned (or that the
    /// transport saw the table change under) is planned again from a fresh read, up to
    /// `attempts` times in all.
    public func apply(_ desired: Ruleset, dryRun: Bool = false, incremental: Bool = true,
                      previous: AppliedState? = nil) throws(NetlinkError) -> ApplyOutcome {
        try retrying { () throws(NetlinkError) in
            try applyOnce(desired, dryRun: dryRun, incremental: incremental, previous: previous)
        }
    }

    /// How many times a change is planned and sent before a concurrent change is reported.
    public static let attempts = 10

    private func retrying<T>(_ body: () throws(NetlinkError) -> T) throws(NetlinkError) -> T {
        var attempt = 1
        while true {
            do {
                return try body()
            } catch {
                guard error.kind == .concurrentChange, error.code == ERESTART, attempt < Self.attempts else {
                    if error.code == ERESTART { throw NetlinkError(error.kind, code: error.code, error.message + " (\(attempt) attempts)") }
                    throw error
                }
                attempt += 1
            }
        }
    }

    private func applyOnce(_ desired: Ruleset, dryRun: Bool, incremental: Bool,
                           previous: AppliedState?) throws(NetlinkError) -> ApplyOutcome {
        var generation = try transport.generation()
        let namespace = try transport.namespaceIdentity()
        // A remembered state is used only when it knows its counters (a state file written before
        // counters existed does not): otherwise the table is read back.
        let trusted = incremental ? previous.flatMap { trusts($0, desired: desired, generation: generation, namespace: namespace) }
            .flatMap { $0.fingerprint.counters == nil ? nil : $0 } : nil
        // A new state is keyed with this process's element digest key, so the next apply from it
        // in this process reads each element's digest instead of hashing it; a state read from a
        // file keeps its key and its elements are hashed in full.
        let wanted = RulesetFingerprint(desired, key: trusted?.fingerprint.key ?? previous?.fingerprint.key ?? SetElement.digestKey,
                                        digests: previous.map { $0.ruleset != nil } ?? true)
        var mode = ApplyMode.replaced
        var operations: [BatchOperation]?
        if let trusted {
            operations = try RulesetDiffPlanner(desired: desired, wanted: wanted, previous: trusted.fingerprint) { (set, change) throws(NetlinkError) in
                try elementChanges(set, change, previous: trusted)
            }.plan()
        } else if !incremental {
            // A full replacement only needs to know whether the table is there, not what it holds.
            let presence = try transport.tableExists(family: desired.family, table: desired.name)
            generation = presence.generation ?? generation
            if !presence.exists { mode = .created }
        } else if let current = try transport.read(family: desired.family, table: desired.name) {
            generation = current.generation ?? generation
            operations = IncrementalPlanner(desired: desired, wanted: try KernelTable(encoding: desired), have: current.kernel,
                                            stored: current.stored).plan()
        } else {
            mode = .created
        }
        func state(_ generation: UInt32) -> AppliedState {
            AppliedState(ruleset: desired, generation: generation, family: desired.family, table: desired.name,
                         namespace: namespace, fingerprint: wanted, carried: trusted?.storedElements ?? [:])
        }
        if let changes = operations {
            if changes.isEmpty { return ApplyOutcome(mode: .unchanged, operations: [], report: nil, state: state(generation)) }
            mode = .incremental
        }
        let chosen = operations ?? Self.fullReplacement(desired)
        let batch = RulesetBatch(family: desired.family, table: desired.name, operations: chosen, generation: generation,
                                 commit: !dryRun, sets: Dictionary(desired.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
        let report = try transport.send(batch)
        return ApplyOutcome(mode: mode, operations: chosen, report: report, state: dryRun ? nil : state(generation &+ 1))
    }

    /// `previous` when it describes this table in this namespace at the current generation.
    private func trusts(_ previous: AppliedState, desired: Ruleset, generation: UInt32, namespace: UInt64?) -> AppliedState? {
        guard previous.generation == generation, previous.namespace == namespace, previous.family == desired.family,
              previous.table == desired.name else { return nil }
        // A state from another process is only trusted where the namespace can be identified.
        guard previous.ruleset != nil || namespace != nil else { return nil }
        return previous
    }

    /// Element operations for a set whose elements changed: from the remembered elements when the
    /// state has them, else from the elements a state file keeps, else from the kernel's copy of
    /// this one set (interval sets are refilled).
    private func elementChanges(_ set: NamedSet, _ change: SetChange<RulesetFingerprint.SetPrint>,
                                previous: AppliedState) throws(NetlinkError) -> [BatchOperation]? {
        if let old = previous.ruleset?.set(named: set.name) {
            return RulesetDiffPlanner.elementChanges(set, old: old, positions: change.elements, key: previous.fingerprint.key)
        }
        if set.flags.contains(.interval) {
            return [.flushSet(set.name)] + (set.elements.isEmpty ? [] : [.addElements(set: set, elements: set.elements)])
        }
        if let stored = previous.storedElements[set.name],
           let changes = Self.storedChanges(set, stored: stored, after: change.new, key: previous.fingerprint.key) {
            return changes
        }
        guard let current = try transport.readSet(family: previous.family, table: previous.table, name: set.name)?.kernel else { return nil }
        let layout = try SetLayout(set)
        let encoded = try ElementEncoder.encode(set, layout: layout)
        guard current.layout == layout, encoded.count == set.elements.count else { return nil }
        let wanted = Set(encoded)
        let removed = current.elements.filter { !wanted.contains($0) }
        let added = set.elements.indices.filter { !current.elements.contains(encoded[$0]) }.map { set.elements[$0] }
        // Only the removed elements are decoded, in a fixed order (a dry run and the apply that
        // follows it send the same batch), and they must encode back to exactly what the kernel holds.
        var deletions = set
        deletions.elements = KernelRaiser.elements(removed, layout: layout)
        guard Set(try ElementEncoder.encode(deletions, layout: layout)) == removed else { return nil }
        var operations: [BatchOperation] = []
        if !removed.isEmpty { operations.append(.deleteElements(set: set, elements: deletions.elements)) }
        if !added.isEmpty { operations.append(.addElements(set: set, elements: added)) }
        return operations
    }

    /// Element operations from the hashes and records a state file keeps: the delta is found by
    /// hash, and only the removed elements are read, each checked against its hash. Nil when a
    /// record does not read back to its hash (then the set is read from the kernel).
    private static func storedChanges(_ set: NamedSet, stored: StoredElements, after: RulesetFingerprint.SetPrint,
                                      key: HashKey) -> [BatchOperation]? {
        let hashes = after.elementHashes.count == set.elements.count ? after.elementHashes : RulesetFingerprint.elementHashes(set, key: key)
        let delta = ElementDelta<Int>.positions(old: stored.hashes, new: hashes)
        var deletions: [SetElement] = []
        for index in delta.removed {
            guard let element = stored.element(at: index) else { return nil }
            var hasher = StableHasher(key: key)
            hasher.combine(element)
            guard hasher.finalize() == stored.hashes[index] else { return nil }
            deletions.append(element)
        }
        var operations: [BatchOperation] = []
        if !deletions.isEmpty { operations.append(.deleteElements(set: set, elements: deletions)) }
        if !delta.added.isEmpty { operations.append(.addElements(set: set, elements: delta.added.map { set.elements[$0] })) }
        return operations
    }

    /// Create-if-missing, delete, create, then every object: the replacement `nft -f` also does.
    /// Sets are created empty and filled after the rules: a rule that looks up a map makes the
    /// kernel walk every element the map already holds (`nf_tables_bind_set`), once per binding
    /// chain, which for the backend maps of a large cluster cost more than inserting them.
    public static func fullReplacement(_ ruleset: Ruleset) -> [BatchOperation] {
        var operations: [BatchOperation] = [.ensureTable, .deleteTable, .createTable(comment: ruleset.comment)]
        operations += ruleset.counters.map { .addCounter($0) }
        for chain in ruleset.chains { operations.append(.addChain(chain)) }
        operations += ruleset.sets.map { .addSet($0) }
        for chain in ruleset.chains {
            for rule in chain.rules { operations.append(.addRule(chain: chain.name, rule)) }
        }
        for set in ruleset.sets where !set.elements.isEmpty { operations.append(.addElements(set: set, elements: set.elements)) }
        return operations
    }

    /// Deletes the table; false when it did not exist.
    @discardableResult
    public func delete(family: String, table: String) throws(NetlinkError) -> Bool {
        try retrying { () throws(NetlinkError) in
            let generation = try transport.generation()
            let presence = try transport.tableExists(family: family, table: table)
            guard presence.exists else { return false }
            _ = try transport.send(RulesetBatch(family: family, table: table, operations: [.deleteTable],
                                                generation: presence.generation ?? generation))
            return true
        }
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
        return TableComparison(desired: desired, wanted: wanted, have: current.kernel).differences()
    }
}
