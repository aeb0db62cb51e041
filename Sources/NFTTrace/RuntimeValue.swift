import NetAddress
import NFTRuleset

/// A value read from the packet or its context while tracing.
indirect enum RuntimeValue: Hashable {
    case address(IPAddress)
    case integer(UInt64)
    case proto(String)
    case symbol(String)
    case concat([RuntimeValue])
    /// The expression does not apply to this packet (`ip saddr` of an IPv6 packet): nothing matches.
    case absent

    /// The exact-match form of a constant; nil for prefixes and ranges.
    init?(exact value: Value) {
        switch value {
        case .address(let address): self = .address(address)
        case .integer(let number): self = .integer(number)
        case .port(let port): self = .integer(UInt64(port))
        case .hex(let number): self = .integer(UInt64(number))
        case .proto(let name): self = .proto(name)
        case .symbol(let name): self = .symbol(name)
        case .prefix(let cidr) where cidr.prefixLength == cidr.address.bitWidth: self = .address(cidr.address)
        case .prefix, .addressRange, .portRange: return nil
        }
    }

    /// True when this runtime value is matched by the constant (equality, prefix or range membership).
    func matches(_ value: Value) -> Bool {
        switch (self, value) {
        case (.address(let address), .address(let other)): return address == other
        case (.address(let address), .prefix(let cidr)): return cidr.contains(address)
        case (.address(let address), .addressRange(let low, let high)):
            return address.family == low.family && low <= address && address <= high
        case (.integer(let number), .portRange(let low, let high)): return UInt64(low) <= number && number <= UInt64(high)
        case (.symbol(let name), .symbol(let pattern)) where pattern.hasSuffix("*"):
            // nft's interface-name wildcard.
            return name.hasPrefix(pattern.dropLast())
        case (.integer, _), (.proto, _), (.symbol, _):
            guard let exact = RuntimeValue(exact: value) else { return false }
            return exact == self
        default: return false
        }
    }

    /// True when this value, or a field of it, does not apply to the packet.
    var containsAbsent: Bool {
        switch self {
        case .absent: return true
        case .concat(let parts): return parts.contains(.absent)
        default: return false
        }
    }

    /// Matches against a (possibly concatenated) set element key.
    func matches(key: [Value]) -> Bool {
        if case .concat(let parts) = self {
            guard parts.count == key.count else { return false }
            return zip(parts, key).allSatisfy { $0.matches($1) }
        }
        return key.count == 1 && matches(key[0])
    }
}

/// Fast membership for a named set or map: a dictionary for exact keys, a scan for intervals.
struct SetIndex {
    let set: NamedSet
    private var exact: [RuntimeValue: Int] = [:]
    private var others: [Int] = []

    init(_ set: NamedSet) {
        self.set = set
        for (position, element) in set.elements.enumerated() {
            let parts = element.key.map { RuntimeValue(exact: $0) }
            if parts.allSatisfy({ $0 != nil }) {
                let key: RuntimeValue = parts.count == 1 ? parts[0]! : .concat(parts.map { $0! })
                if exact[key] == nil { exact[key] = position }
            } else {
                others.append(position)
            }
        }
    }

    /// The element a runtime value selects, if any.
    func lookup(_ value: RuntimeValue) -> SetElement? {
        if case .absent = value { return nil }
        if let position = exact[value] { return set.elements[position] }
        for position in others where value.matches(key: set.elements[position].key) { return set.elements[position] }
        return nil
    }
}
