import CNftnl
import CNftnlShim
import NFTRuleset

/// libnftnl objects for tables, chains, sets, elements and rules, built from the IR and freed by
/// the caller. Strings are validated (length, no NUL) before libnftnl copies them.
enum NftnlObjects {
    static func checkName(_ name: String, _ what: String) throws(NetlinkError) {
        guard !name.isEmpty, name.utf8.count <= 255, !name.utf8.contains(0) else {
            throw NetlinkError(.unsupported, "\(what) name '\(name)' is empty, longer than 255 bytes or contains NUL")
        }
    }

    static func table(family: UInt32, name: String, comment: String?) throws(NetlinkError) -> OpaquePointer {
        try checkName(name, "table")
        guard let table = nftnl_table_alloc() else { throw outOfMemory }
        nftnl_table_set_u32(table, UInt16(NFTNL_TABLE_FAMILY.rawValue), family)
        _ = nftnl_table_set_str(table, UInt16(NFTNL_TABLE_NAME.rawValue), name)
        nftnl_table_set_u32(table, UInt16(NFTNL_TABLE_FLAGS.rawValue), 0)
        if let udata = UserData.comment(comment.map(NFTQuoting.comment)) {
            _ = udata.withUnsafeBytes { nftnl_table_set_data(table, UInt16(NFTNL_TABLE_USERDATA.rawValue), $0.baseAddress, UInt32($0.count)) }
        }
        return table
    }

    static func chain(family: UInt32, table: String, _ chain: Chain, headerOnly: Bool = false) throws(NetlinkError) -> OpaquePointer {
        try checkName(chain.name, "chain")
        guard let pointer = nftnl_chain_alloc() else { throw outOfMemory }
        nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_FAMILY.rawValue), family)
        _ = nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TABLE.rawValue), table)
        _ = nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_NAME.rawValue), chain.name)
        if headerOnly { return pointer }
        if let hook = chain.hook {
            nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), hookNumber(hook.point))
            nftnl_chain_set_s32(pointer, UInt16(NFTNL_CHAIN_PRIO.rawValue), Int32(clamping: hook.priority))
            _ = nftnl_chain_set_str(pointer, UInt16(NFTNL_CHAIN_TYPE.rawValue), hook.type.rawValue)
            nftnl_chain_set_u32(pointer, UInt16(NFTNL_CHAIN_POLICY.rawValue), hook.policy == .accept ? 1 : 0)
        }
        if let udata = UserData.comment(chain.comment.map(NFTQuoting.comment)) {
            _ = udata.withUnsafeBytes { nftnl_chain_set_data(pointer, UInt16(NFTNL_CHAIN_USERDATA.rawValue), $0.baseAddress, UInt32($0.count)) }
        }
        return pointer
    }

    static func hookNumber(_ point: Chain.Hook.Point) -> UInt32 {
        switch point {
        case .prerouting: return 0
        case .input: return 1
        case .forward: return 2
        case .output: return 3
        case .postrouting: return 4
        }
    }

    /// A set; `layout` nil builds only the identity (table, name, id) for element messages.
    static func set(family: UInt32, table: String, name: String, id: UInt32?, layout: SetLayout?) throws(NetlinkError) -> OpaquePointer {
        if !name.hasPrefix("__set") { try checkName(name, "set") }
        guard let set = nftnl_set_alloc() else { throw outOfMemory }
        nftnl_set_set_u32(set, UInt16(NFTNL_SET_FAMILY.rawValue), family)
        _ = nftnl_set_set_str(set, UInt16(NFTNL_SET_TABLE.rawValue), table)
        _ = nftnl_set_set_str(set, UInt16(NFTNL_SET_NAME.rawValue), name)
        if let id { nftnl_set_set_u32(set, UInt16(NFTNL_SET_ID.rawValue), id) }
        guard let layout else { return set }
        nftnl_set_set_u32(set, UInt16(NFTNL_SET_FLAGS.rawValue), layout.flags)
        nftnl_set_set_u32(set, UInt16(NFTNL_SET_KEY_TYPE.rawValue), layout.keyType)
        nftnl_set_set_u32(set, UInt16(NFTNL_SET_KEY_LEN.rawValue), UInt32(layout.keyLength))
        if let type = layout.dataType, let length = layout.dataLength {
            nftnl_set_set_u32(set, UInt16(NFTNL_SET_DATA_TYPE.rawValue), type)
            nftnl_set_set_u32(set, UInt16(NFTNL_SET_DATA_LEN.rawValue), length)
        }
        if let timeout = layout.timeoutMilliseconds { nftnl_set_set_u64(set, UInt16(NFTNL_SET_TIMEOUT.rawValue), timeout) }
        if let size = layout.size { nftnl_set_set_u32(set, UInt16(NFTNL_SET_DESC_SIZE.rawValue), size) }
        if !layout.userdata.isEmpty {
            _ = layout.userdata.withUnsafeBytes { nftnl_set_set_data(set, UInt16(NFTNL_SET_USERDATA.rawValue), $0.baseAddress, UInt32($0.count)) }
        }
        return set
    }

    /// Adds elements to a set object (which takes ownership of them).
    /// Elements as libnftnl objects: no longer on the apply path (`PackedElements` is), kept as the
    /// reference `ElementPackingTests` compares the packed encoding with, byte for byte.
    static func addElements(_ elements: [EncodedElement], to set: OpaquePointer, keyLength: Int, dataLength: Int?) throws(NetlinkError) {
        for element in elements {
            guard element.key.count == keyLength else {
                throw NetlinkError(.unsupported, "element key of \(element.key.count) bytes for a key of \(keyLength)")
            }
            guard let pointer = nftnl_set_elem_alloc() else { throw outOfMemory }
            _ = element.key.withUnsafeBytes { nftnl_set_elem_set(pointer, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
            if element.intervalEnd { nftnl_set_elem_set_u32(pointer, UInt16(NFTNL_SET_ELEM_FLAGS), 1 /* NFT_SET_ELEM_INTERVAL_END */) }
            if let data = element.data {
                guard data.count == dataLength, data.count <= 64 /* NFT_DATA_VALUE_MAXLEN */ else {
                    nftnl_set_elem_free(pointer)
                    throw NetlinkError(.unsupported, "element data of \(data.count) bytes")
                }
                _ = data.withUnsafeBytes { nftnl_set_elem_set(pointer, UInt16(NFTNL_SET_ELEM_DATA), $0.baseAddress, UInt32($0.count)) }
            }
            if let verdict = element.verdict {
                let (code, chain) = VerdictCode.encode(verdict)
                nftnl_set_elem_set_u32(pointer, UInt16(NFTNL_SET_ELEM_VERDICT), UInt32(bitPattern: code))
                if let chain {
                    do { try checkName(chain, "chain") } catch {
                        nftnl_set_elem_free(pointer)
                        throw error
                    }
                    _ = nftnl_set_elem_set_str(pointer, UInt16(NFTNL_SET_ELEM_CHAIN), chain)
                }
            }
            if let udata = UserData.comment(element.comment) {
                _ = udata.withUnsafeBytes { nftnl_set_elem_set(pointer, UInt16(NFTNL_SET_ELEM_USERDATA), $0.baseAddress, UInt32($0.count)) }
            }
            nftnl_set_elem_add(set, pointer)
        }
    }

    static func rule(family: UInt32, table: String, chain: String, comment: String?, expressions: [KernelExpression],
                     resolve: NftnlExpressions.SetResolver) throws(NetlinkError) -> OpaquePointer {
        guard let rule = nftnl_rule_alloc() else { throw outOfMemory }
        nftnl_rule_set_u32(rule, UInt16(NFTNL_RULE_FAMILY.rawValue), family)
        _ = nftnl_rule_set_str(rule, UInt16(NFTNL_RULE_TABLE.rawValue), table)
        _ = nftnl_rule_set_str(rule, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
        if let udata = UserData.comment(comment.map(NFTQuoting.comment)) {
            _ = udata.withUnsafeBytes { nftnl_rule_set_data(rule, UInt16(NFTNL_RULE_USERDATA.rawValue), $0.baseAddress, UInt32($0.count)) }
        }
        for expression in expressions {
            do {
                nftnl_rule_add_expr(rule, try NftnlExpressions.make(expression, resolve: resolve))
            } catch {
                nftnl_rule_free(rule)
                throw error
            }
        }
        return rule
    }

    static let outOfMemory = NetlinkError(.system, code: 12, "out of memory building netlink objects")
}
