import NetAddress

/// A constant: an address, prefix, range, number or symbolic constant nft understands.
/// Prefixes and ranges are boxed: they are rare, and stored inline they made every value (and
/// every set element's key and data) twice as large, 48 bytes instead of 24.
public enum Value: Sendable, Hashable, Comparable {
    case address(IPAddress)
    indirect case prefix(CIDR)
    indirect case addressRange(IPAddress, IPAddress)
    case integer(UInt64)
    /// A transport port, printed in decimal.
    case port(UInt16)
    case portRange(UInt16, UInt16)
    /// A 32-bit value printed in hex (marks, masks).
    case hex(UInt32)
    /// `tcp`, `udp`, `sctp` as inet_proto / l4proto values.
    case proto(String)
    /// Symbolic constants such as `local`, `established`, `ipv4`, `dnat`.
    case symbol(String)

    public static func < (lhs: Value, rhs: Value) -> Bool { lhs.sortKey.lexicographicallyPrecedes(rhs.sortKey) }

    /// Bytes whose lexicographic order is the value order; compute once when sorting many values.
    public var sortKey: [UInt8] {
        var bytes: [UInt8] = []
        appendSortKey(to: &bytes)
        return bytes
    }

    /// Appends the bytes of `sortKey`: a tag per kind, addresses with their length in network
    /// order, numbers as eight big-endian bytes. Lets a caller put many keys in one buffer.
    public func appendSortKey(to bytes: inout [UInt8]) {
        switch self {
        case .address(let address):
            Self.appendAddress(address, to: &bytes)
        case .prefix(let cidr):
            Self.appendAddress(cidr.address, to: &bytes)
            bytes.append(UInt8(truncatingIfNeeded: cidr.prefixLength))
        case .addressRange(let low, _):
            Self.appendAddress(low, to: &bytes)
            bytes.append(255)
        case .integer(let number): Self.appendNumber(number, to: &bytes)
        case .port(let port): Self.appendNumber(UInt64(port), to: &bytes)
        case .portRange(let low, _):
            Self.appendNumber(UInt64(low), to: &bytes)
            bytes.append(1)
        case .hex(let number): Self.appendNumber(UInt64(number), to: &bytes)
        case .proto(let name):
            bytes.append(2)
            bytes.append(contentsOf: name.utf8)
        case .symbol(let name):
            bytes.append(3)
            bytes.append(contentsOf: name.utf8)
        }
    }

    /// `0`, the address length, then the address in network order.
    private static func appendAddress(_ address: IPAddress, to bytes: inout [UInt8]) {
        let width = address.bitWidth / 8
        bytes.append(0)
        bytes.append(UInt8(width))
        let number = address.numericValue
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: number >> shift))
        }
    }

    /// `1`, then the number as eight bytes, big-endian.
    private static func appendNumber(_ number: UInt64, to bytes: inout [UInt8]) {
        bytes.append(1)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: number >> shift))
        }
    }
}

/// Packet header fields kubenft reads.
public enum PayloadField: String, Sendable, Hashable {
    case ipSaddr = "ip saddr"
    case ipDaddr = "ip daddr"
    case ip6Saddr = "ip6 saddr"
    case ip6Daddr = "ip6 daddr"
    /// Transport header (TCP, UDP, SCTP share the port offsets).
    case thSport = "th sport"
    case thDport = "th dport"

    var jsonParts: (String, String) {
        let parts = rawValue.split(separator: " ")
        return (String(parts[0]), String(parts[1]))
    }
}

/// `meta` keys.
public enum MetaKey: String, Sendable, Hashable {
    case l4proto, nfproto, mark, iifname, oifname
}

/// Conntrack keys.
public enum ConntrackKey: String, Sendable, Hashable {
    case state, status, mark
}

/// An expression that yields a value for a match, a map lookup or a statement.
public indirect enum Expression: Sendable, Hashable {
    case payload(PayloadField)
    case meta(MetaKey)
    case conntrack(ConntrackKey)
    /// `ct original ip daddr` / `ct original ip6 daddr`: the destination before DNAT.
    case conntrackOriginalDestination(IPFamily)
    /// `fib daddr type` (true) or `fib saddr type` (false).
    case fibAddressType(destination: Bool)
    /// `numgen random mod N offset K`.
    case randomNumber(modulus: Int, offset: Int)
    case concat([Expression])
    case value(Value)
    /// An anonymous set literal `{ a, b }`.
    case anonymousSet([Value])
    /// `@name`, a named set used for membership.
    case setReference(String)
    /// `key map @name`, a lookup in a named data map.
    case mapLookup(key: Expression, map: String)
    /// `expr & mask`.
    case bitwiseAnd(Expression, Value)
    /// `expr | bits`.
    case bitwiseOr(Expression, Value)
}

/// What ends evaluation of a chain or continues it elsewhere.
public enum Verdict: Sendable, Hashable {
    case accept, drop, `continue`, `return`
    case jump(String)
    case goto(String)
}

/// Reject kinds: ICMP(v6) port unreachable for UDP/SCTP, TCP reset for TCP (nft's default `reject`),
/// or an explicit ICMPx code.
public enum RejectKind: Sendable, Hashable {
    case `default`
    case tcpReset
    case icmpxAdminProhibited
    case icmpxPortUnreachable
}

/// A statement in a rule.
public enum Statement: Sendable, Hashable {
    public enum Comparison: String, Sendable, Hashable { case equal = "==", notEqual = "!=", lessThan = "<" }

    /// `left == right`, `left != right` (set membership when right is a set) or `left < right`.
    case match(Expression, Comparison, Expression)
    case verdict(Verdict)
    /// `key vmap @map`.
    case verdictMap(key: Expression, map: String)
    /// `dnat ip to ADDRESS:PORT` or `dnat ip to LOOKUP` where the map yields address . port.
    case dnat(IPFamily, DNATTarget)
    case masquerade
    case reject(RejectKind)
    /// `meta mark set meta mark | bits`.
    case setMarkBits(UInt32)
    /// `update @set { key }` for dynamic (timeout) sets.
    case updateSet(name: String, key: Expression)
    case counter
    /// `limit rate over R/unit burst B packets`: continues the rule only while the rate is above the limit.
    case limitOver(RateLimit)
    /// `update @set { key limit rate over R/unit burst B packets }`: the same limit kept per key in a
    /// dynamic set (per client address), continuing the rule only when that key is above it.
    case updateSetLimitOver(name: String, key: Expression, limit: RateLimit)
    /// `counter name "NAME"`: counts into a named counter object of the table.
    case namedCounter(String)
    /// `limit rate R/unit burst B packets`: continues the rule only while the rate is under the limit.
    case limitUnder(RateLimit)
    /// `log prefix "…" group N`: sends the packet to an nflog group; the rule continues.
    case log(LogTarget)
}

/// A packet rate and burst for the kernel's token bucket (`limit`). It exists so that rate
/// annotations reach the emitters, the tracer and the netlink encoder as one typed value.
public struct RateLimit: Sendable, Hashable {
    /// The period of `rate`.
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case second, minute, hour, day

        /// The period in seconds, as the kernel's `limit` expression takes it.
        public var seconds: UInt64 {
            switch self {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            case .day: 86400
            }
        }
    }

    public var rate: UInt64
    public var unit: Unit
    /// Packets allowed above the rate at once.
    public var burst: UInt32

    public init(rate: UInt64, unit: Unit, burst: UInt32) {
        self.rate = rate
        self.unit = unit
        self.burst = burst
    }

    /// `limit rate over 200/second burst 50 packets`.
    public var text: String { "limit rate over \(rate)/\(unit.rawValue) burst \(burst) packets" }

    /// `limit rate 10/second burst 5 packets`.
    public var underText: String { "limit rate \(rate)/\(unit.rawValue) burst \(burst) packets" }
}

/// Where DNAT sends a packet.
public enum DNATTarget: Sendable, Hashable {
    case endpoint(IPAddress, UInt16)
    /// A map lookup whose data is `address . port`.
    case lookup(Expression)
    /// `dnat to ADDRESS : PORT` with each part its own map lookup: the address map holds one
    /// element per service address and bucket, the port map one per service port, so that a
    /// Service's ports share their address elements.
    case lookups(address: Expression, port: Expression)
}

extension Statement {
    /// Shorthand for `left == right`.
    public static func matches(_ left: Expression, _ right: Expression) -> Statement { .match(left, .equal, right) }
    /// Shorthand for `left != right`.
    public static func differs(_ left: Expression, _ right: Expression) -> Statement { .match(left, .notEqual, right) }
}

extension Expression {
    /// True for `&` and `|` expressions, which nft compares with an explicit `==`.
    public var isBitwise: Bool {
        switch self {
        case .bitwiseAnd, .bitwiseOr: return true
        default: return false
        }
    }
}
