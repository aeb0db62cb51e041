/// The parts of `metadata` kubenft uses, plus where the object was read from.
public struct ObjectMeta: Sendable, Hashable {
    public var name: String
    /// Empty for cluster-scoped objects (Namespace, Node).
    public var namespace: String
    public var labels: [String: String]
    public var annotations: [String: String]
    /// Location of the object's document (its first key), for diagnostics.
    public var location: SourceLocation
    /// Where the values of kubenft's own annotations (`kubenft.io/...`) are, so errors in them can
    /// point at the exact line.
    public var annotationLocations: [String: SourceLocation] = [:]

    public init(name: String, namespace: String = "", labels: [String: String] = [:],
                annotations: [String: String] = [:], location: SourceLocation) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.location = location
    }

    /// `ns/name`, or `name` for cluster-scoped objects.
    public var qualifiedName: String { namespace.isEmpty ? name : "\(namespace)/\(name)" }
}

/// A reference from an endpoint to the object behind it (usually a Pod).
public struct ObjectReference: Sendable, Hashable {
    public var kind: String
    public var namespace: String
    public var name: String

    public init(kind: String, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }
}

/// Transport protocols Kubernetes defines for Services and NetworkPolicies.
public enum L4Protocol: String, Sendable, Hashable, Comparable, CaseIterable {
    case tcp = "TCP"
    case udp = "UDP"
    case sctp = "SCTP"

    public static func < (lhs: L4Protocol, rhs: L4Protocol) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The lower-case name nft uses.
    public var nftName: String { rawValue.lowercased() }
}

/// An `IntOrString` port: a number, or a name resolved later against container or slice ports.
public enum PortReference: Sendable, Hashable, CustomStringConvertible {
    case number(UInt16)
    case name(String)

    public var description: String {
        switch self {
        case .number(let number): return String(number)
        case .name(let name): return name
        }
    }
}

/// A label selector (`matchLabels` + `matchExpressions`, ANDed). The empty selector matches everything.
public struct LabelSelector: Sendable, Hashable {
    public enum Operator: String, Sendable, Hashable {
        case `in` = "In"
        case notIn = "NotIn"
        case exists = "Exists"
        case doesNotExist = "DoesNotExist"
    }

    public struct Requirement: Sendable, Hashable {
        public var key: String
        public var `operator`: Operator
        public var values: [String]

        public init(key: String, operator: Operator, values: [String]) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    public var matchLabels: [String: String]
    public var matchExpressions: [Requirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    public var isEmpty: Bool { matchLabels.isEmpty && matchExpressions.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels where labels[key] != value { return false }
        for requirement in matchExpressions {
            let value = labels[requirement.key]
            switch requirement.operator {
            case .in: guard let value, requirement.values.contains(value) else { return false }
            case .notIn: if let value, requirement.values.contains(value) { return false }
            case .exists: if value == nil { return false }
            case .doesNotExist: if value != nil { return false }
            }
        }
        return true
    }
}
