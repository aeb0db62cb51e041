import KubeManifest

/// What the compiler knows about the node it compiles for: which endpoints are local, which
/// addresses are the node's own, which sources are pods, and kube-proxy's masquerade settings.
public struct NodeContext: Sendable, Hashable {
    /// Endpoints whose nodeName equals this are local; nil when no node name was given.
    public var nodeName: String?
    public var nodeIPs: [IPAddress]
    public var clusterCIDRs: [CIDR]
    /// Local addresses within these CIDRs accept NodePorts; empty = every local address but loopback.
    public var nodePortAddresses: [CIDR]
    public var masqueradeAll: Bool

    public init(nodeName: String? = nil, nodeIPs: [IPAddress] = [], clusterCIDRs: [CIDR] = [],
                nodePortAddresses: [CIDR] = [], masqueradeAll: Bool = false) {
        self.nodeName = nodeName
        self.nodeIPs = nodeIPs
        self.clusterCIDRs = clusterCIDRs
        self.nodePortAddresses = nodePortAddresses
        self.masqueradeAll = masqueradeAll
    }

    func clusterCIDRs(_ family: IPFamily) -> [CIDR] { clusterCIDRs.filter { $0.family == family } }
    func nodeIPs(_ family: IPFamily) -> [IPAddress] { nodeIPs.filter { $0.family == family } }
}
