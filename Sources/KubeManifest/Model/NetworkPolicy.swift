/// A networking.k8s.io/v1 NetworkPolicy, as written: defaulting (policyTypes) is left to the compiler
/// so that "missing" and "empty" stay distinguishable.
public struct NetworkPolicy: Sendable, Hashable {
    public enum PolicyType: String, Sendable, Hashable {
        case ingress = "Ingress"
        case egress = "Egress"
    }

    public struct IPBlock: Sendable, Hashable {
        public var cidr: CIDR
        public var except: [CIDR]
        public init(cidr: CIDR, except: [CIDR] = []) {
            self.cidr = cidr
            self.except = except
        }
    }

    /// One `from` / `to` item: fields inside are ANDed, items are ORed.
    public struct Peer: Sendable, Hashable {
        public var podSelector: LabelSelector?
        public var namespaceSelector: LabelSelector?
        public var ipBlock: IPBlock?
        public init(podSelector: LabelSelector? = nil, namespaceSelector: LabelSelector? = nil, ipBlock: IPBlock? = nil) {
            self.podSelector = podSelector
            self.namespaceSelector = namespaceSelector
            self.ipBlock = ipBlock
        }
    }

    public struct Port: Sendable, Hashable {
        /// Defaults to TCP.
        public var `protocol`: L4Protocol
        /// Nil = every port of the protocol.
        public var port: PortReference?
        public var endPort: UInt16?
        public init(protocol: L4Protocol = .tcp, port: PortReference? = nil, endPort: UInt16? = nil) {
            self.protocol = `protocol`
            self.port = port
            self.endPort = endPort
        }
    }

    /// One ingress or egress rule. `peers` nil or empty = any peer; `ports` nil or empty = any port.
    public struct Rule: Sendable, Hashable {
        public var peers: [Peer]?
        public var ports: [Port]?
        public var location: SourceLocation
        public init(peers: [Peer]? = nil, ports: [Port]? = nil, location: SourceLocation) {
            self.peers = peers
            self.ports = ports
            self.location = location
        }
    }

    public var meta: ObjectMeta
    public var podSelector: LabelSelector
    /// As written; nil or empty when the manifest leaves it out.
    public var policyTypes: [PolicyType]?
    /// Nil when `ingress` is absent; `[]` when written as an empty list.
    public var ingress: [Rule]?
    public var egress: [Rule]?

    public init(meta: ObjectMeta, podSelector: LabelSelector = LabelSelector(), policyTypes: [PolicyType]? = nil,
                ingress: [Rule]? = nil, egress: [Rule]? = nil) {
        self.meta = meta
        self.podSelector = podSelector
        self.policyTypes = policyTypes
        self.ingress = ingress
        self.egress = egress
    }

    /// The upstream defaulting: explicit types, else Ingress plus Egress when egress rules exist.
    public var effectivePolicyTypes: Set<PolicyType> {
        if let policyTypes, !policyTypes.isEmpty { return Set(policyTypes) }
        var types: Set<PolicyType> = [.ingress]
        if let egress, !egress.isEmpty { types.insert(.egress) }
        return types
    }
}
