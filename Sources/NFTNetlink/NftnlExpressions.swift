import CNftnl
import NFTRuleset

/// Builds libnftnl expression objects from kernel expressions. Every length is checked here,
/// before libnftnl sees it.
enum NftnlExpressions {
    /// Resolves a set reference to the name and, for sets created in the same batch, the id.
    typealias SetResolver = (SetReference) throws(NetlinkError) -> (name: String, id: UInt32?)

    static func make(_ expression: KernelExpression, resolve: SetResolver) throws(NetlinkError) -> OpaquePointer {
        let name = kernelName(expression)
        guard let pointer = nftnl_expr_alloc(name) else { throw NetlinkError(.system, code: 12, "out of memory for a \(name) expression") }
        do {
            try fill(pointer, expression, resolve: resolve)
        } catch {
            nftnl_expr_free(pointer)
            throw error
        }
        return pointer
    }

    static func kernelName(_ expression: KernelExpression) -> String {
        switch expression {
        case .payload: return "payload"
        case .meta, .metaSet: return "meta"
        case .conntrack: return "ct"
        case .fib: return "fib"
        case .numgen: return "numgen"
        case .byteorder: return "byteorder"
        case .cmp: return "cmp"
        case .range: return "range"
        case .bitwise: return "bitwise"
        case .lookup: return "lookup"
        case .immediateData, .immediateVerdict: return "immediate"
        case .dnat: return "nat"
        case .masquerade: return "masq"
        case .reject: return "reject"
        case .dynsetUpdate, .dynsetUpdateLimit: return "dynset"
        case .counter: return "counter"
        case .limit: return "limit"
        case .objref: return "objref"
        case .log: return "log"
        }
    }

    private static func u32(_ e: OpaquePointer, _ attribute: Int, _ value: UInt32) {
        nftnl_expr_set_u32(e, UInt16(attribute), value)
    }

    private static func data(_ e: OpaquePointer, _ attribute: Int, _ bytes: [UInt8]) throws(NetlinkError) {
        guard !bytes.isEmpty, bytes.count <= 16 else { throw NetlinkError(.unsupported, "constant of \(bytes.count) bytes") }
        let rc = bytes.withUnsafeBytes { nftnl_expr_set(e, UInt16(attribute), $0.baseAddress, UInt32($0.count)) }
        guard rc == 0 else { throw NetlinkError(.unsupported, "libnftnl refused a constant of \(bytes.count) bytes") }
    }

    private static func string(_ e: OpaquePointer, _ attribute: Int, _ text: String) throws(NetlinkError) {
        guard !text.isEmpty, text.utf8.count <= 255, !text.utf8.contains(0) else {
            throw NetlinkError(.unsupported, "name '\(text)' is empty, longer than 255 bytes or contains NUL")
        }
        guard nftnl_expr_set_str(e, UInt16(attribute), text) == 0 else { throw NetlinkError(.system, code: 12, "out of memory") }
    }

    private static func fill(_ e: OpaquePointer, _ expression: KernelExpression, resolve: SetResolver) throws(NetlinkError) {
        switch expression {
        case .payload(let base, let offset, let length, let dreg):
            u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg)
            u32(e, NFTNL_EXPR_PAYLOAD_BASE, base)
            u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset)
            u32(e, NFTNL_EXPR_PAYLOAD_LEN, length)
        case .meta(let key, let dreg):
            u32(e, NFTNL_EXPR_META_KEY, key)
            u32(e, NFTNL_EXPR_META_DREG, dreg)
        case .metaSet(let key, let sreg):
            u32(e, NFTNL_EXPR_META_KEY, key)
            u32(e, NFTNL_EXPR_META_SREG, sreg)
        case .conntrack(let key, let direction, let dreg):
            u32(e, NFTNL_EXPR_CT_DREG, dreg)
            u32(e, NFTNL_EXPR_CT_KEY, key)
            if let direction { nftnl_expr_set_u8(e, UInt16(NFTNL_EXPR_CT_DIR), direction) }
        case .fib(let result, let flags, let dreg):
            u32(e, NFTNL_EXPR_FIB_DREG, dreg)
            u32(e, NFTNL_EXPR_FIB_RESULT, result)
            u32(e, NFTNL_EXPR_FIB_FLAGS, flags)
        case .numgen(let modulus, let offset, let dreg):
            u32(e, NFTNL_EXPR_NG_DREG, dreg)
            u32(e, NFTNL_EXPR_NG_MODULUS, modulus)
            u32(e, NFTNL_EXPR_NG_TYPE, 1 /* NFT_NG_RANDOM */)
            u32(e, NFTNL_EXPR_NG_OFFSET, offset)
        case .byteorder(let sreg, let dreg, let length, let size):
            u32(e, NFTNL_EXPR_BYTEORDER_SREG, sreg)
            u32(e, NFTNL_EXPR_BYTEORDER_DREG, dreg)
            u32(e, NFTNL_EXPR_BYTEORDER_OP, 1 /* NFT_BYTEORDER_HTON */)
            u32(e, NFTNL_EXPR_BYTEORDER_LEN, length)
            u32(e, NFTNL_EXPR_BYTEORDER_SIZE, size)
        case .cmp(let sreg, let op, let bytes):
            u32(e, NFTNL_EXPR_CMP_SREG, sreg)
            u32(e, NFTNL_EXPR_CMP_OP, op.rawValue)
            try data(e, NFTNL_EXPR_CMP_DATA, bytes)
        case .range(let sreg, let op, let low, let high):
            u32(e, NFTNL_EXPR_RANGE_SREG, sreg)
            u32(e, NFTNL_EXPR_RANGE_OP, op == .eq ? 0 : 1)
            try data(e, NFTNL_EXPR_RANGE_FROM_DATA, low)
            try data(e, NFTNL_EXPR_RANGE_TO_DATA, high)
        case .bitwise(let sreg, let dreg, let mask, let xor):
            guard mask.count == xor.count else { throw NetlinkError(.unsupported, "bitwise mask and xor differ in length") }
            u32(e, NFTNL_EXPR_BITWISE_SREG, sreg)
            u32(e, NFTNL_EXPR_BITWISE_DREG, dreg)
            u32(e, NFTNL_EXPR_BITWISE_OP, 0 /* NFT_BITWISE_MASK_XOR */)
            u32(e, NFTNL_EXPR_BITWISE_LEN, UInt32(mask.count))
            try data(e, NFTNL_EXPR_BITWISE_MASK, mask)
            try data(e, NFTNL_EXPR_BITWISE_XOR, xor)
        case .lookup(let sreg, let set, let dreg, let inverted):
            let target = try resolve(set)
            u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg)
            if let dreg { u32(e, NFTNL_EXPR_LOOKUP_DREG, dreg) }
            try string(e, NFTNL_EXPR_LOOKUP_SET, target.name)
            if let id = target.id { u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id) }
            if inverted { u32(e, NFTNL_EXPR_LOOKUP_FLAGS, 1 /* NFT_LOOKUP_F_INV */) }
        case .immediateData(let dreg, let bytes):
            u32(e, NFTNL_EXPR_IMM_DREG, dreg)
            try data(e, NFTNL_EXPR_IMM_DATA, bytes)
        case .immediateVerdict(let verdict):
            u32(e, NFTNL_EXPR_IMM_DREG, 0)
            let (code, chain) = VerdictCode.encode(verdict)
            u32(e, NFTNL_EXPR_IMM_VERDICT, UInt32(bitPattern: code))
            if let chain { try string(e, NFTNL_EXPR_IMM_CHAIN, chain) }
        case .dnat(let family, let address, let port, let flags):
            u32(e, NFTNL_EXPR_NAT_TYPE, Kernel.natDestination)
            u32(e, NFTNL_EXPR_NAT_FAMILY, family)
            u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, address)
            if let port { u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, port) }
            if let flags { u32(e, NFTNL_EXPR_NAT_FLAGS, flags) }
        case .masquerade, .counter:
            break
        case .reject(let type, let code):
            u32(e, NFTNL_EXPR_REJECT_TYPE, type)
            nftnl_expr_set_u8(e, UInt16(NFTNL_EXPR_REJECT_CODE), code)
        case .dynsetUpdate(let sreg, let set):
            let target = try resolve(set)
            u32(e, NFTNL_EXPR_DYNSET_OP, 1 /* NFT_DYNSET_OP_UPDATE */)
            u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, sreg)
            try string(e, NFTNL_EXPR_DYNSET_SET_NAME, target.name)
            if let id = target.id { u32(e, NFTNL_EXPR_DYNSET_SET_ID, id) }
        case .limit(let rate, let unit, let burst, let inverted):
            nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_LIMIT_RATE), rate)
            nftnl_expr_set_u64(e, UInt16(NFTNL_EXPR_LIMIT_UNIT), unit)
            u32(e, NFTNL_EXPR_LIMIT_BURST, burst)
            u32(e, NFTNL_EXPR_LIMIT_TYPE, 0 /* NFT_LIMIT_PKTS */)
            u32(e, NFTNL_EXPR_LIMIT_FLAGS, inverted ? 1 /* NFT_LIMIT_F_INV */ : 0)
        case .dynsetUpdateLimit(let sreg, let set, let rate, let unit, let burst):
            try fill(e, .dynsetUpdate(sreg: sreg, set: set), resolve: resolve)
            let nested = try make(.limit(rate: rate, unit: unit, burst: burst, inverted: true), resolve: resolve)
            // libnftnl takes ownership of the nested expression (it is freed with the dynset).
            nftnl_expr_set(e, UInt16(NFTNL_EXPR_DYNSET_EXPR), UnsafeRawPointer(nested), 0)
        case .objref(let type, let name):
            u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, type)
            try string(e, NFTNL_EXPR_OBJREF_IMM_NAME, name)
        case .log(let prefix, let group):
            // nft's order and attributes for a group log: the prefix, then the group.
            guard prefix.utf8.count <= 127, !prefix.utf8.contains(0) else { throw NetlinkError(.unsupported, "log prefix '\(prefix)' is longer than 127 bytes") }
            if !prefix.isEmpty { try string(e, NFTNL_EXPR_LOG_PREFIX, prefix) }
            nftnl_expr_set_u16(e, UInt16(NFTNL_EXPR_LOG_GROUP), group)
        }
    }
}

/// Verdict codes of immediate expressions and verdict-map elements.
enum VerdictCode {
    static func encode(_ verdict: Verdict) -> (Int32, String?) {
        switch verdict {
        case .accept: return (1, nil)
        case .drop: return (0, nil)
        case .continue: return (-1, nil)
        case .return: return (-5, nil)
        case .jump(let chain): return (-3, chain)
        case .goto(let chain): return (-4, chain)
        }
    }

    static func decode(_ code: Int32, chain: String?) -> Verdict? {
        switch (code, chain) {
        case (1, _): return .accept
        case (0, _): return .drop
        case (-1, _): return .continue
        case (-5, _): return .return
        case (-3, let chain?): return .jump(chain)
        case (-4, let chain?): return .goto(chain)
        default: return nil
        }
    }
}
