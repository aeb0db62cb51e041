import NFTRuleset
import NetAddress

extension RuleState {
    /// `left OP right`: a comparison, a flag test, a prefix or range test, or a set lookup.
    package mutating func match(_ left: Expression, _ comparison: Statement.Comparison, _ right: Expression) throws(NetlinkError) {
        try dependency(for: left)
        noteContext(left, comparison, right)
        let types = try Linearizer.fieldTypes(left)
        switch right {
        case .value(let value):
            try compare(left, types, comparison, value)
        case .anonymousSet(let values) where values.count == 1:
            try compare(left, types, comparison, values[0])
        case .anonymousSet(let values):
            guard types.count == 1, comparison != .lessThan, !values.isEmpty else {
                throw NetlinkError(.unsupported, "anonymous sets need one key field and == or !=")
            }
            let interval = values.contains { value in
                switch value {
                case .prefix, .addressRange, .portRange: return true
                default: return false
                }
            }
            _ = try load(left, slot: 0)
            anonymousSets.append(AnonymousSet(key: left, type: types[0], interval: interval, values: values))
            expressions.append(.lookup(sreg: 1, set: .anonymous(anonymousSets.count - 1), dreg: nil,
                                       inverted: comparison == .notEqual))
        case .setReference(let name):
            guard comparison != .lessThan else { throw NetlinkError(.unsupported, "< against a set") }
            _ = try load(left, slot: 0)
            expressions.append(.lookup(sreg: 1, set: .named(name), dreg: nil, inverted: comparison == .notEqual))
        default:
            throw NetlinkError(.unsupported, "cannot compare with \(NFTTextEmitter.expression(right))")
        }
    }

    /// Remembers `meta nfproto` and `meta l4proto` matches, as nft's protocol context does.
    package mutating func noteContext(_ left: Expression, _ comparison: Statement.Comparison, _ right: Expression) {
        guard comparison == .equal, case .value(let value) = right else { return }
        if case .meta(.nfproto) = left, case .symbol(let name) = value {
            family = name == "ipv4" ? .v4 : name == "ipv6" ? .v6 : family
        }
        if case .meta(.l4proto) = left, case .proto(let name) = value {
            transportProtocol = Symbols.lookup(Symbols.protocols, name)
        }
    }

    private mutating func compare(_ left: Expression, _ types: [FieldType], _ comparison: Statement.Comparison,
                                  _ value: Value) throws(NetlinkError) {
        guard types.count == 1 else { throw NetlinkError(.unsupported, "a concatenation compared with a single constant") }
        let type = types[0]
        switch value {
        case .prefix(let cidr):
            try comparePrefix(left, type, comparison, cidr)
        case .addressRange(let low, let high):
            try compareRange(left, type, comparison, low: ValueCodec.bytes(.address(low), as: type),
                             high: ValueCodec.bytes(.address(high), as: type))
        case .portRange(let low, let high):
            try compareRange(left, type, comparison, low: ValueCodec.bytes(.port(low), as: type),
                             high: ValueCodec.bytes(.port(high), as: type))
        default:
            let bytes = try ValueCodec.bytes(value, as: type)
            _ = try load(left, slot: 0)
            if type.isBitmask && !left.isBitwise && comparison == .equal {
                expressions.append(.bitwise(sreg: 1, dreg: 1, mask: bytes, xor: [UInt8](repeating: 0, count: bytes.count)))
                expressions.append(.cmp(sreg: 1, op: .neq, data: [UInt8](repeating: 0, count: bytes.count)))
                return
            }
            switch comparison {
            case .equal: expressions.append(.cmp(sreg: 1, op: .eq, data: bytes))
            case .notEqual: expressions.append(.cmp(sreg: 1, op: .neq, data: bytes))
            case .lessThan:
                if type.isHostOrder {
                    expressions.append(.byteorder(sreg: 1, dreg: 1, length: UInt32(bytes.count), size: UInt32(bytes.count)))
                    expressions.append(.cmp(sreg: 1, op: .lt, data: bytes.reversed()))
                } else {
                    expressions.append(.cmp(sreg: 1, op: .lt, data: bytes))
                }
            }
        }
    }

    private mutating func comparePrefix(_ left: Expression, _ type: FieldType, _ comparison: Statement.Comparison,
                                        _ cidr: CIDR) throws(NetlinkError) {
        guard case .payload = left, type == FieldType.address(cidr.family), comparison != .lessThan,
              cidr.prefixLength > 0 else {
            throw NetlinkError(.unsupported, "prefix \(cidr) compared with \(NFTTextEmitter.expression(left))")
        }
        let op: KernelComparison = comparison == .equal ? .eq : .neq
        if cidr.prefixLength % 8 == 0 {
            let count = cidr.prefixLength / 8
            _ = try load(left, slot: 0, length: count)
            expressions.append(.cmp(sreg: 1, op: op, data: Array(cidr.address.bytes.prefix(count))))
            return
        }
        _ = try load(left, slot: 0)
        let mask = Self.prefixMask(cidr.prefixLength, count: type.length)
        expressions.append(.bitwise(sreg: 1, dreg: 1, mask: mask, xor: [UInt8](repeating: 0, count: type.length)))
        expressions.append(.cmp(sreg: 1, op: op, data: cidr.address.bytes))
    }

    package static func prefixMask(_ length: Int, count: Int) -> [UInt8] {
        (0..<count).map { index in
            let bits = min(8, max(0, length - index * 8))
            return bits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }

    private mutating func compareRange(_ left: Expression, _ type: FieldType, _ comparison: Statement.Comparison,
                                       low: [UInt8], high: [UInt8]) throws(NetlinkError) {
        _ = try load(left, slot: 0)
        switch comparison {
        case .equal:
            expressions.append(.cmp(sreg: 1, op: .gte, data: low))
            expressions.append(.cmp(sreg: 1, op: .lte, data: high))
        case .notEqual:
            expressions.append(.range(sreg: 1, op: .neq, low: low, high: high))
        case .lessThan:
            throw NetlinkError(.unsupported, "< against a range")
        }
    }

    package mutating func dnat(_ family: IPFamily, _ target: DNATTarget, sets: [String: NamedSet]) throws(NetlinkError) {
        let nfproto = UInt32(family == .v4 ? Kernel.nfprotoIPv4 : Kernel.nfprotoIPv6)
        switch target {
        case .endpoint(let address, let port):
            guard address.family == family else { throw NetlinkError(.unsupported, "dnat \(family) to \(address)") }
            expressions.append(.immediateData(dreg: 1, data: address.bytes))
            expressions.append(.immediateData(dreg: 2, data: ValueCodec.bigEndian(UInt64(port), count: 2)))
            expressions.append(.dnat(family: nfproto, addressRegister: 1, portRegister: 2, flags: Kernel.natProtoSpecified))
        case .lookup(.mapLookup(let key, let map)):
            let address: DataType = family == .v4 ? .ipv4Address : .ipv6Address
            let withPort: Bool
            switch sets[map]?.mapping {
            case .data(address)?: withPort = false
            case .concatenatedData([address, .inetService])?: withPort = true
            default: throw NetlinkError(.unsupported, "dnat through @\(map), which is not an address or address . port map")
            }
            try loadWithDependency(key)
            expressions.append(.lookup(sreg: 1, set: .named(map), dreg: 1, inverted: false))
            // nft puts the port right after the address: the next 4-byte register past it.
            let port = withPort ? Kernel.register(slot: family == .v4 ? 1 : 4) : nil
            expressions.append(.dnat(family: nfproto, addressRegister: 1, portRegister: port, flags: withPort ? Kernel.natProtoSpecified : nil))
        case .lookups(.mapLookup(let addressKey, let addressMap), .mapLookup(let portKey, let portMap)):
            let address: DataType = family == .v4 ? .ipv4Address : .ipv6Address
            guard sets[addressMap]?.mapping == .data(address), sets[portMap]?.mapping == .data(.inetService) else {
                throw NetlinkError(.unsupported, "dnat through @\(addressMap) : @\(portMap), which are not an address map and a port map")
            }
            try loadWithDependency(addressKey)
            expressions.append(.lookup(sreg: 1, set: .named(addressMap), dreg: 1, inverted: false))
            // nft loads the port's key from the next 16-byte register, and the address family's
            // dependency is already checked.
            let portSlot = 4
            _ = try load(portKey, slot: portSlot)
            expressions.append(.lookup(sreg: Kernel.register(slot: portSlot), set: .named(portMap), dreg: 2, inverted: false))
            expressions.append(.dnat(family: nfproto, addressRegister: 1, portRegister: 2, flags: Kernel.natProtoSpecified))
        case .lookup(let other):
            throw NetlinkError(.unsupported, "dnat to \(NFTTextEmitter.expression(other))")
        case .lookups(let address, let port):
            throw NetlinkError(.unsupported, "dnat to \(NFTTextEmitter.expression(address)) : \(NFTTextEmitter.expression(port))")
        }
    }

    package mutating func reject(_ kind: RejectKind) {
        switch kind {
        case .default:
            switch family {
            case .v4?: expressions.append(.reject(type: Kernel.rejectICMP, code: 3))
            case .v6?: expressions.append(.reject(type: Kernel.rejectICMP, code: 4))
            case nil: expressions.append(.reject(type: Kernel.rejectICMPX, code: 1))
            }
        case .tcpReset:
            if transportProtocol != 6 {
                expressions.append(.meta(key: Kernel.metaL4proto, dreg: 1))
                expressions.append(.cmp(sreg: 1, op: .eq, data: [6]))
                transportProtocol = 6
            }
            expressions.append(.reject(type: Kernel.rejectTCPReset, code: 0))
        case .icmpxAdminProhibited: expressions.append(.reject(type: Kernel.rejectICMPX, code: 3))
        case .icmpxPortUnreachable: expressions.append(.reject(type: Kernel.rejectICMPX, code: 1))
        }
    }
}
