import NetAddress

/// One nftables table and everything in it: the unit kubenft compiles, emits, loads and compares.
/// Sets come before chains so that every object is declared before it is referenced.
public struct Ruleset: Sendable, Hashable {
    public var family: String
    public var name: String
    public var comment: String?
    /// Remarks for a reviewer that belong to no rule (services that get no DNAT, and why).
    public var notes: [String]
    /// Named counter objects (`compile --counters`), declared before the sets and chains that use them.
    public var counters: [CounterObject]
    public var sets: [NamedSet]
    public var chains: [Chain]

    public init(family: String = "inet", name: String = "kubenft", comment: String? = nil, notes: [String] = [],
                counters: [CounterObject] = [], sets: [NamedSet] = [], chains: [Chain] = []) {
        self.family = family
        self.name = name
        self.comment = comment
        self.notes = notes
        self.counters = counters
        self.sets = sets
        self.chains = chains
    }

    public func set(named name: String) -> NamedSet? { sets.first { $0.name == name } }
    public func chain(named name: String) -> Chain? { chains.first { $0.name == name } }
}

/// A chain: a base chain hooked into netfilter, or a regular chain reached by jump/goto/vmap.
public struct Chain: Sendable, Hashable {
    /// The hook registration of a base chain.
    public struct Hook: Sendable, Hashable {
        public enum ChainType: String, Sendable, Hashable { case filter, nat }
        public enum Point: String, Sendable, Hashable { case prerouting, input, forward, output, postrouting }
        public enum Policy: String, Sendable, Hashable { case accept, drop }

        public var type: ChainType
        public var point: Point
        public var priority: Int
        public var policy: Policy

        public init(type: ChainType, point: Point, priority: Int, policy: Policy = .accept) {
            self.type = type
            self.point = point
            self.priority = priority
            self.policy = policy
        }
    }

    public var name: String
    public var hook: Hook?
    public var comment: String?
    public var rules: [Rule]

    public init(name: String, hook: Hook? = nil, comment: String? = nil, rules: [Rule] = []) {
        self.name = name
        self.hook = hook
        self.comment = comment
        self.rules = rules
    }
}

/// One rule: statements evaluated left to right, and a comment naming the Kubernetes object it came from.
public struct Rule: Sendable, Hashable {
    public var statements: [Statement]
    public var comment: String?

    public init(_ statements: [Statement], comment: String? = nil) {
        self.statements = statements
        self.comment = comment
    }
}

/// A named set or map. Keys are named nft datatypes, concatenated with ` . ` when there are several.
/// A set whose key has no named type (a `numgen` field) also carries a `typeof` declaration, which
/// the nft text and netlink forms use; nft 1.0.6 cannot express those in JSON (see docs/design.md).
public struct NamedSet: Sendable, Hashable {
    /// What the elements map to.
    public enum Mapping: Sendable, Hashable {
        case none
        case verdict
        case data(DataType)
        /// Concatenated data (`ipv4_addr . inet_service`), each field padded to 4 bytes in the kernel.
        case concatenatedData([DataType])
    }

    /// `typeof KEY : DATA`: the expressions whose types the key and data fields take.
    public struct Typeof: Sendable, Hashable {
        public var key: [Expression]
        public var data: [Expression]

        public init(key: [Expression], data: [Expression]) {
            self.key = key
            self.data = data
        }
    }

    public enum Flag: String, Sendable, Hashable, Comparable {
        case constant, interval, timeout, dynamic
        public static func < (lhs: Flag, rhs: Flag) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var name: String
    public var key: [DataType]
    public var mapping: Mapping
    public var flags: [Flag]
    /// Default element timeout in seconds (dynamic affinity sets).
    public var timeout: Int?
    public var size: Int?
    public var comment: String?
    /// Declared with `typeof` rather than `type` (the key datatypes above stay authoritative).
    public var typeof: Typeof?
    public var elements: [SetElement]

    public init(name: String, key: [DataType], mapping: Mapping = .none, flags: [Flag] = [], timeout: Int? = nil,
                size: Int? = nil, comment: String? = nil, typeof: Typeof? = nil, elements: [SetElement] = []) {
        self.name = name
        self.typeof = typeof
        self.key = key
        self.mapping = mapping
        self.flags = flags
        self.timeout = timeout
        self.size = size
        self.comment = comment
        self.elements = elements
    }

    public var isMap: Bool { if case .none = mapping { return false } else { return true } }
}

/// nft's named datatypes used in `type` key declarations.
public enum DataType: String, Sendable, Hashable {
    case ipv4Address = "ipv4_addr"
    case ipv6Address = "ipv6_addr"
    case inetProto = "inet_proto"
    case inetService = "inet_service"
    case mark = "mark"
    case verdict = "verdict"
    /// A 32-bit host-order number (`numgen` in a key); only in `typeof` sets.
    case integer = "integer"
}

/// One element of a named set or map: a (possibly concatenated) key and, for maps, its value.
public struct SetElement: Sendable, Hashable {
    public enum Data: Sendable, Hashable {
        case values([Value])
        case verdict(Verdict)
    }

    /// The element's `StableHasher` hash under `digestKey`, kept up to date by every change:
    /// made while the element is built (its parts are then in cache), it lets a fingerprint under
    /// that key read one word per element instead of walking each element's arrays again.
    package private(set) var digest: UInt64
    public var key: [Value] { didSet { digest = Self.digest(key: key, data: data, comment: comment) } }
    public var data: Data? { didSet { digest = Self.digest(key: key, data: data, comment: comment) } }
    public var comment: String? { didSet { digest = Self.digest(key: key, data: data, comment: comment) } }

    public init(key: [Value], data: Data? = nil, comment: String? = nil) {
        self.key = key
        self.data = data
        self.comment = comment
        digest = Self.digest(key: key, data: data, comment: comment)
    }

    /// The key of `digest`: drawn at random once per process, so elements cannot be crafted to
    /// collide, and used as the key of every new applied state this process makes.
    package static let digestKey = HashKey.random()

    @inline(__always)
    private static func digest(key: [Value], data: Data?, comment: String?) -> UInt64 {
        var hasher = StableHasher(key: digestKey)
        hasher.combine(key: key, data: data, comment: comment)
        return hasher.finalize()
    }
}
