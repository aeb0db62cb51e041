import NFTRuleset

/// Appends the fields of an `AppliedState` as little-endian integers and length-prefixed UTF-8.
struct StateWriter {
    var bytes: [UInt8] = []

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func string(_ text: String) {
        u32(UInt32(truncatingIfNeeded: text.utf8.count))
        bytes += text.utf8
    }

    /// Namespace, generation, table, key, then every set and chain print in order, then the counters
    /// (a state written before counters existed ends after the chains: its counters are unknown).
    mutating func state(_ state: AppliedState) {
        bytes.append(state.namespace == nil ? 0 : 1)
        u64(state.namespace ?? 0)
        u32(state.generation)
        string(state.family)
        string(state.table)
        let print = state.fingerprint
        u64(print.key.first)
        u64(print.key.second)
        u64(print.comment)
        u32(UInt32(truncatingIfNeeded: print.sets.count))
        for set in print.sets {
            string(set.name)
            u64(set.declaration)
            u64(set.elements)
            bytes.append(set.interval ? 1 : 0)
        }
        u32(UInt32(truncatingIfNeeded: print.chains.count))
        for chain in print.chains {
            string(chain.name)
            u64(chain.header)
            u64(chain.rules)
            u32(UInt32(truncatingIfNeeded: chain.ruleCount))
        }
        guard let counters = print.counters else { return }
        u32(UInt32(truncatingIfNeeded: counters.count))
        for counter in counters {
            string(counter.name)
            bytes.append(counter.comment == nil ? 0 : 1)
            string(counter.comment ?? "")
        }
    }
}

/// Reads what `StateWriter` wrote; every read returns nil past the end, and so does `state()`.
struct StateReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func byte() -> UInt8? {
        guard offset < bytes.count else { return nil }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func u64() -> UInt64? {
        guard offset + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
        offset += 8
        return value
    }

    mutating func u32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << UInt32(8 * index) }
        offset += 4
        return value
    }

    mutating func string() -> String? {
        guard let length = u32().map(Int.init), length <= bytes.count - offset else { return nil }
        defer { offset += length }
        return String(decoding: bytes[offset..<offset + length], as: UTF8.self)
    }

    /// The state, or nil when anything is missing or left over.
    mutating func state() -> AppliedState? {
        guard let hasNamespace = byte(), let namespace = u64(), let generation = u32(), let family = string(), let table = string(),
              let first = u64(), let second = u64(), let comment = u64(), let setCount = u32() else { return nil }
        var sets: [RulesetFingerprint.SetPrint] = []
        for _ in 0..<setCount {
            guard let name = string(), let declaration = u64(), let elements = u64(), let interval = byte() else { return nil }
            sets.append(.init(name: name, declaration: declaration, elements: elements, interval: interval != 0))
        }
        guard let chainCount = u32() else { return nil }
        var chains: [RulesetFingerprint.ChainPrint] = []
        chains.reserveCapacity(Int(min(chainCount, 1 << 20)))
        for _ in 0..<chainCount {
            guard let name = string(), let header = u64(), let rules = u64(), let count = u32() else { return nil }
            chains.append(.init(name: name, header: header, rules: rules, ruleCount: Int(count)))
        }
        var counters: [CounterObject]?
        if offset < bytes.count {
            guard let count = u32() else { return nil }
            var read: [CounterObject] = []
            for _ in 0..<count {
                guard let name = string(), let hasComment = byte(), let text = string() else { return nil }
                read.append(CounterObject(name: name, comment: hasComment == 0 ? nil : text))
            }
            counters = read
        }
        guard offset == bytes.count else { return nil }
        var print = RulesetFingerprint(key: HashKey(first: first, second: second), comment: comment, sets: sets, chains: chains)
        print.counters = counters
        return AppliedState(ruleset: nil, generation: generation, family: family, table: table,
                            namespace: hasNamespace == 0 ? nil : namespace, fingerprint: print)
    }
}
