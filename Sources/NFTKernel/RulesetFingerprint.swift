import Dispatch
import NFTRuleset
import Synchronization

/// Keyed hashes of a compiled ruleset's objects, in the ruleset's order: enough to tell which
/// chains and sets differ from another ruleset fingerprinted with the same key, without keeping
/// or walking that ruleset. Computed once per apply; kept in memory by `AppliedState` and on disk
/// by `AppliedStateFile`.
package struct RulesetFingerprint: Sendable, Equatable {
    /// A set's name, the hash of its declaration (everything but the elements) and of its
    /// elements in order.
    package struct SetPrint: Sendable, Equatable {
        package var name: String
        package var declaration: UInt64
        package var elements: UInt64
        package var interval: Bool
        /// One hash per element, in order; kept in memory only (empty when loaded from a file),
        /// and derived from the elements, so not part of equality.
        package var elementHashes: [UInt64] = []

        package init(name: String, declaration: UInt64, elements: UInt64, interval: Bool, elementHashes: [UInt64] = [], hashesKnown: Bool = false) {
            self.name = name
            self.declaration = declaration
            self.elements = elements
            self.interval = interval
            self.elementHashes = elementHashes
            self.hashesKnown = hashesKnown
        }
        /// True when `elementHashes` were computed (not a print loaded from a file).
        package var hashesKnown = false

        package static func == (left: SetPrint, right: SetPrint) -> Bool {
            left.name == right.name && left.declaration == right.declaration && left.elements == right.elements
                && left.interval == right.interval
        }
    }

    /// A chain's name, the hash of its hook and comment, of its rules in order, and how many rules
    /// it has.
    package struct ChainPrint: Sendable, Equatable {
        package var name: String
        package var header: UInt64
        package var rules: UInt64
        package var ruleCount: Int

        package init(name: String, header: UInt64, rules: UInt64, ruleCount: Int) {
            self.name = name
            self.header = header
            self.rules = rules
            self.ruleCount = ruleCount
        }
    }

    package var key: HashKey
    package var comment: UInt64
    package var sets: [SetPrint]
    package var chains: [ChainPrint]
    /// The ruleset's counters; nil when unknown (a state read from a file).
    package var counters: [CounterObject]?

    package init(key: HashKey, comment: UInt64, sets: [SetPrint], chains: [ChainPrint]) {
        self.key = key
        self.comment = comment
        self.sets = sets
        self.chains = chains
    }

    /// Fingerprints `ruleset` with `key`. With `digests` false the elements are hashed in full
    /// even under `SetElement.digestKey` (what a state written by another process costs).
    package init(_ ruleset: Ruleset, key: HashKey, digests: Bool = true) {
        self.key = key
        var hasher = StableHasher(key: key)
        hasher.combine(ruleset.comment)
        comment = hasher.finalize()
        (sets, chains) = Self.prints(ruleset, key: key, digests: digests)
        counters = ruleset.counters
    }

    /// Set and chain prints computed in parallel: the chains in slices, and the elements of the
    /// sets in chunks of at most `chunkSize` (hashing is the whole user-space cost of a small
    /// change to a large table, and in the map shape most of it is in two or three large maps).
    package static func prints(_ ruleset: Ruleset, key: HashKey, digests: Bool = true) -> ([SetPrint], [ChainPrint]) {
        let chains = ruleset.chains
        let slices = chains.count < 2048 ? 1 : 4
        let size = (chains.count + slices - 1) / max(slices, 1)
        let results = SliceResults<ChainPrint>(count: slices)
        let chunks = ruleset.sets.indices.flatMap { index in
            stride(from: 0, to: ruleset.sets[index].elements.count, by: chunkSize).map { start in
                (set: index, range: start..<min(start + chunkSize, ruleset.sets[index].elements.count))
            }
        }
        let hashes = SliceResults<UInt64>(count: chunks.count)
        DispatchQueue.concurrentPerform(iterations: slices + chunks.count) { slice in
            guard slice < slices else {
                let chunk = chunks[slice - slices]
                hashes.store(elementHashes(ruleset.sets[chunk.set].elements[chunk.range], key: key, digests: digests), at: slice - slices)
                return
            }
            let range = min(slice * size, chains.count)..<min((slice + 1) * size, chains.count)
            results.store(chains[range].map { print($0, key: key) }, at: slice)
        }
        var setHashes = Array(repeating: [UInt64](), count: ruleset.sets.count)
        for (index, chunk) in chunks.enumerated() { setHashes[chunk.set] += hashes.slot(index) }
        let sets = ruleset.sets.indices.map { print(ruleset.sets[$0], key: key, hashes: setHashes[$0]) }
        return (sets, results.joined())
    }

    /// Elements hashed by one worker.
    package static let chunkSize = 32_768

    package static func print(_ set: NamedSet, key: HashKey) -> SetPrint {
        print(set, key: key, hashes: elementHashes(set, key: key))
    }

    /// The print of `set` whose element hashes are `hashes`.
    package static func print(_ set: NamedSet, key: HashKey, hashes: [UInt64]) -> SetPrint {
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
        var elements = StableHasher(key: key)
        elements.combine(hashes.count)
        for hash in hashes { elements.combine(hash) }
        return SetPrint(name: set.name, declaration: declaration.finalize(), elements: elements.finalize(),
                        interval: set.flags.contains(.interval), elementHashes: hashes, hashesKnown: true)
    }

    package static func print(_ chain: Chain, key: HashKey) -> ChainPrint {
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
    package static func elementHashes(_ set: NamedSet, key: HashKey) -> [UInt64] {
        elementHashes(set.elements[...], key: key)
    }

    /// Under `SetElement.digestKey` each element's hash is its `digest`, read from the set's
    /// buffer. Otherwise the loop hashes each element, inlined into it (called per element through
    /// a generic `map` it was about 1.5 times slower on a large ruleset).
    package static func elementHashes(_ elements: ArraySlice<SetElement>, key: HashKey, digests: Bool = true) -> [UInt64] {
        if digests && key == SetElement.digestKey { return elements.map(\.digest) }
        return elements.withUnsafeBufferPointer { buffer in
            [UInt64](unsafeUninitializedCapacity: buffer.count) { hashes, count in
                for index in buffer.indices {
                    var hasher = StableHasher(key: key)
                    hasher.combine(buffer[index])
                    hashes[index] = hasher.finalize()
                }
                count = buffer.count
            }
        }
    }
}

/// Per-slice results of concurrent workers. The slots live in one array behind a mutex: workers
/// storing into their own slots still write the same array, which must never happen unlocked.
package final class SliceResults<Element: Sendable>: Sendable {
    private let slots: Mutex<[[Element]]>

    package init(count: Int) {
        slots = Mutex(Array(repeating: [], count: count))
    }

    package func store(_ values: [Element], at index: Int) {
        slots.withLock { $0[index] = values }
    }

    package func joined() -> [Element] { slots.withLock { $0.flatMap { $0 } } }

    package func slot(_ index: Int) -> [Element] { slots.withLock { $0[index] } }
}
