import NFTRuleset

/// One change inside a transaction on kubenft's table. A transport turns each into one or more
/// netlink messages (rules with anonymous sets and long element lists take several).
public enum BatchOperation: Sendable, Hashable {
    /// NEWTABLE without EXCL: creates the table or leaves an existing one alone.
    case ensureTable
    /// NEWTABLE with EXCL and the table's comment.
    case createTable(comment: String?)
    case deleteTable
    /// NEWCHAIN with the chain's hook and comment; its rules are separate operations.
    case addChain(Chain)
    /// DELRULE naming only the chain: removes every rule of it.
    case flushChain(String)
    case deleteChain(String)
    /// NEWSET with the set's declaration; its elements are separate operations.
    case addSet(NamedSet)
    case deleteSet(String)
    /// DELSETELEM naming only the set: removes every element of it.
    case flushSet(String)
    /// NEWSETELEM; `set` gives the key and data types.
    case addElements(set: NamedSet, elements: [SetElement])
    case deleteElements(set: NamedSet, elements: [SetElement])
    /// NEWRULE appended to the chain.
    case addRule(chain: String, Rule)
    /// NEWOBJ: a named counter, counting from zero.
    case addCounter(CounterObject)
    /// DELOBJ: a named counter no rule uses any more.
    case deleteCounter(String)

    /// A short description for reports and error messages.
    public var summary: String {
        switch self {
        case .ensureTable: return "ensure table"
        case .createTable: return "create table"
        case .deleteTable: return "delete table"
        case .addChain(let chain): return "add chain \(chain.name)"
        case .flushChain(let name): return "flush chain \(name)"
        case .deleteChain(let name): return "delete chain \(name)"
        case .addSet(let set): return "add \(set.isMap ? "map" : "set") \(set.name)"
        case .deleteSet(let name): return "delete set \(name)"
        case .flushSet(let name): return "flush set \(name)"
        case .addElements(let set, let elements): return "add \(elements.count) element\(elements.count == 1 ? "" : "s") to \(set.name)"
        case .deleteElements(let set, let elements): return "delete \(elements.count) element\(elements.count == 1 ? "" : "s") from \(set.name)"
        case .addRule(let chain, let rule): return "add rule to \(chain): \(NFTTextEmitter.rule(rule))"
        case .addCounter(let counter): return "add counter \(counter.name)"
        case .deleteCounter(let name): return "delete counter \(name)"
        }
    }
}

/// One atomic transaction: the operations in order, an optional generation-id guard, and whether
/// it commits (a dry run is checked by the kernel and then aborted).
public struct RulesetBatch: Sendable, Hashable {
    public var family: String
    public var table: String
    public var operations: [BatchOperation]
    /// When set, the kernel refuses the batch if the ruleset generation moved since it was read.
    public var generation: UInt32?
    public var commit: Bool
    /// Every named set of the desired ruleset, so rules can be linearized against map types.
    public var sets: [String: NamedSet]

    public init(family: String, table: String, operations: [BatchOperation] = [], generation: UInt32? = nil,
                commit: Bool = true, sets: [String: NamedSet] = [:]) {
        self.family = family
        self.table = table
        self.operations = operations
        self.generation = generation
        self.commit = commit
        self.sets = sets
    }
}

/// What sending a batch did.
public struct BatchReport: Sendable, Hashable {
    /// Netlink messages in the batch, including begin and end.
    public var messages: Int
    public var bytes: Int
    public var committed: Bool

    public init(messages: Int, bytes: Int, committed: Bool) {
        self.messages = messages
        self.bytes = bytes
        self.committed = committed
    }
}
