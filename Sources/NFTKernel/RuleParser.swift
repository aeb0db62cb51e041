import NFTRuleset
import NetAddress

/// Reads kernel expressions back into statements: the inverse of the linearizer for every shape
/// it produces (dependencies, prefixes, ranges, flag tests, lookups, maps, NAT, marks).
package struct RuleParser {
    package let expressions: [KernelExpression]
    package let anonymousSets: [AnonymousContents]
    package var index = 0
    package var family: IPFamily?

    package init(expressions: [KernelExpression], anonymousSets: [AnonymousContents]) {
        self.expressions = expressions
        self.anonymousSets = anonymousSets
    }

    private func failure(_ what: String) -> NetlinkError {
        NetlinkError(.unsupported, "unexpected \(what) at expression \(index + 1) of \(expressions.count)")
    }

    private func peek(_ offset: Int = 0) -> KernelExpression? {
        index + offset < expressions.count ? expressions[index + offset] : nil
    }

    package mutating func statements() throws(NetlinkError) -> [Statement] {
        var result: [Statement] = []
        while index < expressions.count { result += try next() }
        return result
    }

    private mutating func next() throws(NetlinkError) -> [Statement] {
        guard let expression = peek() else { return [] }
        switch expression {
        case .immediateVerdict(let verdict):
            index += 1
            return [.verdict(verdict)]
        case .counter:
            index += 1
            return [.counter]
        case .limit(let rate, let unit, let burst, true):
            index += 1
            guard let limit = RuleParser.rateLimit(rate: rate, unit: unit, burst: burst) else { throw failure("limit") }
            return [.limitOver(limit)]
        case .limit(let rate, let unit, let burst, false):
            index += 1
            guard let limit = RuleParser.rateLimit(rate: rate, unit: unit, burst: burst) else { throw failure("limit") }
            return [.limitUnder(limit)]
        case .objref(Kernel.objectCounter, let name):
            index += 1
            return [.namedCounter(name)]
        case .log(let prefix, let group):
            index += 1
            return [.log(LogTarget(prefix: prefix, group: group))]
        case .masquerade:
            index += 1
            return [.masquerade]
        case .reject(let type, let code):
            index += 1
            return [.reject(try rejectKind(type, code))]
        case .immediateData(1, let addressBytes):
            guard case .immediateData(2, let portBytes)? = peek(1), case .dnat(let nfproto, 1, 2?, _)? = peek(2),
                  let address = IPAddress(bytes: addressBytes), portBytes.count == 2 else { throw failure("immediate") }
            index += 3
            guard let target = Self.family(nfproto), target == address.family else { throw failure("nat family") }
            return [.dnat(target, .endpoint(address, UInt16(portBytes[0]) << 8 | UInt16(portBytes[1])))]
        case .meta(Kernel.metaNfproto, 1) where family == nil && isImplicitDependency():
            if case .cmp(_, _, let data)? = peek(1) { family = data.first == Kernel.nfprotoIPv6 ? .v6 : .v4 }
            index += 2
            return []
        default:
            return [try keyed()]
        }
    }

    package static func family(_ nfproto: UInt32) -> IPFamily? {
        nfproto == UInt32(Kernel.nfprotoIPv4) ? .v4 : nfproto == UInt32(Kernel.nfprotoIPv6) ? .v6 : nil
    }

    /// `meta nfproto == X` directly followed by loads that read an IP header: nft's implicit check.
    private func isImplicitDependency() -> Bool {
        guard case .cmp(1, .eq, let data)? = peek(1), data.count == 1 else { return false }
        var offset = 2
        while let expression = peek(offset) {
            switch expression {
            case .payload(let base, _, _, _):
                if base == Kernel.payloadNetwork { return true }
            case .meta, .conntrack, .fib, .numgen: break
            default: return false
            }
            offset += 1
        }
        return false
    }

    private func rejectKind(_ type: UInt32, _ code: UInt8) throws(NetlinkError) -> RejectKind {
        switch (type, code) {
        case (Kernel.rejectICMP, 3), (Kernel.rejectICMP, 4): return .default
        case (Kernel.rejectICMPX, 1): return family == nil ? .default : .icmpxPortUnreachable
        case (Kernel.rejectICMPX, 3): return .icmpxAdminProhibited
        case (Kernel.rejectTCPReset, _): return .tcpReset
        default: throw failure("reject type \(type) code \(code)")
        }
    }

    /// One register load (or a concatenation of them) and what uses it.
    private mutating func keyed() throws(NetlinkError) -> Statement {
        let (key, types, parts) = try loadedKey(from: 0)
        guard let user = peek() else { throw failure("end of rule after a load") }
        index += 1
        switch user {
        case .cmp(1, let op, let data):
            return try comparison(key, types[0], loaded: parts[0].2, op, data)
        case .range(1, .neq, let low, let high):
            return .match(key, .notEqual, .value(try range(low, high, types[0])))
        case .bitwise(1, 1, let mask, let xor):
            return try bitwise(key, types[0], mask: mask, xor: xor)
        case .byteorder(1, 1, _, _):
            guard case .cmp(1, .lt, let data)? = peek(), let value = ValueCodec.value(data.reversed(), as: types[0]) else {
                throw failure("byteorder")
            }
            index += 1
            return .match(key, .lessThan, .value(value))
        case .lookup(1, let set, let dreg, let inverted):
            return try lookup(key, types, set: set, dreg: dreg, inverted: inverted)
        case .dynsetUpdate(1, .named(let name)):
            return .updateSet(name: name, key: key)
        case .dynsetUpdateLimit(1, .named(let name), let rate, let unit, let burst):
            guard let limit = RuleParser.rateLimit(rate: rate, unit: unit, burst: burst) else { throw failure("limit") }
            return .updateSetLimitOver(name: name, key: key, limit: limit)
        default:
            throw failure("\(user)")
        }
    }

    /// The register loads from `slot` on, as one key (a concatenation when there are several).
    package mutating func loadedKey(from slot: Int) throws(NetlinkError) -> (Expression, [FieldType], [(Expression, FieldType, Int)]) {
        var parts: [(Expression, FieldType, Int)] = []
        var next = slot
        while let expression = peek(), let loaded = load(expression, slot: next) {
            parts.append(loaded)
            next += Kernel.slots(forLength: loaded.2)
            index += 1
        }
        guard !parts.isEmpty else { throw failure("expression \(peek().map { "\($0)" } ?? "end")") }
        let key = parts.count == 1 ? parts[0].0 : .concat(parts.map(\.0))
        return (key, parts.map(\.1), parts)
    }

    private func load(_ expression: KernelExpression, slot: Int) -> (Expression, FieldType, Int)? {
        let register = Kernel.register(slot: slot)
        switch expression {
        case .payload(let base, let offset, let length, register):
            guard let fact = KernelFields.payload(base: base, offset: offset, family: family),
                  length > 0, Int(length) <= fact.type.length else { return nil }
            return (.payload(fact.field), fact.type, Int(length))
        case .meta(let key, register):
            guard let fact = KernelFields.meta(number: key) else { return nil }
            return (.meta(fact.key), fact.type, fact.type.length)
        case .conntrack(let key, let direction, register):
            switch (key, direction) {
            case (_, nil):
                guard let fact = KernelFields.conntrack(number: key) else { return nil }
                return (.conntrack(fact.key), fact.type, fact.type.length)
            case (Kernel.ctDstIP, 0?): return (.conntrackOriginalDestination(.v4), .ipv4, 4)
            case (Kernel.ctDstIP6, 0?): return (.conntrackOriginalDestination(.v6), .ipv6, 16)
            default: return nil
            }
        case .fib(Kernel.fibResultAddressType, let flags, register):
            return (.fibAddressType(destination: flags & Kernel.fibFlagDestination != 0), .fibAddressType, 4)
        case .numgen(let modulus, let offset, register):
            return (.randomNumber(modulus: Int(modulus), offset: Int(offset)), .integer, 4)
        default:
            return nil
        }
    }
}

extension RuleParser {
    /// The IR limit for a kernel `limit` (packets, a unit of one second, minute, hour or day).
    package static func rateLimit(rate: UInt64, unit: UInt64, burst: UInt32) -> RateLimit? {
        guard let named = RateLimit.Unit.allCases.first(where: { $0.seconds == unit }) else { return nil }
        return RateLimit(rate: rate, unit: named, burst: burst)
    }
}
