import Dispatch
import NFTRuleset
import Synchronization

/// Keyed hashes of a compiled ruleset's objects, in the ruleset's order: enough to tell which
/// chains and sets differ from another ruleset fingerprinted with the same key, without keeping
/// or walking that ruleset. Computed once per apply; kept in memory by `AppliedState` and on disk
/// by `AppliedStateFile`.
struct RulesetFingerprint: Sendable, Equatable {
    /// A set's name, the hash of its declaration (everything but the elements) and of its
    /// elements in order.
    struct SetPrint: Sendable, Equatable {
        var name: String
        var declaration: UInt64
        var elements: UInt64
        var interval: Bool
        /// One hash per element, in order; kept in memory only (empty when loaded from a file),
        /// and derived from the elements, so not part of equality.
        var elementHashes: [UInt64] = []

        static func == (left: SetPrint, right: SetPrint) -> Bool {
            left.name == right.name && left.declaration == right.declaration && left.elements == right.elements
                && left.interval == right.interval
        }
    }

    /// A chain's name, the hash of its hook and comment, of its rules in order, and how many rules
    /// it has.
    struct ChainPrint: Sendable, Equatable {
        var name: String
        var header: UInt64
        var rules: UInt64
        var ruleCount: Int
    }

    var key: HashKey
    var comment: UInt64
    var sets: [SetPrint]
    var chains: [ChainPrint]
    /// The ruleset's counters; nil when unknown (a state read from a file).
    var counters: [CounterObject]?

    init(key: HashKey, comment: UInt64, sets: [SetPrint], chains: [ChainPrint]) {
        self.key = key
        self.comment = comment
        self.sets = sets
        self.chains = chains
    }

    /// Fingerprints `ruleset` with `key`.
    init(_ ruleset: Ruleset, key: HashKey) {
        self.key = key
        var hasher = StableHasher(key: key)
        hasher.combine(ruleset.comment)
        comment = hasher.finalize()
        (sets, chains) = Self.prints(ruleset, key: key)
        counters = ruleset.counters
    }

    /// Set and chain prints computed in parallel: the sets in one worker, the chains in slices
    /// (hashing is the whole user-space cost of a small change to a large table).
    static func prints(_ ruleset: Ruleset, key: HashKey) -> ([SetPrint], [ChainPrint]) {
        let chains = ruleset.chains
        let slices = chains.count < 2048 ? 1 : 4
        let size = (chains.count + slices - 1) / max(slices, 1)
        let results = SliceResults<ChainPrint>(count: slices)
        let sets = SliceResults<SetPrint>(count: 1)
        DispatchQueue.concurrentPerform(iterations: slices + 1) { slice in
            guard slice < slices else {
                sets.store(ruleset.sets.map { print($0, key: key) }, at: 0)
                return
            }
            let range = min(slice * size, chains.count)..<min((slice + 1) * size, chains.count)
            results.store(chains[range].map { print($0, key: key) }, at: slice)
        }
        return (sets.joined(), results.joined())
    }

    static func print(_ set: NamedSet, key: HashKey) -> SetPrint {
        var declaration = StableHasher(key: key)
        declaration.combine(set.key.count)
        for type in set.key { declaration.combine(type.rawValue) }
        switch set.mapping {
        case .none: declaration.combine(0)
        case .verdict: declaration.combine(1)
        case .data(let type): declaration.combine(2); declaration.combine(type.rawValue)
        case .concatenatedData(let types):
            declaration.combine(3)
            declaration.combine(types.count)
            for type in types { declaration.combine(type.rawValue) }
        }
        if let typeof = set.typeof {
            declaration.combine(NFTTextEmitter.expression(.concat(typeof.key)))
            declaration.combine(NFTTextEmitter.expression(.concat(typeof.data)))
        }
        declaration.combine(set.flags.count)
        for flag in set.flags { declaration.combine(flag.rawValue) }
        declaration.combine(set.timeout ?? -1)
        declaration.combine(set.size ?? -1)
        declaration.combine(set.comment)
        let hashes = elementHashes(set, key: key)
        return SetPrint(name: set.name, declaration: declaration.finalize(), elements: elementsHash(hashes, key: key),
                        interval: set.flags.contains(.interval), elementHashes: hashes)
    }

    /// The hash of a set's elements from their hashes, in order.
    static func elementsHash(_ hashes: [UInt64], key: HashKey) -> UInt64 {
        var elements = StableHasher(key: key)
        elements.combine(hashes.count)
        for hash in hashes { elements.combine(hash) }
        return elements.finalize()
    }

    static func print(_ chain: Chain, key: HashKey) -> ChainPrint {
        var header = StableHasher(key: key)
        if let hook = chain.hook {
            header.combine(1)
            header.combine(hook.type.rawValue)
            header.combine(hook.point.rawValue)
            header.combine(hook.priority)
            header.combine(hook.policy.rawValue)
        } else {
            header.combine(0)
        }
        header.combine(chain.comment)
        var rules = StableHasher(key: key)
        rules.combine(chain.rules.count)
        for rule in chain.rules { rules.combine(rule) }
        return ChainPrint(name: chain.name, header: header.finalize(), rules: rules.finalize(), ruleCount: chain.rules.count)
    }

    /// One hash per element of `set`, in order.
    static func elementHashes(_ set: NamedSet, key: HashKey) -> [UInt64] {
        set.elements.map { element in
            var hasher = StableHasher(key: key)
            hasher.combine(element)
            return hasher.finalize()
        }
    }
}

/// Per-slice results of concurrent workers. The slots live in one array behind a mutex: workers
/// storing into their own slots still write the same array, which must never happen unlocked.
final class SliceResults<Element: Sendable>: Sendable {
    private let slots: Mutex<[[Element]]>

    init(count: Int) {
        slots = Mutex(Array(repeating: [], count: count))
    }

    func store(_ values: [Element], at index: Int) {
        slots.withLock { $0[index] = values }
    }

    func joined() -> [Element] { slots.withLock { $0.flatMap { $0 } } }
}
