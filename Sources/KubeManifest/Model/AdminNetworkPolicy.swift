/// A policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy, or a
/// v1alpha2 ClusterNetworkPolicy: rules a cluster administrator sets around NetworkPolicies. Admin
/// tier rules are evaluated first, by priority (lower first), and may Allow (Accept), Deny or Pass to
/// NetworkPolicy; baseline tier rules apply to pods no NetworkPolicy isolates.
public struct AdminNetworkPolicy: Sendable, Hashable {
    public enum Tier: String, Sendable, Hashable {
        case admin, baseline
    }

    /// The API an object came from, so that every message and rule comment names it as written.
    public enum Kind: String, Sendable, Hashable {
        case adminNetworkPolicy = "AdminNetworkPolicy"
        case baselineAdminNetworkPolicy = "BaselineAdminNetworkPolicy"
        case clusterNetworkPolicy = "ClusterNetworkPolicy"

        /// `ANP`, `BANP`, `CNP`: the short form rule comments use.
        public var abbreviation: String {
            switch self {
            case .adminNetworkPolicy: return "ANP"
            case .baselineAdminNetworkPolicy: return "BANP"
            case .clusterNetworkPolicy: return "CNP"
            }
        }
    }

    public enum Action: String, Sendable, Hashable {
        case allow = "Allow"
        case deny = "Deny"
        case pass = "Pass"
    }

    /// Which pods a policy applies to, or a peer made of pods.
    public enum PodSet: Sendable, Hashable {
        case namespaces(LabelSelector)
        case pods(namespaceSelector: LabelSelector, podSelector: LabelSelector)
    }

    /// One `from` / `to` entry.
    public enum Peer: Sendable, Hashable {
        case pods(PodSet)
        /// Egress only: destination CIDRs.
        case networks([CIDR])
        /// Egress only: the addresses of Nodes whose labels match.
        case nodes(LabelSelector)
    }

    public enum Port: Sendable, Hashable {
        case number(L4Protocol, UInt16)
        /// A container port name, whatever its protocol.
        case named(String)
        case range(L4Protocol, UInt16, UInt16)
    }

    public struct Rule: Sendable, Hashable {
        public var name: String
        public var action: Action
        public var peers: [Peer]
        /// Nil = every port.
        public var ports: [Port]?
        public var location: SourceLocation
        /// Entries that could not be compiled and failed closed (`to[0]: domainNames example.com`),
        /// as written: the review names them, and a change to them is a change.
        public var uncompiled: [String]

        public init(name: String, action: Action, peers: [Peer], ports: [Port]? = nil, location: SourceLocation, uncompiled: [String] = []) {
            self.name = name
            self.action = action
            self.peers = peers
            self.ports = ports
            self.location = location
            self.uncompiled = uncompiled
        }
    }

    public var meta: ObjectMeta
    public var kind: Kind
    public var tier: Tier
    /// 0...1000, lower first; the v1alpha1 baseline has none (0).
    public var priority: Int
    public var subject: PodSet
    public var ingress: [Rule]
    public var egress: [Rule]

    /// `kind` defaults to the v1alpha1 kind of the tier.
    public init(meta: ObjectMeta, kind: Kind? = nil, tier: Tier, priority: Int = 0, subject: PodSet, ingress: [Rule] = [], egress: [Rule] = []) {
        self.meta = meta
        self.kind = kind ?? (tier == .admin ? .adminNetworkPolicy : .baselineAdminNetworkPolicy)
        self.tier = tier
        self.priority = priority
        self.subject = subject
        self.ingress = ingress
        self.egress = egress
    }

    /// `ClusterNetworkPolicy NAME`, `AdminNetworkPolicy NAME`: how messages name the object.
    public var label: String { "\(kind.rawValue) \(meta.name)" }

    /// How the object's own API spells an action (v1alpha2 says Accept where v1alpha1 says Allow).
    public func spelling(of action: Action) -> String {
        kind == .clusterNetworkPolicy && action == .allow ? "Accept" : action.rawValue
    }

    /// The tier as the object's API names it, for chain comments.
    public var tierTitle: String {
        switch kind {
        case .adminNetworkPolicy, .baselineAdminNetworkPolicy: return kind.rawValue
        case .clusterNetworkPolicy: return "ClusterNetworkPolicy \(tier == .admin ? "Admin" : "Baseline") tier"
        }
    }
}
