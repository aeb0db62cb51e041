import CNftnl
import Dispatch
import CNftnlShim
import NFTRuleset
import Synchronization

/// A netlink batch under construction in the C shim, with a description of every message so a
/// kernel error can be traced back to the object (and its comment) that caused it.
final class NetlinkBatch {
    let pointer: OpaquePointer
    /// What each message carries, rendered to text only for a message the kernel refuses.
    private(set) var descriptions: [UInt32: MessageDescription] = [:]
    /// Kernel modules each rule message needs, to tell a missing module from a missing object.
    private(set) var modules: [UInt32: [String]] = [:]

    init(firstSequence: UInt32) throws(NetlinkError) {
        guard let pointer = kubenft_nl_batch_new(firstSequence) else { throw NftnlObjects.outOfMemory }
        self.pointer = pointer
    }

    deinit { kubenft_nl_batch_free(pointer) }

    var messageCount: Int { Int(kubenft_nl_batch_message_count(pointer)) }
    var byteCount: Int { kubenft_nl_batch_byte_count(pointer) }

    func describe(_ sequence: UInt32) -> String? { descriptions[sequence]?.text }

    func check(_ rc: Int32, _ what: String) throws(NetlinkError) {
        guard rc == 0 else { throw NetlinkError.system(rc, "building the batch (\(what))") }
    }

    func note(_ sequence: UInt32, _ description: String, modules needed: [String] = []) {
        note(sequence, .text(description), modules: needed)
    }

    func note(_ sequence: UInt32, _ description: MessageDescription, modules needed: [String] = []) {
        descriptions[sequence] = description
        if !needed.isEmpty { modules[sequence] = needed }
    }

    /// Message types (NFT_MSG_* or batch markers) in order, for tests and dry-run reports.
    var messageTypes: [UInt16] {
        (0..<kubenft_nl_batch_message_count(pointer)).map { index in
            var type: UInt16 = 0
            _ = kubenft_nl_batch_message(pointer, index, &type, nil, nil)
            return type
        }
    }
}

/// What one message of a batch carries, kept so a refusal can name it. A rule is kept as the IR
/// value and printed only when asked: rendering every rule of a large batch in case one is refused
/// would cost more than encoding it.
enum MessageDescription {
    case text(String)
    case rule(chain: String, Rule)

    var text: String {
        switch self {
        case .text(let text): return text
        case .rule(let chain, let rule): return "rule in chain \(chain): \(NFTTextEmitter.rule(rule))"
        }
    }
}

/// Encodes a `RulesetBatch` into netlink messages, following the order nft uses: objects are
/// created before anything refers to them; each rule's anonymous sets come right before it.
struct BatchEncoder {
    static let createFlags = UInt16(0x400) // NLM_F_CREATE
    static let exclusiveFlags = UInt16(0x400 | 0x200) // NLM_F_CREATE | NLM_F_EXCL
    static let appendFlags = UInt16(0x400 | 0x800) // NLM_F_CREATE | NLM_F_APPEND

    let family: UInt32
    let table: String
    let linearizer: Linearizer
    private var nextSetID: UInt32 = 1
    private var createdSetIDs: [String: UInt32] = [:]
    /// Elements of the batch's large element operations, packed ahead on every core, by operation index.
    private var prepacked: [Int: Result<PackedElements, NetlinkError>] = [:]

    init(batch: RulesetBatch) throws(NetlinkError) {
        guard let family = Self.familyNumber(batch.family) else { throw NetlinkError(.unsupported, "table family \(batch.family)") }
        try NftnlObjects.checkName(batch.table, "table")
        self.family = family
        self.table = batch.table
        self.linearizer = Linearizer(sets: batch.sets)
    }

    static func familyNumber(_ name: String) -> UInt32? {
        switch name {
        case "inet": return 1
        case "ip": return 2
        case "ip6": return 10
        default: return nil
        }
    }

    mutating func encode(_ batch: RulesetBatch, firstSequence: UInt32) throws(NetlinkError) -> NetlinkBatch {
        let output = try NetlinkBatch(firstSequence: firstSequence)
        try output.check(kubenft_nl_batch_begin(output.pointer, batch.generation != nil, batch.generation ?? 0), "begin")
        prepacked = Self.prepack(batch.operations, threshold: prepackThreshold)
        defer { prepacked = [:] }
        for (index, operation) in batch.operations.enumerated() {
            if let packed = prepacked[index] {
                try addElements(packed.get(), of: operation, into: output)
            } else {
                try encode(operation, into: output)
            }
        }
        if batch.commit { try output.check(kubenft_nl_batch_end(output.pointer), "end") }
        return output
    }

    private var messageFamily: UInt16 { UInt16(family) }

    private mutating func encode(_ operation: BatchOperation, into output: NetlinkBatch) throws(NetlinkError) {
        var sequence: UInt32 = 0
        switch operation {
        case .ensureTable, .createTable, .deleteTable:
            var comment: String?
            if case .createTable(let text) = operation { comment = text }
            let object = try NftnlObjects.table(family: family, name: table, comment: comment)
            defer { nftnl_table_free(object) }
            let (type, flags): (nf_tables_msg_types, UInt16)
            switch operation {
            case .ensureTable: (type, flags) = (NFT_MSG_NEWTABLE, Self.createFlags)
            case .createTable: (type, flags) = (NFT_MSG_NEWTABLE, Self.exclusiveFlags)
            default: (type, flags) = (NFT_MSG_DELTABLE, 0)
            }
            try output.check(kubenft_nl_batch_add_table(output.pointer, UInt16(type.rawValue), messageFamily, flags, object, &sequence), "table")
            output.note(sequence, "table \(table)")
        case .addChain(let chain):
            let object = try NftnlObjects.chain(family: family, table: table, chain)
            defer { nftnl_chain_free(object) }
            try output.check(kubenft_nl_batch_add_chain(output.pointer, UInt16(NFT_MSG_NEWCHAIN.rawValue), messageFamily,
                                                        Self.createFlags, object, &sequence), "chain")
            output.note(sequence, "chain \(chain.name)" + (chain.comment.map { " (\($0))" } ?? ""),
                        modules: chain.hook?.type == .nat ? ["nft_chain_nat"] : [])
        case .deleteChain(let name):
            let object = try NftnlObjects.chain(family: family, table: table, Chain(name: name), headerOnly: true)
            defer { nftnl_chain_free(object) }
            try output.check(kubenft_nl_batch_add_chain(output.pointer, UInt16(NFT_MSG_DELCHAIN.rawValue), messageFamily, 0, object, &sequence), "chain")
            output.note(sequence, "deleting chain \(name)")
        case .flushChain(let name):
            try NftnlObjects.checkName(name, "chain")
            let object = try NftnlObjects.rule(family: family, table: table, chain: name, comment: nil, expressions: [],
                                               resolve: { reference throws(NetlinkError) in throw NetlinkError(.unsupported, "\(reference)") })
            defer { nftnl_rule_free(object) }
            try output.check(kubenft_nl_batch_add_rule(output.pointer, UInt16(NFT_MSG_DELRULE.rawValue), messageFamily, 0, object, &sequence), "flush")
            output.note(sequence, "flushing chain \(name)")
        case .addSet(let set):
            try addSet(set, into: output)
        case .deleteSet(let name):
            let object = try NftnlObjects.set(family: family, table: table, name: name, id: nil, layout: nil)
            defer { nftnl_set_free(object) }
            try output.check(kubenft_nl_batch_add_set(output.pointer, UInt16(NFT_MSG_DELSET.rawValue), messageFamily, 0, object, &sequence), "set")
            output.note(sequence, "deleting set \(name)")
        case .flushSet(let name):
            try NftnlObjects.checkName(name, "set")
            try output.check(kubenft_nl_batch_flush_set(output.pointer, messageFamily, table, name, &sequence), "flush set")
            output.note(sequence, "flushing set \(name)")
        case .addElements(let set, let elements), .deleteElements(let set, let elements):
            var partial = set
            partial.elements = elements
            let adding: Bool
            if case .addElements = operation { adding = true } else { adding = false }
            try addElements(of: partial, adding: adding, into: output)
        case .addRule(let chain, let rule):
            try addRule(rule, chain: chain, into: output)
        case .addCounter(let counter):
            try encodeCounter(counter, adding: true, into: output)
        case .deleteCounter(let name):
            try encodeCounter(CounterObject(name: name), adding: false, into: output)
        }
    }

    private mutating func addSet(_ set: NamedSet, into output: NetlinkBatch) throws(NetlinkError) {
        let layout = try SetLayout(set)
        let id = nextSetID
        nextSetID += 1
        createdSetIDs[set.name] = id
        let object = try NftnlObjects.set(family: family, table: table, name: set.name, id: id, layout: layout)
        defer { nftnl_set_free(object) }
        var sequence: UInt32 = 0
        try output.check(kubenft_nl_batch_add_set(output.pointer, UInt16(NFT_MSG_NEWSET.rawValue), messageFamily,
                                                  Self.createFlags, object, &sequence), "set")
        output.note(sequence, "\(set.isMap ? "map" : "set") \(set.name)" + (set.comment.map { " (\($0))" } ?? ""))
    }

    /// Element operations of at least this many elements are packed ahead, concurrently.
    static let defaultPrepackThreshold = 4096
    var prepackThreshold = defaultPrepackThreshold

    /// The packed elements (or the error packing them gave) of each large element operation,
    /// packed in parallel, largest first; the messages are still written in the batch's order.
    static func prepack(_ operations: [BatchOperation], threshold: Int) -> [Int: Result<PackedElements, NetlinkError>] {
        var large: [(index: Int, set: NamedSet)] = []
        for (index, operation) in operations.enumerated() {
            switch operation {
            case .addElements(let set, let elements), .deleteElements(let set, let elements):
                guard elements.count >= threshold else { continue }
                var partial = set
                partial.elements = elements
                large.append((index, partial))
            default: continue
            }
        }
        guard large.count > 1 else { return [:] }
        let work = large.sorted { $0.set.elements.count > $1.set.elements.count }
        let results = Mutex<[Int: Result<PackedElements, NetlinkError>]>([:])
        DispatchQueue.concurrentPerform(iterations: large.count) { slot in
            let (index, set) = work[slot]
            let packed = Result { () throws(NetlinkError) in try pack(set) }
            results.withLock { $0[index] = packed }
        }
        return results.withLock { $0 }
    }

    private static func pack(_ set: NamedSet) throws(NetlinkError) -> PackedElements {
        let layout = try SetLayout(set)
        try NftnlObjects.checkName(set.name, "set")
        return try PackedElements(set, layout: layout)
    }

    private func addElements(_ elements: PackedElements, of operation: BatchOperation, into output: NetlinkBatch) throws(NetlinkError) {
        switch operation {
        case .addElements(let set, let partial): try addElements(elements, of: set, partial, adding: true, into: output)
        case .deleteElements(let set, let partial): try addElements(elements, of: set, partial, adding: false, into: output)
        default: throw NetlinkError(.unsupported, "elements packed for an operation without elements")
        }
    }

    private func addElements(of set: NamedSet, adding: Bool, into output: NetlinkBatch) throws(NetlinkError) {
        try addElements(try Self.pack(set), of: set, set.elements, adding: adding, into: output)
    }

    private func addElements(_ elements: PackedElements, of set: NamedSet, _ partial: [SetElement], adding: Bool,
                             into output: NetlinkBatch) throws(NetlinkError) {
        guard elements.count > 0 else { return }
        let type = adding ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM
        let (first, count) = try output.addElements(elements, type: UInt16(type.rawValue), family: messageFamily,
                                                    flags: adding ? Self.createFlags : 0, table: table, set: set.name,
                                                    id: createdSetIDs[set.name])
        let comments = partial.compactMap(\.comment)
        let hint = comments.isEmpty ? "" : " (" + comments.prefix(3).joined(separator: "; ") + (comments.count > 3 ? "; ..." : "") + ")"
        for offset in 0..<count { output.note(first &+ offset, "\(adding ? "adding" : "deleting") elements of \(set.name)\(hint)") }
    }

    private mutating func addRule(_ rule: Rule, chain: String, into output: NetlinkBatch) throws(NetlinkError) {
        let linear: LinearRule
        do {
            linear = try linearizer.linearize(rule)
        } catch {
            throw NetlinkError(error.kind, code: error.code, "rule in chain \(chain) (\(NFTTextEmitter.rule(rule))): \(error.message)")
        }
        var anonymousIDs: [UInt32] = []
        for anonymous in linear.anonymousSets {
            let elements = try ElementEncoder.encode(anonymous)
            let layout = SetLayout(anonymous: anonymous, elementCount: elements.count)
            let id = nextSetID
            nextSetID += 1
            anonymousIDs.append(id)
            let object = try NftnlObjects.set(family: family, table: table, name: "__set%d", id: id, layout: layout)
            defer { nftnl_set_free(object) }
            var sequence: UInt32 = 0
            try output.check(kubenft_nl_batch_add_set(output.pointer, UInt16(NFT_MSG_NEWSET.rawValue), messageFamily,
                                                      Self.createFlags, object, &sequence), "anonymous set")
            output.note(sequence, "anonymous set of a rule in chain \(chain)" + (rule.comment.map { " (\($0))" } ?? ""))
            let (first, count) = try output.addElements(try PackedElements(elements, keyLength: layout.keyLength, dataLength: nil),
                                                        type: UInt16(NFT_MSG_NEWSETELEM.rawValue), family: messageFamily,
                                                        flags: Self.createFlags, table: table, set: "__set%d", id: id,
                                                        what: "anonymous elements")
            for offset in 0..<count { output.note(first &+ offset, "elements of an anonymous set in chain \(chain)") }
        }
        let ids = createdSetIDs
        let object = try NftnlObjects.rule(family: family, table: table, chain: chain, comment: rule.comment,
                                           expressions: linear.expressions) { reference throws(NetlinkError) in
            switch reference {
            case .named(let name): return (name, ids[name])
            case .anonymous(let index):
                guard index < anonymousIDs.count else { throw NetlinkError(.unsupported, "anonymous set \(index) missing") }
                return ("__set%d", anonymousIDs[index])
            }
        }
        defer { nftnl_rule_free(object) }
        var sequence: UInt32 = 0
        try output.check(kubenft_nl_batch_add_rule(output.pointer, UInt16(NFT_MSG_NEWRULE.rawValue), messageFamily,
                                                   Self.appendFlags, object, &sequence), "rule")
        output.note(sequence, .rule(chain: chain, rule), modules: KernelModules.modules(for: linear.expressions))
    }
}
