import NFTRuleset

/// A table at the kernel's level of detail: what the netlink messages carry and a dump returns.
/// Two tables are equal exactly when `nft list` shows the same thing for them, so this is what
/// `verify` and incremental updates compare.
struct KernelTable: Hashable, Sendable {
    var comment: String?
    var sets: [KernelSet]
    var chains: [KernelChain]
    /// NFT_TABLE_F_* flags: kubenft's table has none (a dormant table has every hook off).
    var flags: UInt32 = 0
    /// The netlink port id that owns the table (flags owner): only that socket may change it.
    var owner: UInt32?
    /// Objects of kinds kubenft never creates (stateful objects, flowtables), sorted.
    var foreignObjects: [KernelObject] = []
    /// Named counters, in name order (their values are not part of the table's state).
    var counters: [KernelCounter] = []
}

/// A named object of a kind kubenft never creates: a stateful object (counter, quota, limit, ct
/// helper / timeout / expectation, secmark, synproxy, connlimit, tunnel) or a flowtable.
struct KernelObject: Hashable, Sendable, Comparable {
    var kind: String
    var name: String

    static func < (left: KernelObject, right: KernelObject) -> Bool { (left.kind, left.name) < (right.kind, right.name) }

    /// The nft keyword for an NFT_OBJECT_* type.
    static func kind(ofObjectType type: UInt32) -> String {
        let names: [UInt32: String] = [1: "counter", 2: "quota", 3: "ct helper", 4: "limit", 5: "connlimit", 6: "tunnel",
                                       7: "ct timeout", 8: "secmark", 9: "ct expectation", 10: "synproxy"]
        return names[type] ?? "object type \(type)"
    }
}

extension KernelTable {
    static let dormantFlag: UInt32 = 0x1
    static let ownerFlag: UInt32 = 0x2

    /// Readable names of table flags (`dormant`, `owner`, `persist`, or the raw bit).
    static func flagNames(_ flags: UInt32) -> [String] {
        let known: [(UInt32, String)] = [(0x1, "dormant"), (0x2, "owner"), (0x4, "persist")]
        var names = known.filter { flags & $0.0 != 0 }.map(\.1)
        let rest = flags & ~known.reduce(0) { $0 | $1.0 }
        if rest != 0 { names.append("0x" + String(rest, radix: 16)) }
        return names
    }
}

struct KernelSet: Hashable, Sendable {
    var name: String
    var layout: SetLayout
    var elements: Set<EncodedElement>
    /// Declaration attributes kubenft never sends (set expressions, policy, gc interval), described;
    /// nil for sets as kubenft creates them.
    var extra: String? = nil
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
    /// What the chain has beyond `hook` that kubenft never sends (a hook or chain type the IR
    /// cannot express, a device, offload or binding flags), described; nil for kubenft's chains.
    var extra: String? = nil
}

extension KernelTable {
    /// The kernel form of a desired ruleset, encoded exactly as a batch would send it.
    init(encoding ruleset: Ruleset) throws(NetlinkError) {
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
