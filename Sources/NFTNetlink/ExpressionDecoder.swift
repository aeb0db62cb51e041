import CNftnl
import NFTRuleset

/// libnftnl expressions read back from the kernel, as kernel expressions. Anything kubenft never
/// emits decodes to nil, and the rule is then reported as foreign.
enum ExpressionDecoder {
    static func expressions(of rule: OpaquePointer) -> [KernelExpression]? {
        guard let iterator = nftnl_expr_iter_create(rule) else { return nil }
        defer { nftnl_expr_iter_destroy(iterator) }
        var result: [KernelExpression] = []
        while let expression = nftnl_expr_iter_next(iterator) {
            guard let decoded = decode(expression) else { return nil }
            result.append(decoded)
        }
        return result
    }

    private static func u32(_ e: OpaquePointer, _ attribute: Int) -> UInt32 { nftnl_expr_get_u32(e, UInt16(attribute)) }
    private static func has(_ e: OpaquePointer, _ attribute: Int) -> Bool { nftnl_expr_is_set(e, UInt16(attribute)) }

    private static func bytes(_ e: OpaquePointer, _ attribute: Int) -> [UInt8] {
        var length: UInt32 = 0
        guard let pointer = nftnl_expr_get(e, UInt16(attribute), &length) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
    }

    private static func string(_ e: OpaquePointer, _ attribute: Int) -> String? {
        nftnl_expr_get_str(e, UInt16(attribute)).map { String(cString: $0) }
    }

    static func decode(_ e: OpaquePointer) -> KernelExpression? {
        guard let name = string(e, NFTNL_EXPR_NAME) else { return nil }
        switch name {
        case "payload":
            guard !has(e, NFTNL_EXPR_PAYLOAD_SREG) else { return nil }
            return .payload(base: u32(e, NFTNL_EXPR_PAYLOAD_BASE), offset: u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
                            length: u32(e, NFTNL_EXPR_PAYLOAD_LEN), dreg: u32(e, NFTNL_EXPR_PAYLOAD_DREG))
        case "meta":
            if has(e, NFTNL_EXPR_META_SREG) { return .metaSet(key: u32(e, NFTNL_EXPR_META_KEY), sreg: u32(e, NFTNL_EXPR_META_SREG)) }
            return .meta(key: u32(e, NFTNL_EXPR_META_KEY), dreg: u32(e, NFTNL_EXPR_META_DREG))
        case "ct":
            guard !has(e, NFTNL_EXPR_CT_SREG) else { return nil }
            let direction: UInt8? = has(e, NFTNL_EXPR_CT_DIR) ? nftnl_expr_get_u8(e, UInt16(NFTNL_EXPR_CT_DIR)) : nil
            return .conntrack(key: u32(e, NFTNL_EXPR_CT_KEY), direction: direction, dreg: u32(e, NFTNL_EXPR_CT_DREG))
        case "fib":
            return .fib(result: u32(e, NFTNL_EXPR_FIB_RESULT), flags: u32(e, NFTNL_EXPR_FIB_FLAGS), dreg: u32(e, NFTNL_EXPR_FIB_DREG))
        case "numgen":
            guard u32(e, NFTNL_EXPR_NG_TYPE) == 1 else { return nil }
            return .numgen(modulus: u32(e, NFTNL_EXPR_NG_MODULUS), offset: u32(e, NFTNL_EXPR_NG_OFFSET), dreg: u32(e, NFTNL_EXPR_NG_DREG))
        case "byteorder":
            guard u32(e, NFTNL_EXPR_BYTEORDER_OP) == 1 else { return nil }
            return .byteorder(sreg: u32(e, NFTNL_EXPR_BYTEORDER_SREG), dreg: u32(e, NFTNL_EXPR_BYTEORDER_DREG),
                              length: u32(e, NFTNL_EXPR_BYTEORDER_LEN), size: u32(e, NFTNL_EXPR_BYTEORDER_SIZE))
        case "cmp":
            guard let op = KernelComparison(rawValue: u32(e, NFTNL_EXPR_CMP_OP)) else { return nil }
            return .cmp(sreg: u32(e, NFTNL_EXPR_CMP_SREG), op: op, data: bytes(e, NFTNL_EXPR_CMP_DATA))
        case "range":
            let op: KernelComparison = u32(e, NFTNL_EXPR_RANGE_OP) == 0 ? .eq : .neq
            return .range(sreg: u32(e, NFTNL_EXPR_RANGE_SREG), op: op, low: bytes(e, NFTNL_EXPR_RANGE_FROM_DATA),
                          high: bytes(e, NFTNL_EXPR_RANGE_TO_DATA))
        case "bitwise":
            guard u32(e, NFTNL_EXPR_BITWISE_OP) == 0 else { return nil }
            return .bitwise(sreg: u32(e, NFTNL_EXPR_BITWISE_SREG), dreg: u32(e, NFTNL_EXPR_BITWISE_DREG),
                            mask: bytes(e, NFTNL_EXPR_BITWISE_MASK), xor: bytes(e, NFTNL_EXPR_BITWISE_XOR))
        case "lookup":
            guard let set = string(e, NFTNL_EXPR_LOOKUP_SET) else { return nil }
            let dreg: UInt32? = has(e, NFTNL_EXPR_LOOKUP_DREG) ? u32(e, NFTNL_EXPR_LOOKUP_DREG) : nil
            let inverted = has(e, NFTNL_EXPR_LOOKUP_FLAGS) && u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & 1 != 0
            return .lookup(sreg: u32(e, NFTNL_EXPR_LOOKUP_SREG), set: .named(set), dreg: dreg, inverted: inverted)
        case "immediate":
            if u32(e, NFTNL_EXPR_IMM_DREG) == 0 {
                let chain = string(e, NFTNL_EXPR_IMM_CHAIN)
                return VerdictCode.decode(Int32(bitPattern: u32(e, NFTNL_EXPR_IMM_VERDICT)), chain: chain).map(KernelExpression.immediateVerdict)
            }
            return .immediateData(dreg: u32(e, NFTNL_EXPR_IMM_DREG), data: bytes(e, NFTNL_EXPR_IMM_DATA))
        case "nat":
            // The kernel reports the max registers equal to the min ones when only minimums were given.
            guard u32(e, NFTNL_EXPR_NAT_TYPE) == Kernel.natDestination,
                  !has(e, NFTNL_EXPR_NAT_REG_ADDR_MAX) || u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX) == u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN),
                  !has(e, NFTNL_EXPR_NAT_REG_PROTO_MAX) || u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX) == u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN)
            else { return nil }
            // The kernel adds NF_NAT_RANGE_MAP_IPS (1) itself whenever an address register is given.
            let flags = has(e, NFTNL_EXPR_NAT_FLAGS) ? u32(e, NFTNL_EXPR_NAT_FLAGS) & ~UInt32(1) : 0
            return .dnat(family: u32(e, NFTNL_EXPR_NAT_FAMILY), addressRegister: u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN),
                         portRegister: has(e, NFTNL_EXPR_NAT_REG_PROTO_MIN) ? u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN) : nil,
                         flags: flags != 0 ? flags : nil)
        case "masq":
            return has(e, NFTNL_EXPR_MASQ_FLAGS) && u32(e, NFTNL_EXPR_MASQ_FLAGS) != 0 ? nil : .masquerade
        case "reject":
            return .reject(type: u32(e, NFTNL_EXPR_REJECT_TYPE), code: nftnl_expr_get_u8(e, UInt16(NFTNL_EXPR_REJECT_CODE)))
        case "dynset":
            guard u32(e, NFTNL_EXPR_DYNSET_OP) == 1, let set = string(e, NFTNL_EXPR_DYNSET_SET_NAME) else { return nil }
            if has(e, NFTNL_EXPR_DYNSET_EXPR) {
                var length: UInt32 = 0
                guard let raw = nftnl_expr_get(e, UInt16(NFTNL_EXPR_DYNSET_EXPR), &length),
                      case .limit(let rate, let unit, let burst, true)? = decode(OpaquePointer(raw)) else { return nil }
                return .dynsetUpdateLimit(sreg: u32(e, NFTNL_EXPR_DYNSET_SREG_KEY), set: .named(set), rate: rate, unit: unit, burst: burst)
            }
            return .dynsetUpdate(sreg: u32(e, NFTNL_EXPR_DYNSET_SREG_KEY), set: .named(set))
        case "limit":
            guard u32(e, NFTNL_EXPR_LIMIT_TYPE) == 0 else { return nil }
            return .limit(rate: nftnl_expr_get_u64(e, UInt16(NFTNL_EXPR_LIMIT_RATE)), unit: nftnl_expr_get_u64(e, UInt16(NFTNL_EXPR_LIMIT_UNIT)),
                          burst: u32(e, NFTNL_EXPR_LIMIT_BURST), inverted: has(e, NFTNL_EXPR_LIMIT_FLAGS) && u32(e, NFTNL_EXPR_LIMIT_FLAGS) & 1 != 0)
        case "counter":
            return .counter
        case "objref":
            guard has(e, NFTNL_EXPR_OBJREF_IMM_TYPE), let name = string(e, NFTNL_EXPR_OBJREF_IMM_NAME) else { return nil }
            return .objref(type: u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE), name: name)
        case "log":
            // Only the shape kubenft sends: a group log with at most a prefix.
            guard has(e, NFTNL_EXPR_LOG_GROUP), !has(e, NFTNL_EXPR_LOG_SNAPLEN), !has(e, NFTNL_EXPR_LOG_QTHRESHOLD),
                  !has(e, NFTNL_EXPR_LOG_LEVEL), !has(e, NFTNL_EXPR_LOG_FLAGS) else { return nil }
            return .log(prefix: string(e, NFTNL_EXPR_LOG_PREFIX) ?? "", group: nftnl_expr_get_u16(e, UInt16(NFTNL_EXPR_LOG_GROUP)))
        default:
            return nil
        }
    }
}
