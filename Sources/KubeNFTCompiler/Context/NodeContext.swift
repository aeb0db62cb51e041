import KubeManifest
import NFTRuleset

/// What the compiler knows about the node it compiles for: which endpoints are local, which
/// addresses are the node's own, which sources are pods, and kube-proxy's masquerade settings.
public struct NodeContext: Sendable, Hashable {
    /// How a packet from a pod on this node is recognised, as kube-proxy's `detectLocalMode` does:
    /// it decides which traffic to a ClusterIP is masqueraded and which external traffic to an
    /// `externalTrafficPolicy: Local` service short-circuits to every endpoint.
    public enum LocalTrafficDetector: Sendable, Hashable {
        /// Source inside the cluster CIDRs (`ClusterCIDR`, the default).
        case clusterCIDR
        /// Source inside the node's own `spec.podCIDRs` (`NodeCIDR`).
        case nodeCIDR([CIDR])
        /// Arriving on this bridge (`BridgeInterface`): `iifname "br0"`.
        case bridgeInterface(String)
        /// Arriving on an interface whose name starts with this (`InterfaceNamePrefix`): `iifname "veth*"`.
        case interfaceNamePrefix(String)
    }

    /// Endpoints whose nodeName equals this are local; nil when no node name was given.
    public var nodeName: String?
    /// The node's addresses; the first of each family is its primary address.
    public var nodeIPs: [IPAddress]
    public var clusterCIDRs: [CIDR]
    /// Which local addresses accept NodePorts; loopback never does.
    public var nodePortAddresses: KubeProxyConfiguration.NodePortAddresses
    public var masqueradeAll: Bool
    /// The packet mark bit (kube-proxy's `masqueradeBit`, 14 by default) that asks for masquerading.
    public var masqueradeBit: Int
    public var localDetector: LocalTrafficDetector
    /// ServiceCIDR ranges: an address in them that no Service holds is dropped.
    public var serviceCIDRs: [CIDR]
    /// Counters and logging on drops (`--counters`, `--log-drops`); off by default.
    public var observation = DropObservation()

    public init(nodeName: String? = nil, nodeIPs: [IPAddress] = [], clusterCIDRs: [CIDR] = [],
                nodePortAddresses: KubeProxyConfiguration.NodePortAddresses = .primary, masqueradeAll: Bool = false,
                masqueradeBit: Int = 14, localDetector: LocalTrafficDetector = .clusterCIDR, serviceCIDRs: [CIDR] = []) {
        self.nodeName = nodeName
        self.nodeIPs = nodeIPs
        self.clusterCIDRs = clusterCIDRs
        self.nodePortAddresses = nodePortAddresses
        self.masqueradeAll = masqueradeAll
        self.masqueradeBit = masqueradeBit
        self.localDetector = localDetector
        self.serviceCIDRs = serviceCIDRs
    }

    func clusterCIDRs(_ family: IPFamily) -> [CIDR] { clusterCIDRs.filter { $0.family == family } }
    func nodeIPs(_ family: IPFamily) -> [IPAddress] { nodeIPs.filter { $0.family == family } }
    func serviceCIDRs(_ family: IPFamily) -> [CIDR] { serviceCIDRs.filter { $0.family == family } }

    var masqueradeMark: UInt32 { UInt32(1) << UInt32(max(0, min(31, masqueradeBit))) }

    /// The addresses that accept NodePorts in a family, loopback excluded.
    func nodePortAddressValues(_ family: IPFamily) -> [Value] {
        switch nodePortAddresses {
        case .primary:
            return nodeIPs(family).prefix(1).filter { !$0.isLoopback }.map { .address($0) }
        case .cidrs(let cidrs):
            return cidrs.filter { $0.family == family }.map { .prefix($0) }
        }
    }

    /// Matches packets from a local pod, or nil when this family has no way to tell (kube-proxy's
    /// no-op detector: nothing is masqueraded for being off-cluster, nothing short-circuits).
    func ifLocal(_ family: IPFamily) -> Statement? {
        localMatch(family, negated: false)
    }

    func ifNotLocal(_ family: IPFamily) -> Statement? {
        localMatch(family, negated: true)
    }

    private func localMatch(_ family: IPFamily, negated: Bool) -> Statement? {
        let test: (Expression, Expression) -> Statement = { negated ? .differs($0, $1) : .matches($0, $1) }
        switch localDetector {
        case .clusterCIDR:
            guard !clusterCIDRs(family).isEmpty else { return nil }
            return test(family.source, .setReference(Names.clusterCIDRs(family)))
        case .nodeCIDR(let cidrs):
            guard let cidr = cidrs.first(where: { $0.family == family }) else { return nil }
            return test(family.source, .value(.prefix(cidr)))
        case .bridgeInterface(let name):
            return test(.meta(.iifname), .value(.symbol(name)))
        case .interfaceNamePrefix(let prefix):
            return test(.meta(.iifname), .value(.symbol(prefix + "*")))
        }
    }

    /// An interface a packet from a pod on this node arrives on, as the local traffic detector
    /// expects it (empty when the detector looks at addresses): what the tracer assumes.
    public var localPodInterface: String {
        switch localDetector {
        case .clusterCIDR, .nodeCIDR: return ""
        case .bridgeInterface(let name): return name
        case .interfaceNamePrefix(let prefix): return prefix + "0"
        }
    }
}
