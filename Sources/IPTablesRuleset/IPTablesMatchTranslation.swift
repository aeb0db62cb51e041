import NFTRuleset
import NetAddress

/// Why one statement has no iptables form; the rule translator adds the chain and rule.
struct Unsupported: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// A condition's iptables form: a disjunction of conjunctions. `[]` never matches (another family,
/// an empty set); `[[]]` always does.
typealias Alternatives = [[IPTablesMatch]]

/// Translates the conditions of nft statements for one address family. A payload field of the other
/// family never matches, as in nft, where `ip saddr` carries an implicit `meta nfproto ipv4`.
struct MatchTranslator {
    let ruleset: Ruleset
    let family: IPFamily

    private enum Atom {
        case match(IPTablesMatch)
        case always
        case never
    }

    /// `left op right` as alternatives.
    func alternatives(_ left: Expression, _ comparison: Statement.Comparison, _ right: Expression) throws(Unsupported) -> Alternatives {
        if comparison == .lessThan { return try randomThreshold(left, right) }
        let negated = comparison == .notEqual
        if case .conntrack(let key) = left, key != .mark { return try conntrackSymbols(key, right, negated: negated) }
        let fields: [Expression]
        if case .concat(let parts) = left { fields = parts } else { fields = [left] }
        guard fields.allSatisfy(familyMatches) else { return [] }
        if case .setReference(let name) = right, let set = ruleset.set(named: name), set.flags.contains(.dynamic) {
            return try recentCheck(fields, set, negated: negated)
        }
        let tuples = try self.tuples(right)
        if negated {
            if tuples.isEmpty { return [[]] }
            guard fields.count == 1 else { throw Unsupported("negated match on a concatenation \(fields.count) fields wide") }
            var conjunction: [IPTablesMatch] = []
            for tuple in tuples {
                switch try atom(fields[0], tuple[0], negated: true) {
                case .match(let match): conjunction.append(match)
                case .always: continue
                case .never: return []
                }
            }
            return [conjunction]
        }
        var result: Alternatives = []
        elements: for tuple in tuples {
            guard tuple.count == fields.count else { throw Unsupported("set key of \(tuple.count) values for \(fields.count) fields") }
            var conjunction: [IPTablesMatch] = []
            for (field, value) in zip(fields, tuple) {
                switch try atom(field, value, negated: false) {
                case .match(let match): conjunction.append(match)
                case .always: continue
                case .never: continue elements
                }
            }
            result.append(conjunction)
        }
        return result
    }

    /// The keys of the elements a verdict map holds, each with its verdict and comment.
    func mapElements(_ name: String) throws(Unsupported) -> [SetElement] {
        guard let map = ruleset.set(named: name) else { throw Unsupported("no map named \(name)") }
        guard case .verdict = map.mapping else { throw Unsupported("map \(name) does not map to verdicts") }
        return map.elements
    }

    /// The timeout, in seconds, of a dynamic set (how long a per-client bucket is kept).
    func setTimeout(_ name: String) -> UInt64? {
        ruleset.sets.first { $0.name == name }?.timeout.map { UInt64($0) }
    }

    /// Whether a field can be read from a packet of this family.
    func familyMatches(_ field: Expression) -> Bool {
        switch field {
        case .payload(.ipSaddr), .payload(.ipDaddr): return family == .v4
        case .payload(.ip6Saddr), .payload(.ip6Daddr): return family == .v6
        case .conntrackOriginalDestination(let other): return family == other
        default: return true
        }
    }

    private func tuples(_ right: Expression) throws(Unsupported) -> [[Value]] {
        switch right {
        case .value(let value): return [[value]]
        case .anonymousSet(let values): return values.map { [$0] }
        case .setReference(let name):
            guard let set = ruleset.set(named: name) else { throw Unsupported("no set named \(name)") }
            guard !set.isMap else { throw Unsupported("map \(name) used as a set") }
            return set.elements.map(\.key)
        default: throw Unsupported("right-hand side \(right)")
        }
    }

    private func randomThreshold(_ left: Expression, _ right: Expression) throws(Unsupported) -> Alternatives {
        guard case .randomNumber(let modulus, let offset) = left, offset == 0, modulus > 0,
              case .value(.integer(let threshold)) = right else {
            throw Unsupported("`<` other than `numgen random mod N < T`")
        }
        if threshold == 0 { return [] }
        if threshold >= UInt64(modulus) { return [[]] }
        return [[.random(numerator: Int(threshold), denominator: modulus)]]
    }

    private func conntrackSymbols(_ key: ConntrackKey, _ right: Expression, negated: Bool) throws(Unsupported) -> Alternatives {
        let values: [Value]
        switch right {
        case .value(let value): values = [value]
        case .anonymousSet(let set): values = set
        default: throw Unsupported("ct \(key.rawValue) compared with \(right)")
        }
        let names = try values.map { value throws(Unsupported) -> String in
            guard case .symbol(let name) = value else { throw Unsupported("ct \(key.rawValue) value \(value)") }
            return name.uppercased()
        }
        if names.isEmpty { return negated ? [[]] : [] }
        switch key {
        case .state: return [[.connectionState(names, negated: negated)]]
        case .status:
            // The NAT bits of the status are the conntrack match's virtual states DNAT and SNAT
            // (xt_conntrack sets them from the same IPS_DST_NAT / IPS_SRC_NAT bits); --ctstatus has none.
            let natStates: Set<String> = ["DNAT", "SNAT"]
            if names.allSatisfy(natStates.contains) { return [[.connectionState(names, negated: negated)]] }
            if names.contains(where: natStates.contains) { throw Unsupported("ct status mixing NAT bits with other bits") }
            return [[.connectionStatus(names, negated: negated)]]
        case .mark: throw Unsupported("ct mark")
        }
    }

    private func recentCheck(_ fields: [Expression], _ set: NamedSet, negated: Bool) throws(Unsupported) -> Alternatives {
        let source: PayloadField = family == .v4 ? .ipSaddr : .ip6Saddr
        guard fields == [.payload(source)], !negated, let timeout = set.timeout else {
            throw Unsupported("dynamic set \(set.name) other than a source-address affinity lookup")
        }
        return [[.recentCheck(name: IPTablesNames.recentList(set.name), seconds: timeout)]]
    }

    private func atom(_ field: Expression, _ value: Value, negated: Bool) throws(Unsupported) -> Atom {
        switch field {
        case .payload(let payload): return try payloadAtom(payload, value, negated: negated)
        case .meta(let key): return try metaAtom(key, value, negated: negated)
        case .conntrackOriginalDestination:
            let range = try addressRange(value)
            guard let prefix = range.prefixes.first, range.prefixes.count == 1 else {
                throw Unsupported("ct original daddr range \(value) is not one prefix")
            }
            return .match(.originalDestination(prefix, negated: negated))
        case .fibAddressType(let destination):
            guard case .symbol(let type) = value else { throw Unsupported("fib address type \(value)") }
            return .match(.addressType(destination ? .destination : .source, type: type.uppercased(), negated: negated))
        case .bitwiseAnd(.meta(.mark), .hex(let mask)):
            guard case .hex(let bits) = value else { throw Unsupported("mark compared with \(value)") }
            return .match(.mark(value: bits, mask: mask, negated: negated))
        default:
            throw Unsupported("match on \(field)")
        }
    }

    private func payloadAtom(_ payload: PayloadField, _ value: Value, negated: Bool) throws(Unsupported) -> Atom {
        switch payload {
        case .ipSaddr, .ip6Saddr, .ipDaddr, .ip6Daddr:
            let range = try addressRange(value)
            guard range.family == family else { return .never }
            let direction: IPTablesMatch.Direction = (payload == .ipSaddr || payload == .ip6Saddr) ? .source : .destination
            return .match(.address(direction, range, negated: negated))
        case .thSport, .thDport:
            let direction: IPTablesMatch.Direction = payload == .thSport ? .source : .destination
            switch value {
            case .port(let port): return .match(.port(direction, low: port, high: port, negated: negated))
            case .portRange(let low, let high): return .match(.port(direction, low: low, high: high, negated: negated))
            case .integer(let number) where number <= UInt64(UInt16.max):
                return .match(.port(direction, low: UInt16(number), high: UInt16(number), negated: negated))
            default: throw Unsupported("port value \(value)")
            }
        }
    }

    private func metaAtom(_ key: MetaKey, _ value: Value, negated: Bool) throws(Unsupported) -> Atom {
        switch (key, value) {
        case (.l4proto, .proto(let name)), (.l4proto, .symbol(let name)):
            return .match(.proto(name, negated: negated))
        case (.l4proto, .integer(let number)):
            return .match(.proto(String(number), negated: negated))
        case (.nfproto, .symbol(let name)):
            let same = (name == "ipv4" && family == .v4) || (name == "ipv6" && family == .v6)
            return same != negated ? .always : .never
        case (.iifname, .symbol(let name)), (.oifname, .symbol(let name)):
            let pattern = name.hasSuffix("*") ? String(name.dropLast()) + "+" : name
            guard !pattern.isEmpty, pattern.utf8.count <= 15, !pattern.dropLast().contains("+"),
                  pattern.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0 != "\"" && $0 != "\\" && $0 != "!" }) else {
                throw Unsupported("interface name \(name)")
            }
            return .match(.interface(key == .iifname ? .source : .destination, name: pattern, negated: negated))
        case (.mark, .hex(let bits)):
            return .match(.mark(value: bits, mask: 0xffff_ffff, negated: negated))
        case (.mark, .integer(let bits)) where bits <= UInt64(UInt32.max):
            return .match(.mark(value: UInt32(bits), mask: 0xffff_ffff, negated: negated))
        default:
            throw Unsupported("meta \(key.rawValue) compared with \(value)")
        }
    }

    private func addressRange(_ value: Value) throws(Unsupported) -> AddressRange {
        switch value {
        case .address(let address): return AddressRange(address)
        case .prefix(let cidr): return AddressRange(cidr)
        case .addressRange(let low, let high) where low.family == high.family && low <= high:
            return AddressRange(family: low.family, lower: low.numericValue, upper: high.numericValue)
        default: throw Unsupported("address value \(value)")
        }
    }
}
