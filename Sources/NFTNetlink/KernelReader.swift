#if canImport(Glibc)
import Glibc
#endif
import CNftnl
import CNftnlShim
import NFTRuleset

/// Reads kubenft's table back from the kernel with netlink dumps, into the kernel-level model
/// (for comparisons) and, through `KernelRaiser`, into the IR (for printing).
struct KernelReader {
    let socket: NetlinkSocket

    /// How often a read is repeated because a dump was interrupted or the table changed meanwhile.
    static let attempts = 10

    /// The table (nil when it does not exist) and the generation it was read at. With `watch`, the
    /// read is repeated only when a commit changed this table meanwhile (commits elsewhere do not
    /// matter); without, whenever the generation moved. A dump the kernel marks interrupted is
    /// repeated on its own first. Gives up after `attempts` reads.
    func readKernel(family: String, table: String, watch: TableWatch? = nil) throws(NetlinkError) -> (table: KernelTable?, generation: UInt32) {
        guard let number = BatchEncoder.familyNumber(family) else { throw NetlinkError(.unsupported, "table family \(family)") }
        let (kernel, generation) = try consistently("table \(family) \(table)", watch: watch) { () throws(NetlinkError) -> KernelTable? in
            try readOnce(family: UInt16(number), table: table)
        }
        return (kernel, generation)
    }

    /// Whether the table exists, from a dump of the tables alone, and the generation it held at.
    func tableExists(family: String, table: String, watch: TableWatch? = nil) throws(NetlinkError) -> (exists: Bool, generation: UInt32) {
        guard let number = BatchEncoder.familyNumber(family) else { throw NetlinkError(.unsupported, "table family \(family)") }
        return try consistently("table \(family) \(table)", watch: watch) { () throws(NetlinkError) -> Bool in
            var tables: OpaquePointer?
            let rc = retryingInterrupted {
                var error: Int32 = 0
                tables = kubenft_nl_dump_tables(socket.pointer, UInt16(number), &error)
                return tables == nil ? error : 0
            }
            guard rc == 0, let tables else { throw dumpError(rc, "tables") }
            defer { nftnl_table_list_free(tables) }
            return Self.findTable(tables, table) != nil
        }
    }

    /// Runs `read` until it completes while nothing changed the table (see `readKernel`).
    func consistently<T>(_ what: String, watch: TableWatch?, _ read: () throws(NetlinkError) -> T) throws(NetlinkError) -> (T, generation: UInt32) {
        for _ in 0..<Self.attempts {
            let before: UInt32
            if let watch { before = try watch.begin(requests: socket) } else { before = try socket.generation() }
            func unchanged() throws(NetlinkError) -> UInt32? {
                if let watch { return try watch.unchangedGeneration(requests: socket) }
                return try socket.generation() == before ? before : nil
            }
            do {
                let value = try read()
                if let generation = try unchanged() {
                    watch?.confirmed = generation
                    return (value, generation)
                }
            } catch {
                // A dump that failed because the table changed under it (an object gone, an
                // interrupted dump) is read again; any other failure is reported.
                if error.code == EINTR { continue }
                guard try unchanged() == nil else { throw error }
            }
        }
        throw NetlinkError(.concurrentChange, code: EINTR,
                           "\(what) kept changing while it was read (\(Self.attempts) attempts): another process is changing it continuously; nothing was changed")
    }

    private func dumpError(_ code: Int32, _ what: String) -> NetlinkError {
        NetlinkError.system(code, "reading \(what)")
    }

    /// Runs one dump again while the kernel marks it interrupted (a commit somewhere during it).
    private func retryingInterrupted(_ dump: () -> Int32) -> Int32 {
        var rc: Int32 = 0
        for _ in 0..<Self.attempts {
            rc = dump()
            if rc != EINTR { return rc }
        }
        return rc
    }

    private func readOnce(family: UInt16, table: String) throws(NetlinkError) -> KernelTable? {
        var tables: OpaquePointer?
        let rc = retryingInterrupted {
            var error: Int32 = 0
            tables = kubenft_nl_dump_tables(socket.pointer, family, &error)
            return tables == nil ? error : 0
        }
        guard rc == 0, let tables else { throw dumpError(rc, "tables") }
        defer { nftnl_table_list_free(tables) }
        guard let tableObject = Self.findTable(tables, table) else { return nil }
        let comment = Self.userdata(tableObject, get: nftnl_table_get_data, attribute: UInt16(NFTNL_TABLE_USERDATA.rawValue))
            .flatMap { UserData.string(0, in: $0) }
        let allSets = try readSets(family: family, table: table)
        let chains = try readChains(family: family, table: table, anonymous: allSets.anonymous)
        var result = KernelTable(comment: comment, sets: allSets.named, chains: chains)
        func u32(_ attribute: nftnl_table_attr) -> UInt32? {
            nftnl_table_is_set(tableObject, UInt16(attribute.rawValue)) ? nftnl_table_get_u32(tableObject, UInt16(attribute.rawValue)) : nil
        }
        result.flags = u32(NFTNL_TABLE_FLAGS) ?? 0
        result.owner = result.flags & KernelTable.ownerFlag != 0 ? u32(NFTNL_TABLE_OWNER) : nil
        result.foreignObjects = try readNamed(family: family, table: table).filter { $0.kind != "counter" }
        result.counters = try readCounters(family: family, table: table)?.map { KernelCounter(name: $0.name, comment: $0.comment) } ?? []
        return result
    }

    /// The table's stateful objects and flowtables: kubenft creates neither.
    private func readNamed(family: UInt16, table: String) throws(NetlinkError) -> [KernelObject] {
        var objects: [KernelObject] = []
        for (type, what) in [(NFT_MSG_GETOBJ, "stateful objects"), (NFT_MSG_GETFLOWTABLE, "flowtables")] {
            var items: UnsafeMutablePointer<kubenft_nl_named>?
            var count: UInt32 = 0
            let rc = retryingInterrupted {
                free(items)
                items = nil
                return table.withCString { kubenft_nl_dump_named(socket.pointer, UInt16(type.rawValue), family, $0, &items, &count) }
            }
            defer { free(items) }
            guard rc == 0 else { throw dumpError(rc, "\(what) of \(table)") }
            for index in 0..<Int(count) {
                guard var item = items?[index] else { continue }
                let name = withUnsafeBytes(of: &item.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                let kind = type == NFT_MSG_GETOBJ ? KernelObject.kind(ofObjectType: item.type) : "flowtable"
                objects.append(KernelObject(kind: kind, name: name))
            }
        }
        return objects.sorted()
    }

    private static func findTable(_ list: OpaquePointer, _ name: String) -> OpaquePointer? {
        guard let iterator = nftnl_table_list_iter_create(list) else { return nil }
        defer { nftnl_table_list_iter_destroy(iterator) }
        while let table = nftnl_table_list_iter_next(iterator) {
            if let found = nftnl_table_get_str(table, UInt16(NFTNL_TABLE_NAME.rawValue)), String(cString: found) == name { return table }
        }
        return nil
    }

    static func userdata(_ object: OpaquePointer, get: (OpaquePointer?, UInt16, UnsafeMutablePointer<UInt32>?) -> UnsafeRawPointer?,
                         attribute: UInt16) -> [UInt8]? {
        var length: UInt32 = 0
        guard let pointer = get(object, attribute, &length), length > 0 else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
    }

    private func readSets(family: UInt16, table: String) throws(NetlinkError) -> (named: [KernelSet], anonymous: [String: AnonymousContents]) {
        var named: [KernelSet] = []
        var anonymous: [String: AnonymousContents] = [:]
        try forEachSet(family: family, table: table) { (set, name) throws(NetlinkError) in
            let contents = try readContents(set, name: name, family: family)
            if contents.layout.flags & SetLayout.flagAnonymous != 0 {
                anonymous[name] = contents
            } else {
                named.append(KernelSet(name: name, layout: contents.layout, elements: contents.elements, extra: Self.setExtra(set)))
            }
        }
        return (named, anonymous)
    }

    /// One named set with its elements, or nil when the table has no such set; dumps the table's
    /// set declarations and the elements of this set only.
    func readSet(family: String, table: String, name wanted: String, watch: TableWatch? = nil) throws(NetlinkError) -> KernelSet? {
        guard let number = BatchEncoder.familyNumber(family) else { throw NetlinkError(.unsupported, "table family \(family)") }
        return try consistently("set \(wanted)", watch: watch) { () throws(NetlinkError) -> KernelSet? in
            var found: KernelSet?
            try forEachSet(family: UInt16(number), table: table) { (set, name) throws(NetlinkError) in
                guard found == nil, name == wanted else { return }
                let contents = try readContents(set, name: name, family: UInt16(number))
                found = KernelSet(name: name, layout: contents.layout, elements: contents.elements, extra: Self.setExtra(set))
            }
            return found
        }.0
    }

    private func forEachSet(family: UInt16, table: String,
                            _ body: (OpaquePointer, String) throws(NetlinkError) -> Void) throws(NetlinkError) {
        var list: OpaquePointer?
        let rc = retryingInterrupted {
            var error: Int32 = 0
            list = table.withCString { kubenft_nl_dump_sets(socket.pointer, family, $0, &error) }
            return list == nil ? error : 0
        }
        guard rc == 0, let list else { throw dumpError(rc, "sets of \(table)") }
        defer { nftnl_set_list_free(list) }
        guard let iterator = nftnl_set_list_iter_create(list) else { throw NftnlObjects.outOfMemory }
        defer { nftnl_set_list_iter_destroy(iterator) }
        while let set = nftnl_set_list_iter_next(iterator) {
            try body(set, String(cString: nftnl_set_get_str(set, UInt16(NFTNL_SET_NAME.rawValue))))
        }
    }

    /// Dumps the elements of `set` into it and decodes its declaration and elements.
    private func readContents(_ set: OpaquePointer, name: String, family: UInt16) throws(NetlinkError) -> AnonymousContents {
        // A repeated dump adds the same elements again; they are collected into a Set.
        let rc = retryingInterrupted { kubenft_nl_dump_elements(socket.pointer, family, set) }
        guard rc == 0 else { throw dumpError(rc, "elements of \(name)") }
        guard let layout = Self.layout(set) else { throw NetlinkError(.system, "set \(name) has key types kubenft does not use") }
        return AnonymousContents(layout: layout, elements: Set(Self.elements(set)))
    }

    private static func layout(_ set: OpaquePointer) -> SetLayout? {
        func attribute(_ value: nftnl_set_attr) -> UInt16 { UInt16(value.rawValue) }
        func u32(_ value: nftnl_set_attr) -> UInt32? {
            nftnl_set_is_set(set, attribute(value)) ? nftnl_set_get_u32(set, attribute(value)) : nil
        }
        let timeout = nftnl_set_is_set(set, attribute(NFTNL_SET_TIMEOUT)) ? nftnl_set_get_u64(set, attribute(NFTNL_SET_TIMEOUT)) : nil
        var length: UInt32 = 0
        let userdata = nftnl_set_get_data(set, attribute(NFTNL_SET_USERDATA), &length)
            .map { Array(UnsafeRawBufferPointer(start: $0, count: Int(length))) } ?? []
        return SetLayout(keyType: u32(NFTNL_SET_KEY_TYPE) ?? 0, flags: u32(NFTNL_SET_FLAGS) ?? 0, dataType: u32(NFTNL_SET_DATA_TYPE),
                         dataLength: u32(NFTNL_SET_DATA_LEN), timeoutMilliseconds: timeout.flatMap { $0 == 0 ? nil : $0 },
                         size: u32(NFTNL_SET_DESC_SIZE), userdata: userdata)
    }

    private static func elements(_ set: OpaquePointer) -> [EncodedElement] {
        guard let iterator = nftnl_set_elems_iter_create(set) else { return [] }
        defer { nftnl_set_elems_iter_destroy(iterator) }
        var result: [EncodedElement] = []
        while let element = nftnl_set_elems_iter_next(iterator) {
            func data(_ attribute: Int) -> [UInt8]? {
                guard nftnl_set_elem_is_set(element, UInt16(attribute)) else { return nil }
                var length: UInt32 = 0
                guard let pointer = nftnl_set_elem_get(element, UInt16(attribute), &length) else { return nil }
                return Array(UnsafeRawBufferPointer(start: pointer, count: Int(length)))
            }
            var encoded = EncodedElement(key: data(NFTNL_SET_ELEM_KEY) ?? [])
            if nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_FLAGS)) {
                encoded.intervalEnd = nftnl_set_elem_get_u32(element, UInt16(NFTNL_SET_ELEM_FLAGS)) & 1 != 0
            }
            encoded.data = data(NFTNL_SET_ELEM_DATA)
            if nftnl_set_elem_is_set(element, UInt16(NFTNL_SET_ELEM_VERDICT)) {
                let chain = nftnl_set_elem_get_str(element, UInt16(NFTNL_SET_ELEM_CHAIN)).map { String(cString: $0) }
                encoded.verdict = VerdictCode.decode(Int32(bitPattern: nftnl_set_elem_get_u32(element, UInt16(NFTNL_SET_ELEM_VERDICT))), chain: chain)
            }
            encoded.comment = data(NFTNL_SET_ELEM_USERDATA).flatMap { UserData.string(0, in: $0) }
            result.append(encoded)
        }
        return result
    }

    private func readChains(family: UInt16, table: String, anonymous: [String: AnonymousContents]) throws(NetlinkError) -> [KernelChain] {
        var list: OpaquePointer?
        let rc = retryingInterrupted {
            var error: Int32 = 0
            list = table.withCString { kubenft_nl_dump_chains(socket.pointer, family, $0, &error) }
            return list == nil ? error : 0
        }
        guard rc == 0, let chainList = list else { throw dumpError(rc, "chains of \(table)") }
        defer { nftnl_chain_list_free(chainList) }
        var chains: [KernelChain] = []
        guard let iterator = nftnl_chain_list_iter_create(chainList) else { throw NftnlObjects.outOfMemory }
        defer { nftnl_chain_list_iter_destroy(iterator) }
        while let chain = nftnl_chain_list_iter_next(iterator) {
            guard let namePointer = nftnl_chain_get_str(chain, UInt16(NFTNL_CHAIN_NAME.rawValue)) else { continue }
            let name = String(cString: namePointer)
            let comment = Self.userdata(chain, get: nftnl_chain_get_data, attribute: UInt16(NFTNL_CHAIN_USERDATA.rawValue))
                .flatMap { UserData.string(0, in: $0) }
            let rules = try readRules(family: family, table: table, chain: namePointer, anonymous: anonymous)
            chains.append(KernelChain(name: name, hook: Self.hook(chain), comment: comment, rules: rules, extra: Self.chainExtra(chain)))
        }
        return chains
    }

    /// The rules of one chain, from a dump of that chain only (a dump of the whole table costs the
    /// kernel time quadratic in the number of rules).
    private func readRules(family: UInt16, table: String, chain: UnsafePointer<CChar>,
                           anonymous: [String: AnonymousContents]) throws(NetlinkError) -> [KernelRule] {
        var list: OpaquePointer?
        defer { if let list { nftnl_rule_list_free(list) } }
        let rc = retryingInterrupted {
            if let list { nftnl_rule_list_free(list) }
            list = nftnl_rule_list_alloc()
            guard let list else { return ENOMEM }
            return table.withCString { kubenft_nl_dump_chain_rules(socket.pointer, family, $0, chain, list) }
        }
        guard rc == 0, let ruleList = list else { throw dumpError(rc, "rules of \(String(cString: chain))") }
        var rules: [KernelRule] = []
        guard let iterator = nftnl_rule_list_iter_create(ruleList) else { throw NftnlObjects.outOfMemory }
        defer { nftnl_rule_list_iter_destroy(iterator) }
        while let rule = nftnl_rule_list_iter_next(iterator) { rules.append(Self.rule(rule, anonymous: anonymous)) }
        return rules
    }

    /// What a chain has that kubenft never sends: a hook the IR cannot express, a device, flags
    /// other than the base-chain flag (hardware offload, a chain bound to a rule).
    static func chainExtra(_ chain: OpaquePointer) -> String? {
        func isSet(_ attribute: nftnl_chain_attr) -> Bool { nftnl_chain_is_set(chain, UInt16(attribute.rawValue)) }
        var parts: [String] = []
        if isSet(NFTNL_CHAIN_HOOKNUM) && hook(chain) == nil {
            let type = nftnl_chain_get_str(chain, UInt16(NFTNL_CHAIN_TYPE.rawValue)).map { String(cString: $0) } ?? "?"
            parts.append("hook \(nftnl_chain_get_u32(chain, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue))) type \(type)")
        }
        if isSet(NFTNL_CHAIN_DEV) || isSet(NFTNL_CHAIN_DEVICES) { parts.append("devices") }
        let flags = isSet(NFTNL_CHAIN_FLAGS) ? nftnl_chain_get_u32(chain, UInt16(NFTNL_CHAIN_FLAGS.rawValue)) & ~UInt32(NFT_CHAIN_BASE.rawValue) : 0
        if flags & UInt32(NFT_CHAIN_HW_OFFLOAD.rawValue) != 0 { parts.append("flags offload") }
        if flags & UInt32(NFT_CHAIN_BINDING.rawValue) != 0 { parts.append("bound to a rule") }
        if flags & ~UInt32(NFT_CHAIN_HW_OFFLOAD.rawValue | NFT_CHAIN_BINDING.rawValue) != 0 { parts.append("flags 0x" + String(flags, radix: 16)) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    /// What a set has that kubenft never sends: stateful expressions on its elements, a memory
    /// policy, a garbage-collection interval.
    static func setExtra(_ set: OpaquePointer) -> String? {
        func isSet(_ attribute: nftnl_set_attr) -> Bool { nftnl_set_is_set(set, UInt16(attribute.rawValue)) }
        var parts: [String] = []
        if isSet(NFTNL_SET_EXPR) || isSet(NFTNL_SET_EXPRESSIONS) { parts.append("element expressions") }
        if isSet(NFTNL_SET_POLICY) && nftnl_set_get_u32(set, UInt16(NFTNL_SET_POLICY.rawValue)) != 0 { parts.append("policy memory") }
        if isSet(NFTNL_SET_GC_INTERVAL) && nftnl_set_get_u32(set, UInt16(NFTNL_SET_GC_INTERVAL.rawValue)) != 0 {
            parts.append("gc-interval \(nftnl_set_get_u32(set, UInt16(NFTNL_SET_GC_INTERVAL.rawValue))) ms")
        }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    private static func hook(_ chain: OpaquePointer) -> Chain.Hook? {
        guard nftnl_chain_is_set(chain, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)) else { return nil }
        let points: [Chain.Hook.Point] = [.prerouting, .input, .forward, .output, .postrouting]
        let number = Int(nftnl_chain_get_u32(chain, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue)))
        let typeName = nftnl_chain_get_str(chain, UInt16(NFTNL_CHAIN_TYPE.rawValue)).map { String(cString: $0) } ?? "filter"
        guard number < points.count, let type = Chain.Hook.ChainType(rawValue: typeName) else { return nil }
        let priority = Int(nftnl_chain_get_s32(chain, UInt16(NFTNL_CHAIN_PRIO.rawValue)))
        let policy: Chain.Hook.Policy = nftnl_chain_get_u32(chain, UInt16(NFTNL_CHAIN_POLICY.rawValue)) == 0 ? .drop : .accept
        return Chain.Hook(type: type, point: points[number], priority: priority, policy: policy)
    }

    private static func rule(_ rule: OpaquePointer, anonymous: [String: AnonymousContents]) -> KernelRule {
        let comment = userdata(rule, get: nftnl_rule_get_data, attribute: UInt16(NFTNL_RULE_USERDATA.rawValue))
            .flatMap { UserData.string(0, in: $0) }
        guard var expressions = ExpressionDecoder.expressions(of: rule) else {
            return KernelRule(comment: comment, expressions: [], anonymousSets: [], foreign: text(rule))
        }
        var contents: [AnonymousContents] = []
        for index in expressions.indices {
            guard case .lookup(let sreg, .named(let name), let dreg, let inverted) = expressions[index],
                  let set = anonymous[name] else { continue }
            contents.append(set)
            expressions[index] = .lookup(sreg: sreg, set: .anonymous(contents.count - 1), dreg: dreg, inverted: inverted)
        }
        return KernelRule(comment: comment, expressions: expressions, anonymousSets: contents, foreign: nil)
    }

    private static func text(_ rule: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: 8192)
        _ = nftnl_rule_snprintf(&buffer, buffer.count, rule, 0, 0)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { String($0.drop { $0 == " " }) }.joined(separator: " ")
    }
}
