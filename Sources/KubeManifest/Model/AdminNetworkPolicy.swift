/// A policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy or BaselineAdminNetworkPolicy: rules a
/// cluster administrator sets around NetworkPolicies. Admin rules are evaluated first, by priority
/// (lower first), and may Allow, Deny or Pass to NetworkPolicy; the baseline applies to pods no
/// NetworkPolicy isolates.
public struct AdminNetworkPolicy: Sendable, Hashable {
    public enum Tier: String, Sendable, Hashable {
        case admin, baseline
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

        public init(name: String, action: Action, peers: [Peer], ports: [Port]? = nil, location: SourceLocation) {
            self.name = name
            self.action = action
            self.peers = peers
            self.ports = ports
            self.location = location
        }
    }

    public var meta: ObjectMeta
    public var tier: Tier
    /// 0...1000 for admin policies, lower first; unused for the baseline.
    public var priority: Int
    public var subject: PodSet
    public var ingress: [Rule]
    public var egress: [Rule]

    public init(meta: ObjectMeta, tier: Tier, priority: Int = 0, subject: PodSet, ingress: [Rule] = [], egress: [Rule] = []) {
        self.meta = meta
        self.tier = tier
        self.priority = priority
        self.subject = subject
        self.ingress = ingress
        self.egress = egress
    }
}
