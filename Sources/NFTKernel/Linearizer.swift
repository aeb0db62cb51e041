import NFTRuleset
import NetAddress

/// An anonymous set a rule needs (`{ a, b }`), created in the same batch just before the rule.
package struct AnonymousSet: Hashable, Sendable {
    package var key: Expression
    package var type: FieldType
    package var interval: Bool
    package var values: [Value]
}

/// A rule as kernel expressions, with the anonymous sets it refers to.
package struct LinearRule: Hashable, Sendable {
    package var expressions: [KernelExpression]
    package var anonymousSets: [AnonymousSet]
}

/// Turns IR rules into kernel expressions exactly as nft 1.0.6 linearizes the same text in an
/// `inet` table: implicit `meta nfproto` dependencies before IPv4/IPv6 header fields, one
/// register allocation per statement starting at NFT_REG_1, concatenations in consecutive 4-byte
/// registers, bitmask matches as `& bits != 0`, byte-aligned prefixes as shortened loads.
package struct Linearizer {
    /// Named sets and maps of the ruleset, for the data types of map lookups.
    package var sets: [String: NamedSet]

    package init(sets: [String: NamedSet]) {
        self.sets = sets
    }

    package func linearize(_ rule: Rule) throws(NetlinkError) -> LinearRule {
        var state = RuleState()
        for statement in rule.statements {
            try state.add(statement, sets: sets)
        }
        return LinearRule(expressions: state.expressions, anonymousSets: state.anonymousSets)
    }

    /// The field types of an expression's value, one per concatenated field.
    package static func fieldTypes(_ expression: Expression) throws(NetlinkError) -> [FieldType] {
        switch expression {
        case .payload(let field): return [KernelFields.payload(field).type]
        case .meta(let key): return [KernelFields.meta(key).type]
        case .conntrack(let key): return [KernelFields.conntrack(key).type]
        case .conntrackOriginalDestination(let family): return [FieldType.address(family)]
        case .fibAddressType: return [.fibAddressType]
        case .randomNumber: return [.integer]
        case .concat(let parts):
            var types: [FieldType] = []
            for part in parts { types += try fieldTypes(part) }
            return types
        case .bitwiseAnd(let inner, _), .bitwiseOr(let inner, _): return try fieldTypes(inner)
        case .value, .anonymousSet, .setReference, .mapLookup:
            throw NetlinkError(.unsupported, "\(NFTTextEmitter.expression(expression)) is not a packet expression")
        }
    }

    /// The address family an expression's header fields belong to, if any.
    package static func networkFamily(_ expression: Expression) -> IPFamily? {
        switch expression {
        case .payload(let field):
            switch field {
            case .ipSaddr, .ipDaddr: return .v4
            case .ip6Saddr, .ip6Daddr: return .v6
            case .thSport, .thDport: return nil
            }
        case .concat(let parts): return parts.lazy.compactMap(networkFamily).first
        case .bitwiseAnd(let inner, _), .bitwiseOr(let inner, _): return networkFamily(inner)
        case .mapLookup(let key, _): return networkFamily(key)
        default: return nil
        }
    }
}

/// Per-rule linearization state: the protocol context nft tracks between statements.
package struct RuleState {
    package var expressions: [KernelExpression] = []
    package var anonymousSets: [AnonymousSet] = []
    package var family: IPFamily?
    package var transportProtocol: UInt8?

    package mutating func add(_ statement: Statement, sets: [String: NamedSet]) throws(NetlinkError) {
        switch statement {
        case .match(let left, let comparison, let right): try match(left, comparison, right)
        case .verdict(let verdict): expressions.append(.immediateVerdict(verdict))
        case .verdictMap(let key, let map):
            try loadWithDependency(key)
            expressions.append(.lookup(sreg: 1, set: .named(map), dreg: 0, inverted: false))
        case .dnat(let family, let target): try dnat(family, target, sets: sets)
        case .masquerade: expressions.append(.masquerade)
        case .reject(let kind): reject(kind)
        case .setMarkBits(let bits):
            expressions.append(.meta(key: Kernel.metaMark, dreg: 1))
            expressions.append(.bitwise(sreg: 1, dreg: 1, mask: ValueCodec.littleEndian(UInt64(~bits), count: 4),
                                        xor: ValueCodec.littleEndian(UInt64(bits), count: 4)))
            expressions.append(.metaSet(key: Kernel.metaMark, sreg: 1))
        case .updateSet(let name, let key):
            try loadWithDependency(key)
            expressions.append(.dynsetUpdate(sreg: 1, set: .named(name)))
        case .counter: expressions.append(.counter)
        case .limitOver(let limit):
            expressions.append(.limit(rate: limit.rate, unit: limit.unit.seconds, burst: limit.burst, inverted: true))
        case .updateSetLimitOver(let name, let key, let limit):
            try loadWithDependency(key)
            expressions.append(.dynsetUpdateLimit(sreg: 1, set: .named(name), rate: limit.rate, unit: limit.unit.seconds, burst: limit.burst))
        case .namedCounter(let name): expressions.append(.objref(type: Kernel.objectCounter, name: name))
        case .limitUnder(let limit):
            expressions.append(.limit(rate: limit.rate, unit: limit.unit.seconds, burst: limit.burst, inverted: false))
        case .log(let target): expressions.append(.log(prefix: target.prefix, group: target.group))
        }
    }

    /// Emits `meta nfproto` when an IPv4/IPv6 header field is used before the family is known.
    package mutating func dependency(for expression: Expression) throws(NetlinkError) {
        guard let needed = Linearizer.networkFamily(expression) else { return }
        if let family {
            guard family == needed else {
                throw NetlinkError(.unsupported, "IPv4 and IPv6 header fields mixed in one rule")
            }
            return
        }
        expressions.append(.meta(key: Kernel.metaNfproto, dreg: 1))
        expressions.append(.cmp(sreg: 1, op: .eq, data: [needed == .v4 ? Kernel.nfprotoIPv4 : Kernel.nfprotoIPv6]))
        family = needed
    }

    package mutating func loadWithDependency(_ expression: Expression) throws(NetlinkError) {
        try dependency(for: expression)
        _ = try load(expression, slot: 0)
    }

    /// Loads an expression into registers from `slot`; returns the number of 4-byte slots used.
    package mutating func load(_ expression: Expression, slot: Int, length: Int? = nil) throws(NetlinkError) -> Int {
        let register = Kernel.register(slot: slot)
        switch expression {
        case .payload(let field):
            let (base, offset, size) = Self.payload(field)
            expressions.append(.payload(base: base, offset: offset, length: UInt32(length ?? size), dreg: register))
            return Kernel.slots(forLength: length ?? size)
        case .meta(let key):
            expressions.append(.meta(key: Self.metaKey(key), dreg: register))
        case .conntrack(let key):
            expressions.append(.conntrack(key: KernelFields.conntrack(key).number, direction: nil, dreg: register))
        case .conntrackOriginalDestination(let family):
            expressions.append(.conntrack(key: family == .v4 ? Kernel.ctDstIP : Kernel.ctDstIP6, direction: 0, dreg: register))
        case .fibAddressType(let destination):
            expressions.append(.fib(result: Kernel.fibResultAddressType,
                                    flags: destination ? Kernel.fibFlagDestination : Kernel.fibFlagSource, dreg: register))
        case .randomNumber(let modulus, let offset):
            guard modulus > 0, modulus <= Int(UInt32.max), offset >= 0, offset <= Int(UInt32.max) else {
                throw NetlinkError(.unsupported, "numgen modulus \(modulus) offset \(offset) out of range")
            }
            expressions.append(.numgen(modulus: UInt32(modulus), offset: UInt32(offset), dreg: register))
        case .concat(let parts):
            var used = 0
            for part in parts { used += try load(part, slot: slot + used) }
            guard slot + used <= 16 else { throw NetlinkError(.unsupported, "concatenation longer than 64 bytes") }
            return used
        case .bitwiseAnd(let inner, let mask):
            let types = try Linearizer.fieldTypes(inner)
            let used = try load(inner, slot: slot)
            let bytes = try ValueCodec.bytes(mask, as: types[0])
            expressions.append(.bitwise(sreg: register, dreg: register, mask: bytes, xor: [UInt8](repeating: 0, count: bytes.count)))
            return used
        case .bitwiseOr(let inner, let bits):
            let types = try Linearizer.fieldTypes(inner)
            let used = try load(inner, slot: slot)
            let bytes = try ValueCodec.bytes(bits, as: types[0])
            expressions.append(.bitwise(sreg: register, dreg: register, mask: bytes.map { ~$0 }, xor: bytes))
            return used
        case .value, .anonymousSet, .setReference, .mapLookup:
            throw NetlinkError(.unsupported, "\(NFTTextEmitter.expression(expression)) cannot be loaded into a register")
        }
        return Kernel.slots(forLength: try Linearizer.fieldTypes(expression)[0].length)
    }

    package static func payload(_ field: PayloadField) -> (UInt32, UInt32, Int) {
        let fact = KernelFields.payload(field)
        return (fact.base, fact.offset, fact.type.length)
    }

    package static func metaKey(_ key: MetaKey) -> UInt32 { KernelFields.meta(key).number }
}
