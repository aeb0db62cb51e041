import NetAddress
import NFTRuleset

extension Tracer {
    /// Reads an expression from the packet and its context.
    func value(_ expression: Expression, state: TraceState) throws -> RuntimeValue {
        let packet = state.packet
        switch expression {
        case .payload(let field):
            switch field {
            case .ipSaddr: return packet.family == .v4 ? .address(packet.source) : .absent
            case .ipDaddr: return packet.family == .v4 ? .address(packet.destination) : .absent
            case .ip6Saddr: return packet.family == .v6 ? .address(packet.source) : .absent
            case .ip6Daddr: return packet.family == .v6 ? .address(packet.destination) : .absent
            case .thSport: return .integer(UInt64(packet.sourcePort))
            case .thDport: return .integer(UInt64(packet.destinationPort))
            }
        case .meta(let key):
            switch key {
            case .l4proto: return .proto(packet.transport)
            case .nfproto: return .symbol(packet.family == .v4 ? "ipv4" : "ipv6")
            case .mark: return .integer(UInt64(packet.mark))
            case .iifname: return .symbol(packet.inputInterface)
            case .oifname: throw TraceError(description: "output interface names are not traced")
            }
        case .conntrack(let key):
            switch key {
            case .state: return .symbol("new")
            case .status: return .symbol(state.translated ? "dnat" : "none")
            case .mark: return .integer(0)
            }
        case .conntrackOriginalDestination(let family):
            return family == packet.family ? .address(state.originalDestination) : .absent
        case .fibAddressType(let destination):
            return .symbol(environment.isLocal(destination ? packet.destination : packet.source) ? "local" : "unicast")
        case .concat(let parts):
            let values = try parts.map { try value($0, state: state) }
            return values.contains(.absent) ? .absent : .concat(values)
        case .bitwiseAnd(let inner, let mask):
            guard case .integer(let number) = try value(inner, state: state), case .integer(let bits)? = RuntimeValue(exact: mask) else {
                throw TraceError(description: "unsupported bitwise expression")
            }
            return .integer(number & bits)
        case .bitwiseOr(let inner, let bits):
            guard case .integer(let number) = try value(inner, state: state), case .integer(let other)? = RuntimeValue(exact: bits) else {
                throw TraceError(description: "unsupported bitwise expression")
            }
            return .integer(number | other)
        case .value(let constant):
            guard let exact = RuntimeValue(exact: constant) else { throw TraceError(description: "a range cannot be read as a value") }
            return exact
        case .randomNumber: throw TraceError(description: "numgen is only traced in `numgen … < N` comparisons")
        case .anonymousSet, .setReference, .mapLookup:
            throw TraceError(description: "a set cannot be read as a value")
        }
    }

    /// Evaluates `left op right`.
    func matches(_ left: Expression, _ comparison: Statement.Comparison, _ right: Expression, state: TraceState) throws -> Bool {
        let actual = try value(left, state: state)
        if case .absent = actual { return false }
        let member: Bool
        switch right {
        case .value(let constant):
            if comparison == .lessThan {
                guard case .integer(let number) = actual, case .integer(let bound)? = RuntimeValue(exact: constant) else {
                    throw TraceError(description: "unsupported < comparison")
                }
                return number < bound
            }
            member = actual.matches(constant)
        case .anonymousSet(let values): member = values.contains { actual.matches($0) }
        case .setReference(let name):
            guard let index = sets[name] else { throw TraceError(description: "set \(name) does not exist") }
            member = index.lookup(actual) != nil
        default: throw TraceError(description: "unsupported right-hand side in a match")
        }
        switch comparison {
        case .equal: return member
        case .notEqual: return !member
        case .lessThan: throw TraceError(description: "unsupported < comparison")
        }
    }
}
