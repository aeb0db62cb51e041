import NFTRuleset

/// A table at the kernel's level of detail: what the netlink messages carry and a dump returns.
/// Two tables are equal exactly when `nft list` shows the same thing for them, so this is what
/// `verify` and incremental updates compare.
package struct KernelTable: Hashable, Sendable {
    package var comment: String?
    package var sets: [KernelSet]
    package var chains: [KernelChain]
    /// NFT_TABLE_F_* flags: kubenft's table has none (a dormant table has every hook off).
    package var flags: UInt32 = 0
    /// The netlink port id that owns the table (flags owner): only that socket may change it.
    package var owner: UInt32?
    /// Objects of kinds kubenft never creates (stateful objects, flowtables), sorted.
    package var foreignObjects: [KernelObject] = []
    /// Named counters, in name order (their values are not part of the table's state).
    package var counters: [KernelCounter] = []

    package init(comment: String? = nil, sets: [KernelSet], chains: [KernelChain], flags: UInt32 = 0, owner: UInt32? = nil, foreignObjects: [KernelObject] = [], counters: [KernelCounter] = []) {
        self.comment = comment
        self.sets = sets
        self.chains = chains
        self.flags = flags
        self.owner = owner
        self.foreignObjects = foreignObjects
        self.counters = counters
    }
}

/// A named object of a kind kubenft never creates: a stateful object (counter, quota, limit, ct
/// helper / timeout / expectation, secmark, synproxy, connlimit, tunnel) or a flowtable.
package struct KernelObject: Hashable, Sendable, Comparable {
    package var kind: String
    package var name: String

    package init(kind: String, name: String) {
        self.kind = kind
        self.name = name
    }

    package static func < (left: KernelObject, right: KernelObject) -> Bool { (left.kind, left.name) < (right.kind, right.name) }

    /// The nft keyword for an NFT_OBJECT_* type.
    package static func kind(ofObjectType type: UInt32) -> String {
        let names: [UInt32: String] = [1: "counter", 2: "quota", 3: "ct helper", 4: "limit", 5: "connlimit", 6: "tunnel",
                                       7: "ct timeout", 8: "secmark", 9: "ct expectation", 10: "synproxy"]
        return names[type] ?? "object type \(type)"
    }
}

extension KernelTable {
    package static let dormantFlag: UInt32 = 0x1
    package static let ownerFlag: UInt32 = 0x2

    /// Readable names of table flags (`dormant`, `owner`, `persist`, or the raw bit).
    package static func flagNames(_ flags: UInt32) -> [String] {
        let known: [(UInt32, String)] = [(0x1, "dormant"), (0x2, "owner"), (0x4, "persist")]
        var names = known.filter { flags & $0.0 != 0 }.map(\.1)
        let rest = flags & ~known.reduce(0) { $0 | $1.0 }
        if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
        return names
    }
}

package struct KernelSet: Hashable, Sendable {
    package var name: String
    package var layout: SetLayout
    package var elements: Set<EncodedElement>
    /// Declaration attributes kubenft never sends (set expressions, policy, gc interval), described;
    /// nil for sets as kubenft creates them.
    package var extra: String? = nil

    package init(name: String, layout: SetLayout, elements: Set<EncodedElement>, extra: String? = nil) {
        self.name = name
        self.layout = layout
        self.elements = elements
        self.extra = extra
    }
}

/// The contents of an anonymous set: its declaration and elements.
package struct AnonymousContents: Hashable, Sendable {
    package var layout: SetLayout
    package var elements: Set<EncodedElement>

    package init(layout: SetLayout, elements: Set<EncodedElement>) {
        self.layout = layout
        self.elements = elements
    }
}

package struct KernelRule: Hashable, Sendable {
    package var comment: String?
    /// Lookups of anonymous sets refer to `anonymousSets` by position.
    package var expressions: [KernelExpression]
    package var anonymousSets: [AnonymousContents]
    /// The dump's text for a rule with expressions kubenft never emits (then `expressions` is empty).
    package var foreign: String?

    package init(comment: String? = nil, expressions: [KernelExpression], anonymousSets: [AnonymousContents], foreign: String? = nil) {
        self.comment = comment
        self.expressions = expressions
        self.anonymousSets = anonymousSets
        self.foreign = foreign
    }
}

package struct KernelChain: Hashable, Sendable {
    package var name: String
    package var hook: Chain.Hook?
    package var comment: String?
    package var rules: [KernelRule]
    /// What the chain has beyond `hook` that kubenft never sends (a hook or chain type the IR
    /// cannot express, a device, offload or binding flags), described; nil for kubenft's chains.
    package var extra: String? = nil

    package init(name: String, hook: Chain.Hook? = nil, comment: String? = nil, rules: [KernelRule], extra: String? = nil) {
        self.name = name
        self.hook = hook
        self.comment = comment
        self.rules = rules
        self.extra = extra
    }
}

extension KernelTable {
    /// The kernel form of a desired ruleset, encoded exactly as a batch would send it.
    package init(encoding ruleset: Ruleset) throws(NetlinkError) {
        comment = ruleset.comment.map(NFTQuoting.comment)
        counters = ruleset.counters.map(KernelCounter.init).sorted { $0.name < $1.name }
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
    package init(encoding rule: Rule, linearizer: Linearizer) throws(NetlinkError) {
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
