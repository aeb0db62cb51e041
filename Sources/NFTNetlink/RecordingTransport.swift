import NFTRuleset

/// A transport for tests: it keeps tables in memory, applies batches to them the way the kernel
/// would (all or nothing, guarded by a generation id, message by message refusing to delete a
/// chain or set still in use and to refer to one that does not exist), and records every batch
/// it was sent.
public final class RecordingTransport: RulesetTransport {
    public private(set) var batches: [RulesetBatch] = []
    public private(set) var tables: [String: Ruleset] = [:]
    public private(set) var generationID: UInt32 = 1
    /// How many times a whole table was read back, and how many times only its existence was asked.
    public private(set) var tableReads = 0
    public private(set) var existenceQueries = 0
    /// Called before a batch is applied, e.g. to simulate a concurrent change.
    public var beforeSend: ((RecordingTransport) -> Void)?

    public init() {}

    public func generation() throws(NetlinkError) -> UInt32 { generationID }

    public func read(family: String, table: String) throws(NetlinkError) -> TableSnapshot? {
        tableReads += 1
        guard let ruleset = tables[family + " " + table] else { return nil }
        return TableSnapshot(kernel: try KernelTable(encoding: ruleset), family: family, name: table, ruleset: ruleset)
    }

    public func tableExists(family: String, table: String) throws(NetlinkError) -> (exists: Bool, generation: UInt32?) {
        existenceQueries += 1
        return (tables[family + " " + table] != nil, generationID)
    }

    /// Replaces a table outside any batch (a change made by someone else); bumps the generation.
    public func store(_ ruleset: Ruleset?, family: String = "inet", table: String = "kubenft") {
        tables[family + " " + table] = ruleset
        generationID += 1
    }

    public func send(_ batch: RulesetBatch) throws(NetlinkError) -> BatchReport {
        beforeSend?(self)
        batches.append(batch)
        if let expected = batch.generation, expected != generationID {
            throw NetlinkError(.concurrentChange, code: 85, "the ruleset changed while the update was prepared (generation id moved)")
        }
        let key = batch.family + " " + batch.table
        var table = tables[key]
        for operation in batch.operations { try Self.apply(operation, to: &table, batch: batch) }
        if batch.commit {
            tables[key] = table
            generationID += 1
        }
        return BatchReport(messages: batch.operations.count + 2, bytes: 0, committed: batch.commit)
    }

    private static func refuse(_ code: Int32, _ what: String) -> NetlinkError {
        NetlinkError(.refused, code: code, "the kernel refused \(what): \(NetlinkError.errnoText(code)); nothing was applied")
    }

    static func apply(_ operation: BatchOperation, to table: inout Ruleset?, batch: RulesetBatch) throws(NetlinkError) {
        if case .ensureTable = operation {
            if table == nil { table = Ruleset(family: batch.family, name: batch.table) }
            return
        }
        if case .createTable(let comment) = operation {
            guard table == nil else { throw refuse(17, "table \(batch.table)") }
            table = Ruleset(family: batch.family, name: batch.table, comment: comment)
            return
        }
        guard var current = table else { throw refuse(2, operation.summary) }
        switch operation {
        case .ensureTable, .createTable: break
        case .deleteTable:
            table = nil
            return
        case .addChain(let chain):
            if current.chain(named: chain.name) == nil { current.chains.append(Chain(name: chain.name, hook: chain.hook, comment: chain.comment)) }
        case .flushChain(let name):
            guard let index = current.chains.firstIndex(where: { $0.name == name }) else { throw refuse(2, operation.summary) }
            current.chains[index].rules = []
        case .deleteChain(let name):
            guard current.chain(named: name) != nil else { throw refuse(2, operation.summary) }
            guard !uses(current, chain: name) else { throw refuse(16, "deleting chain \(name)") }
            current.chains.removeAll { $0.name == name }
        case .addSet(let set):
            if current.set(named: set.name) == nil { var empty = set; empty.elements = []; current.sets.append(empty) }
        case .deleteSet(let name):
            guard current.set(named: name) != nil else { throw refuse(2, operation.summary) }
            guard !current.chains.contains(where: { $0.rules.contains { References($0).sets.contains(name) } }) else {
                throw refuse(16, "deleting set \(name)")
            }
            current.sets.removeAll { $0.name == name }
        case .flushSet(let name):
            guard let index = current.sets.firstIndex(where: { $0.name == name }) else { throw refuse(2, operation.summary) }
            current.sets[index].elements = []
        case .addElements(let set, let elements):
            guard let index = current.sets.firstIndex(where: { $0.name == set.name }) else { throw refuse(2, operation.summary) }
            for element in elements where !References(element).chains.allSatisfy({ current.chain(named: $0) != nil }) {
                throw refuse(2, "\(operation.summary): \(TableComparison.element(element))")
            }
            for element in elements where !current.sets[index].elements.contains(where: { $0.key == element.key }) {
                current.sets[index].elements.append(element)
            }
            // A kernel set has no order; keep the compiler's key order so that tables compare equal.
            let sortKey = { (element: SetElement) -> [UInt8] in element.key.flatMap { $0.sortKey + [0xFF] } }
            current.sets[index].elements.sort { sortKey($0).lexicographicallyPrecedes(sortKey($1)) }
        case .deleteElements(let set, let elements):
            guard let index = current.sets.firstIndex(where: { $0.name == set.name }) else { throw refuse(2, operation.summary) }
            let keys = Set(elements.map(\.key))
            current.sets[index].elements.removeAll { keys.contains($0.key) }
        case .addRule(let chain, let rule):
            guard let index = current.chains.firstIndex(where: { $0.name == chain }) else { throw refuse(2, operation.summary) }
            let references = References(rule)
            guard references.chains.allSatisfy({ current.chain(named: $0) != nil }),
                  references.sets.allSatisfy({ current.set(named: $0) != nil }) else { throw refuse(2, operation.summary) }
            current.chains[index].rules.append(rule)
        case .addCounter(let counter):
            if !current.counters.contains(where: { $0.name == counter.name }) { current.counters.append(counter) }
        case .deleteCounter(let name):
            guard current.counters.contains(where: { $0.name == name }) else { throw refuse(2, operation.summary) }
            guard !current.chains.contains(where: { $0.rules.contains { $0.statements.contains(.namedCounter(name)) } }) else {
                throw refuse(16, "deleting counter \(name)")
            }
            current.counters.removeAll { $0.name == name }
        }
        table = current
    }

    /// True when a rule or a map element of `table` jumps to `chain`.
    private static func uses(_ table: Ruleset, chain: String) -> Bool {
        table.chains.contains { $0.rules.contains { References($0).chains.contains(chain) } }
            || table.sets.contains { $0.elements.contains { References($0).chains.contains(chain) } }
    }
}
