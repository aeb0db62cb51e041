import NFTRuleset

/// A table at the kernel's level of detail: what the netlink messages carry and a dump returns.
/// Two tables are equal exactly when `nft list` shows the same thing for them, so this is what
/// `verify` and incremental updates compare.
struct KernelTable: Hashable, Sendable {
    var comment: String?
    var sets: [KernelSet]
    var chains: [KernelChain]
}

struct KernelSet: Hashable, Sendable {
    var name: String
    var layout: SetLayout
    var elements: Set<EncodedElement>
}

/// The contents of an anonymous set: its declaration and elements.
struct AnonymousContents: Hashable, Sendable {
    var layout: SetLayout
    var elements: Set<EncodedElement>
}

struct KernelRule: Hashable, Sendable {
    var comment: String?
    /// Lookups of anonymous sets refer to `anonymousSets` by position.
    var expressions: [KernelExpression]
    var anonymousSets: [AnonymousContents]
    /// The dump's text for a rule with expressions kubenft never emits (then `expressions` is empty).
    var foreign: String?
}

struct KernelChain: Hashable, Sendable {
    var name: String
    var hook: Chain.Hook?
    var comment: String?
    var rules: [KernelRule]
}

extension KernelTable {
    /// The kernel form of a desired ruleset, encoded exactly as a batch would send it.
    init(encoding ruleset: Ruleset) throws(NetlinkError) {
        comment = ruleset.comment.map(NFTQuoting.comment)
        var sets: [KernelSet] = []
        var byName: [String: NamedSet] = [:]
        for set in ruleset.sets {
            let layout = try SetLayout(set)
            sets.append(KernelSet(name: set.name, layout: layout, elements: Set(try ElementEncoder.encode(set, layout: layout))))
            byName[set.name] = set
        }
        self.sets = sets
        let linearizer = Linearizer(sets: byName)
        var chains: [KernelChain] = []
        for chain in ruleset.chains {
            var rules: [KernelRule] = []
            for rule in chain.rules { rules.append(try KernelRule(encoding: rule, linearizer: linearizer)) }
            chains.append(KernelChain(name: chain.name, hook: chain.hook, comment: chain.comment.map(NFTQuoting.comment), rules: rules))
        }
        self.chains = chains
    }
}

extension KernelRule {
    init(encoding rule: Rule, linearizer: Linearizer) throws(NetlinkError) {
        let linear = try linearizer.linearize(rule)
        comment = rule.comment.map(NFTQuoting.comment)
        expressions = linear.expressions
        var anonymous: [AnonymousContents] = []
        for set in linear.anonymousSets {
            let elements = try ElementEncoder.encode(set)
            anonymous.append(AnonymousContents(layout: SetLayout(anonymous: set, elementCount: elements.count), elements: Set(elements)))
        }
        anonymousSets = anonymous
        foreign = nil
    }
}
