import NetAddress
import NFTRuleset

/// Appends the fields of an `AppliedState` as little-endian integers and length-prefixed UTF-8.
struct StateWriter {
    var bytes: [UInt8] = []

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ text: String) {
        u32(UInt32(truncatingIfNeeded: text.utf8.count))
        bytes += text.utf8
    }

    /// Namespace, generation, table, key, then every set and chain print in order, then the counters
    /// (a count of 0xFFFFFFFF when unknown), then the stored elements of every set that is not an
    /// interval set.
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
        if let counters = print.counters {
            u32(UInt32(truncatingIfNeeded: counters.count))
            for counter in counters {
                string(counter.name)
                bytes.append(counter.comment == nil ? 0 : 1)
                string(counter.comment ?? "")
            }
        } else {
            u32(UInt32.max)
        }
        storedElements(state)
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
        defer { offset += 8 }
        return bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
    }

    mutating func u32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        defer { offset += 4 }
        return bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
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
        guard let counterCount = u32() else { return nil }
        if counterCount != UInt32.max {
            var read: [CounterObject] = []
            for _ in 0..<counterCount {
                guard let name = string(), let hasComment = byte(), let text = string() else { return nil }
                read.append(CounterObject(name: name, comment: hasComment == 0 ? nil : text))
            }
            counters = read
        }
        guard let stored = storedElements(), offset == bytes.count else { return nil }
        var print = RulesetFingerprint(key: HashKey(first: first, second: second), comment: comment, sets: sets, chains: chains)
        print.counters = counters
        return AppliedState(ruleset: nil, generation: generation, family: family, table: table,
                            namespace: hasNamespace == 0 ? nil : namespace, fingerprint: print, storedElements: stored)
    }
}

/// The elements of one set as a state file keeps them: the keyed hash of every element, in
/// order, and every element written compactly, decoded only when it has to be deleted. With
/// them a state loaded from the file finds a changed set's element delta by comparing hashes,
/// without dumping the set from the kernel (map elements are deleted by key, so the removed
/// ones must be known in full).
struct StoredElements: Sendable {
    /// One hash per element, as `RulesetFingerprint.elementHashes` computes them.
    var hashes: [UInt64]
    /// Where each element's record starts in `records`, and where the last one ends.
    var offsets: [UInt32]
    var records: [UInt8]

    /// The element at `index`, or nil when its record does not read back exactly.
    func element(at index: Int) -> SetElement? {
        guard index + 1 < offsets.count, offsets[index] <= offsets[index + 1], Int(offsets[index + 1]) <= records.count else { return nil }
        var reader = StateReader(bytes: records, offset: Int(offsets[index]))
        guard let element = reader.element(), reader.offset == Int(offsets[index + 1]) else { return nil }
        return element
    }

    /// The stored elements of the same set after a change, built from these: unchanged records are
    /// copied in runs, only the elements `delta` adds are written. Nil when the kept elements are
    /// not in their old order (then the set is written whole).
    func carried(to set: NamedSet, hashes: [UInt64], delta: ElementDelta<Int>) -> StoredElements? {
        guard set.elements.count == hashes.count, offsets.count == self.hashes.count + 1 else { return nil }
        var writer = StateWriter()
        writer.bytes.reserveCapacity(records.count + delta.added.count * 32)
        var newOffsets: [UInt32] = [0]
        newOffsets.reserveCapacity(hashes.count + 1)
        var (old, removed, added) = (0, delta.removed[...], delta.added[...])
        var run: Range<Int>?
        func flush(_ writer: inout StateWriter) {
            if let copied = run { writer.bytes += records[Int(offsets[copied.lowerBound])..<Int(offsets[copied.upperBound])] }
            run = nil
        }
        for index in hashes.indices {
            if added.first == index {
                added.removeFirst()
                flush(&writer)
                writer.element(set.elements[index])
            } else {
                while removed.first == old { removed.removeFirst(); old += 1 }
                guard old < self.hashes.count, self.hashes[old] == hashes[index] else { return nil }
                if let current = run, current.upperBound == old { run = current.lowerBound..<old + 1 } else { flush(&writer); run = old..<old + 1 }
                old += 1
                // The record's end: where the run has copied to, plus the kept records since.
                newOffsets.append(UInt32(truncatingIfNeeded: writer.bytes.count) + offsets[old] - offsets[run!.lowerBound])
                continue
            }
            newOffsets.append(UInt32(truncatingIfNeeded: writer.bytes.count))
        }
        flush(&writer)
        guard added.isEmpty, UInt32(truncatingIfNeeded: writer.bytes.count) == newOffsets.last else { return nil }
        return StoredElements(hashes: hashes, offsets: newOffsets, records: writer.bytes)
    }
}

extension StateWriter {
    /// The elements of every set that is not an interval set (those are refilled whole), each
    /// with its hashes, where its records start, and the records.
    mutating func storedElements(_ state: AppliedState) {
        guard let ruleset = state.ruleset else {
            let stored = state.storedElements.sorted { $0.key < $1.key }
            u32(UInt32(truncatingIfNeeded: stored.count))
            for (name, elements) in stored { self.stored(name: name, elements) }
            return
        }
        let prints = state.fingerprint.sets
        let aligned = prints.count == ruleset.sets.count && zip(prints, ruleset.sets).allSatisfy { $0.name == $1.name }
        let kept = ruleset.sets.indices.filter { !ruleset.sets[$0].flags.contains(.interval) }
        u32(UInt32(truncatingIfNeeded: kept.count))
        for index in kept {
            let set = ruleset.sets[index]
            var hashes = aligned ? prints[index].elementHashes : []
            if hashes.count != set.elements.count { hashes = RulesetFingerprint.elementHashes(set, key: state.fingerprint.key) }
            // A state applied from a loaded one: its sets' records are taken over, not rewritten.
            if let before = state.carried[set.name] {
                if before.hashes == hashes {
                    stored(name: set.name, before)
                    continue
                }
                if let after = before.carried(to: set, hashes: hashes, delta: ElementDelta<Int>.positions(old: before.hashes, new: hashes)) {
                    stored(name: set.name, after)
                    continue
                }
            }
            var records = StateWriter()
            records.bytes.reserveCapacity(set.elements.count * 24)
            var offsets: [UInt32] = [0]
            offsets.reserveCapacity(set.elements.count + 1)
            for element in set.elements {
                records.element(element)
                offsets.append(UInt32(truncatingIfNeeded: records.bytes.count))
            }
            stored(name: set.name, StoredElements(hashes: hashes, offsets: offsets, records: records.bytes))
        }
    }

    private mutating func stored(name: String, _ elements: StoredElements) {
        string(name)
        u32(UInt32(truncatingIfNeeded: elements.hashes.count))
        bytes.reserveCapacity(bytes.count + elements.hashes.count * 12 + elements.records.count + 8)
        if UInt64(1).littleEndian == 1 {
            elements.hashes.withUnsafeBytes { bytes.append(contentsOf: $0) }
            elements.offsets.withUnsafeBytes { bytes.append(contentsOf: $0) }
        } else {
            for hash in elements.hashes { u64(hash) }
            for offset in elements.offsets { u32(offset) }
        }
        bytes += elements.records
    }
}

extension StateReader {
    /// What `storedElements` wrote, by set name; nil when anything does not add up.
    mutating func storedElements() -> [String: StoredElements]? {
        guard let setCount = u32() else { return nil }
        var result: [String: StoredElements] = [:]
        for _ in 0..<setCount {
            guard let name = string(), let count = u32().map(Int.init), count <= (bytes.count - offset) / 12 else { return nil }
            var hashes: [UInt64] = []
            hashes.reserveCapacity(count)
            for _ in 0..<count {
                guard let hash = u64() else { return nil }
                hashes.append(hash)
            }
            var offsets: [UInt32] = []
            offsets.reserveCapacity(count + 1)
            for _ in 0...count {
                guard let next = u32(), next >= (offsets.last ?? 0) else { return nil }
                offsets.append(next)
            }
            guard offsets.first == 0, let length = offsets.last.map(Int.init), length <= bytes.count - offset else { return nil }
            result[name] = StoredElements(hashes: hashes, offsets: offsets, records: Array(bytes[offset..<offset + length]))
            offset += length
        }
        return result
    }
}

/// Set elements written compactly: a tag per value, addresses as their bytes.
extension StateWriter {
    mutating func element(_ element: SetElement) {
        values(element.key)
        switch element.data {
        case nil: bytes.append(0)
        case .values(let values)?: bytes.append(1); self.values(values)
        case .verdict(let verdict)?: bytes.append(2); self.verdict(verdict)
        }
        optionalString(element.comment)
    }

    mutating func optionalString(_ text: String?) {
        bytes.append(text == nil ? 0 : 1)
        if let text { string(text) }
    }

    mutating func values(_ values: [Value]) {
        bytes.append(UInt8(truncatingIfNeeded: values.count))
        for value in values { self.value(value) }
    }

    /// Length, then the address in network order (written from its number: no array per address).
    mutating func address(_ address: IPAddress) {
        let length = address.family == .v4 ? 4 : 16
        let number = address.numericValue
        bytes.append(UInt8(length))
        for index in stride(from: length - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: number >> (8 * index))) }
    }

    mutating func value(_ value: Value) {
        switch value {
        case .address(let address): bytes.append(1); self.address(address)
        case .prefix(let cidr): bytes.append(2); address(cidr.address); bytes.append(UInt8(cidr.prefixLength))
        case .addressRange(let low, let high): bytes.append(3); address(low); address(high)
        case .integer(let number): bytes.append(4); u64(number)
        case .port(let port): bytes.append(5); u32(UInt32(port))
        case .portRange(let low, let high): bytes.append(6); u32(UInt32(low) << 16 | UInt32(high))
        case .hex(let number): bytes.append(7); u32(number)
        case .proto(let name): bytes.append(8); string(name)
        case .symbol(let name): bytes.append(9); string(name)
        }
    }

    mutating func verdict(_ verdict: Verdict) {
        switch verdict {
        case .accept: bytes.append(1)
        case .drop: bytes.append(2)
        case .continue: bytes.append(3)
        case .return: bytes.append(4)
        case .jump(let chain): bytes.append(5); string(chain)
        case .goto(let chain): bytes.append(6); string(chain)
        }
    }
}

extension StateReader {
    mutating func element() -> SetElement? {
        guard let key = values(), let kind = byte() else { return nil }
        var data: SetElement.Data?
        switch kind {
        case 0: data = nil
        case 1: guard let values = values() else { return nil }; data = .values(values)
        case 2: guard let verdict = verdict() else { return nil }; data = .verdict(verdict)
        default: return nil
        }
        guard let hasComment = byte(), hasComment <= 1 else { return nil }
        var comment: String?
        if hasComment == 1 { guard let text = string() else { return nil }; comment = text }
        return SetElement(key: key, data: data, comment: comment)
    }

    mutating func values() -> [Value]? {
        guard let count = byte() else { return nil }
        var result: [Value] = []
        for _ in 0..<count {
            guard let value = value() else { return nil }
            result.append(value)
        }
        return result
    }

    mutating func address() -> IPAddress? {
        guard let length = byte().map(Int.init), length == 4 || length == 16, offset + length <= bytes.count else { return nil }
        defer { offset += length }
        return IPAddress(bytes: Array(bytes[offset..<offset + length]))
    }

    mutating func value() -> Value? {
        switch byte() {
        case 1: return address().map { .address($0) }
        case 2:
            guard let address = address(), let length = byte(), let cidr = CIDR(address: address, prefixLength: Int(length)) else { return nil }
            return .prefix(cidr)
        case 3:
            guard let low = address(), let high = address() else { return nil }
            return .addressRange(low, high)
        case 4: return u64().map { .integer($0) }
        case 5: return u32().flatMap { $0 <= 0xFFFF ? .port(UInt16($0)) : nil }
        case 6: return u32().map { .portRange(UInt16($0 >> 16), UInt16(truncatingIfNeeded: $0)) }
        case 7: return u32().map { .hex($0) }
        case 8: return string().map { .proto($0) }
        case 9: return string().map { .symbol($0) }
        default: return nil
        }
    }

    mutating func verdict() -> Verdict? {
        switch byte() {
        case 1: return .accept
        case 2: return .drop
        case 3: return .continue
        case 4: return .return
        case 5: return string().map { .jump($0) }
        case 6: return string().map { .goto($0) }
        default: return nil
        }
    }
}
