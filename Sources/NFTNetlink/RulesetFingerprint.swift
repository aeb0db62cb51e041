import NFTRuleset

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
        sets = ruleset.sets.map { Self.print($0, key: key) }
        chains = ruleset.chains.map { Self.print($0, key: key) }
    }

    static func print(_ set: NamedSet, key: HashKey) -> SetPrint {
        var declaration = StableHasher(key: key)
        declaration.combine(set.key.count)
        for type in set.key { declaration.combine(type.rawValue) }
        switch set.mapping {
        case .none: declaration.combine(0)
        case .verdict: declaration.combine(1)
        case .data(let type): declaration.combine(2); declaration.combine(type.rawValue)
        }
        declaration.combine(set.flags.count)
        for flag in set.flags { declaration.combine(flag.rawValue) }
        declaration.combine(set.timeout ?? -1)
        declaration.combine(set.size ?? -1)
        declaration.combine(set.comment)
        var elements = StableHasher(key: key)
        elements.combine(set.elements.count)
        for element in set.elements { elements.combine(element) }
        return SetPrint(name: set.name, declaration: declaration.finalize(), elements: elements.finalize(),
                        interval: set.flags.contains(.interval))
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
