import NetAddress


/// A keyed 64-bit hash whose value depends only on the key and the input, so it can be stored and
/// compared in a later process. Each word is mixed with a 64×64→128-bit multiplication by a
/// key-dependent odd factor; the key is random per state, so inputs cannot be crafted offline to
/// collide. Fast enough to fingerprint a whole compiled ruleset on every apply.
package struct StableHasher {
    private var state: UInt64
    private let key0: UInt64
    private let key1: UInt64

    package init(key: HashKey) {
        key0 = key.first
        key1 = key.second
        state = key.first ^ 0x243F_6A88_85A3_08D3
    }

    @inline(__always)
    package mutating func combine(_ word: UInt64) {
        let product = (state ^ word ^ key0).multipliedFullWidth(by: (word &+ key1) | 1)
        state = (product.high ^ product.low) &+ (state << 29 | state >> 35)
    }

    @inline(__always)
    package mutating func combine(_ value: Int) { combine(UInt64(bitPattern: Int64(value))) }

    /// Length first, then the UTF-8 bytes eight at a time.
    package mutating func combine(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { combine(bytes: $0) }
        if done == nil {
            var copy = text
            copy.withUTF8 { combine(bytes: $0) }
        }
    }

    private mutating func combine(bytes: UnsafeBufferPointer<UInt8>) {
        combine(UInt64(bytes.count))
        var index = 0
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= bytes.count {
                combine(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
                index += 8
            }
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        combine(tail)
    }

    @inline(__always)
    package mutating func combine(_ text: String?) {
        if let text { combine(1); combine(text) } else { combine(0) }
    }

    /// The final value, mixed once more so nearby inputs end far apart.
    package func finalize() -> UInt64 {
        var value = state ^ key1
        value = (value ^ (value >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        value = (value ^ (value >> 33)) &* 0xC4CE_B9FE_1A85_EC53
        return value ^ (value >> 33)
    }
}

/// The 128-bit key of a fingerprint: drawn at random for a new state, stored with it.
package struct HashKey: Hashable, Sendable {
    package var first: UInt64
    package var second: UInt64

    package init(first: UInt64, second: UInt64) {
        self.first = first
        self.second = second
    }

    package static func random() -> HashKey {
        var generator = SystemRandomNumberGenerator()
        return HashKey(first: generator.next(), second: generator.next())
    }
}

/// Feeds IR values to a `StableHasher`: every case gets its own tag and every list its length,
/// so different values give different word sequences. Switches are exhaustive, so a new IR case
/// does not compile until it is hashed here.
extension StableHasher {
    @inline(__always)
    package mutating func combine(_ address: IPAddress) {
        let value = address.numericValue
        if address.family == .v4 {
            combine(Self.tagged(0x01, UInt64(truncatingIfNeeded: value)))
        } else {
            combine(Self.tagged(0x02, 0))
            combine(UInt64(truncatingIfNeeded: value >> 64))
            combine(UInt64(truncatingIfNeeded: value))
        }
    }

    /// `payload` (at most 56 bits) under a one-byte tag: one word for the common small values.
    @inline(__always)
    static func tagged(_ tag: UInt64, _ payload: UInt64) -> UInt64 { tag << 56 | payload }

    /// Each value is self-delimiting (its first word's tag says how many words follow), so a list of
    /// values gives a word sequence no other list gives. Addresses, ports, small integers and
    /// protocol names of up to six bytes take one word each.
    @inline(__always)
    package mutating func combine(_ value: Value) {
        switch value {
        case .address(let address): combine(address)
        case .prefix(let cidr): combine(Self.tagged(0x10, UInt64(cidr.prefixLength))); combine(cidr.address)
        case .addressRange(let low, let high): combine(Self.tagged(0x11, 0)); combine(low); combine(high)
        case .integer(let number):
            if number < 1 << 56 {
                combine(Self.tagged(0x12, number))
            } else {
                combine(Self.tagged(0x13, 0)); combine(number)
            }
        case .port(let port): combine(Self.tagged(0x14, UInt64(port)))
        case .portRange(let low, let high): combine(Self.tagged(0x15, UInt64(low) << 16 | UInt64(high)))
        case .hex(let number): combine(Self.tagged(0x16, UInt64(number)))
        case .proto(let name): combineShort(0x17, name)
        case .symbol(let name): combineShort(0x18, name)
        }
    }

    /// A name of at most six bytes packed into its tag word (length in the second byte), longer
    /// ones length-prefixed after a marker word.
    private mutating func combineShort(_ tag: UInt64, _ name: String) {
        var word: UInt64 = 0
        var count: UInt64 = 0
        for byte in name.utf8 {
            guard count < 6 else {
                combine(Self.tagged(tag, 0xFF << 48))
                combine(name)
                return
            }
            word |= UInt64(byte) << (8 * count)
            count += 1
        }
        combine(Self.tagged(tag, count << 48 | word))
    }

    @inline(__always)
    package mutating func combine(_ values: [Value]) {
        combine(values.count)
        values.withUnsafeBufferPointer { buffer in
            for value in buffer { combine(value) }
        }
    }

    package mutating func combine(_ expression: Expression) {
        switch expression {
        case .payload(let field): combine(11); combine(field.rawValue)
        case .meta(let key): combine(12); combine(key.rawValue)
        case .conntrack(let key): combine(13); combine(key.rawValue)
        case .conntrackOriginalDestination(let family): combine(14); combine(family.rawValue)
        case .fibAddressType(let destination): combine(15); combine(destination ? 1 : 0)
        case .randomNumber(let modulus, let offset): combine(16); combine(modulus); combine(offset)
        case .concat(let parts):
            combine(17)
            combine(parts.count)
            for part in parts { combine(part) }
        case .value(let value): combine(18); combine(value)
        case .anonymousSet(let values): combine(19); combine(values)
        case .setReference(let name): combine(20); combine(name)
        case .mapLookup(let key, let map): combine(21); combine(key); combine(map)
        case .bitwiseAnd(let left, let value): combine(22); combine(left); combine(value)
        case .bitwiseOr(let left, let value): combine(23); combine(left); combine(value)
        }
    }

    @inline(__always)
    package mutating func combine(_ verdict: Verdict) {
        switch verdict {
        case .accept: combine(31)
        case .drop: combine(32)
        case .continue: combine(33)
        case .return: combine(34)
        case .jump(let chain): combine(35); combine(chain)
        case .goto(let chain): combine(36); combine(chain)
        }
    }

    package mutating func combine(_ statement: Statement) {
        switch statement {
        case .match(let left, let comparison, let right): combine(41); combine(left); combine(comparison.rawValue); combine(right)
        case .verdict(let verdict): combine(42); combine(verdict)
        case .verdictMap(let key, let map): combine(43); combine(key); combine(map)
        case .dnat(let family, let target):
            combine(44)
            combine(family.rawValue)
            switch target {
            case .endpoint(let address, let port): combine(1); combine(address); combine(UInt64(port))
            case .lookup(let key): combine(2); combine(key)
            case .lookups(let address, let port): combine(3); combine(address); combine(port)
            }
        case .masquerade: combine(45)
        case .reject(let kind):
            combine(46)
            switch kind {
            case .default: combine(1)
            case .tcpReset: combine(2)
            case .icmpxAdminProhibited: combine(3)
            case .icmpxPortUnreachable: combine(4)
            }
        case .setMarkBits(let bits): combine(47); combine(UInt64(bits))
        case .updateSet(let name, let key): combine(48); combine(name); combine(key)
        case .counter: combine(49)
        case .limitOver(let limit): combine(50); combine(limit)
        case .updateSetLimitOver(let name, let key, let limit): combine(51); combine(name); combine(key); combine(limit)
        case .namedCounter(let name): combine(52); combine(name)
        case .limitUnder(let limit): combine(53); combine(limit)
        case .log(let target): combine(54); combine(target.prefix); combine(UInt64(target.group))
        }
    }

    package mutating func combine(_ limit: RateLimit) {
        combine(limit.rate)
        combine(limit.unit.seconds)
        combine(UInt64(limit.burst))
    }

    package mutating func combine(_ rule: Rule) {
        combine(rule.statements.count)
        for statement in rule.statements { combine(statement) }
        combine(rule.comment)
    }

    @inline(__always)
    package mutating func combine(_ element: SetElement) {
        combine(key: element.key, data: element.data, comment: element.comment)
    }

    @inline(__always)
    package mutating func combine(key: [Value], data: SetElement.Data?, comment: String?) {
        combine(key)
        switch data {
        case nil: combine(0)
        case .values(let values)?: combine(1); combine(values)
        case .verdict(let verdict)?: combine(2); combine(verdict)
        }
        combine(comment)
    }
}
