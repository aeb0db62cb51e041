import NFTRuleset
import NetAddress

extension RuleParser {
    private func failure(_ what: String) -> NetlinkError {
        NetlinkError(.unsupported, "unexpected \(what) at expression \(index) of \(expressions.count)")
    }

    private func peekNext() -> KernelExpression? { index < expressions.count ? expressions[index] : nil }

    package mutating func comparison(_ key: Expression, _ type: FieldType, loaded: Int, _ op: KernelComparison,
                             _ data: [UInt8]) throws(NetlinkError) -> Statement {
        if loaded < type.length {
            guard op == .eq || op == .neq, data.count == loaded,
                  let address = IPAddress(bytes: data + [UInt8](repeating: 0, count: type.length - loaded)),
                  let cidr = CIDR(address: address, prefixLength: loaded * 8) else { throw failure("short load") }
            return .match(key, op == .eq ? .equal : .notEqual, .value(.prefix(cidr)))
        }
        if op == .gte, case .cmp(1, .lte, let high)? = peekNext() {
            index += 1
            return .match(key, .equal, .value(try range(data, high, type)))
        }
        guard let value = ValueCodec.value(data, as: type) else { throw failure("constant for \(type)") }
        switch op {
        case .eq: return .match(key, .equal, .value(value))
        case .neq: return .match(key, .notEqual, .value(value))
        case .lt: return .match(key, .lessThan, .value(value))
        default: throw failure("comparison \(op)")
        }
    }

    package func range(_ low: [UInt8], _ high: [UInt8], _ type: FieldType) throws(NetlinkError) -> Value {
        switch type {
        case .ipv4, .ipv6:
            guard let lowAddress = IPAddress(bytes: low), let highAddress = IPAddress(bytes: high) else { throw failure("range") }
            return .addressRange(lowAddress, highAddress)
        case .port:
            guard case .port(let lowPort)? = ValueCodec.value(low, as: .port), case .port(let highPort)? = ValueCodec.value(high, as: .port) else {
                throw failure("range")
            }
            return .portRange(lowPort, highPort)
        default:
            throw failure("range of \(type)")
        }
    }

    package mutating func bitwise(_ key: Expression, _ type: FieldType, mask: [UInt8], xor: [UInt8]) throws(NetlinkError) -> Statement {
        let xorIsZero = xor.allSatisfy { $0 == 0 }
        if !xorIsZero, case .metaSet(Kernel.metaMark, 1)? = peekNext(), case .meta(.mark) = key {
            index += 1
            return .setMarkBits(UInt32(ValueCodec.hostValue(xor)))
        }
        guard case .cmp(1, let op, let data)? = peekNext(), op == .eq || op == .neq else { throw failure("bitwise") }
        index += 1
        let comparison: Statement.Comparison = op == .eq ? .equal : .notEqual
        if xorIsZero, type.isBitmask, op == .neq, data.allSatisfy({ $0 == 0 }), let flag = ValueCodec.value(mask, as: type) {
            return .match(key, .equal, .value(flag))
        }
        if xorIsZero, type == .ipv4 || type == .ipv6, case .payload = key,
           let length = Self.prefixLength(mask), let address = IPAddress(bytes: data),
           let cidr = CIDR(address: address, prefixLength: length) {
            return .match(key, comparison, .value(.prefix(cidr)))
        }
        guard let value = ValueCodec.value(data, as: type) else { throw failure("constant for \(type)") }
        if xorIsZero, let maskValue = ValueCodec.value(mask, as: type) {
            return .match(.bitwiseAnd(key, maskValue), comparison, .value(value))
        }
        guard let bits = ValueCodec.value(xor, as: type) else { throw failure("bitwise or") }
        return .match(.bitwiseOr(key, bits), comparison, .value(value))
    }

    /// The prefix length of a contiguous network mask.
    package static func prefixLength(_ mask: [UInt8]) -> Int? {
        var length = 0
        var ended = false
        for byte in mask {
            for bit in (0..<8).reversed() {
                let set = byte & (1 << bit) != 0
                if set && ended { return nil }
                if set { length += 1 } else { ended = true }
            }
        }
        return length
    }

    package mutating func lookup(_ key: Expression, _ types: [FieldType], set: SetReference, dreg: UInt32?,
                         inverted: Bool) throws(NetlinkError) -> Statement {
        let comparison: Statement.Comparison = inverted ? .notEqual : .equal
        switch (set, dreg) {
        case (.named(let name), nil):
            return .match(key, comparison, .setReference(name))
        case (.anonymous(let position), nil):
            guard position < anonymousSets.count else { throw failure("anonymous set") }
            let contents = anonymousSets[position]
            let values = KernelRaiser.elements(contents.elements, layout: contents.layout).compactMap { $0.key.first }
            return .match(key, comparison, .anonymousSet(values.sorted()))
        case (.named(let name), 0?):
            return .verdictMap(key: key, map: name)
        case (.named(let name), 1?):
            guard case .dnat(let nfproto, 1, let port, _)? = peekNext() else {
                return try portLookupDNAT(address: .mapLookup(key: key, map: name))
            }
            guard let target = Self.family(nfproto), port == nil || port == Kernel.register(slot: target == .v4 ? 1 : 4) else {
                throw failure("map lookup")
            }
            index += 1
            return .dnat(target, .lookup(.mapLookup(key: key, map: name)))
        default:
            throw failure("lookup")
        }
    }

    /// After an address lookup into register 1: the port's key loaded from register 2, its lookup
    /// into register 2, and the DNAT reading both (`dnat to ADDRESS : PORT`).
    private mutating func portLookupDNAT(address: Expression) throws(NetlinkError) -> Statement {
        let portSlot = 4
        let (key, _, _) = try loadedKey(from: portSlot)
        guard case .lookup(let sreg, .named(let map), 2?, false)? = peekNext(), sreg == Kernel.register(slot: portSlot),
              case .dnat(let nfproto, 1, 2?, _)? = expressions.dropFirst(index + 1).first, let target = Self.family(nfproto)
        else { throw failure("map lookup") }
        index += 2
        return .dnat(target, .lookups(address: address, port: .mapLookup(key: key, map: map)))
    }
}
