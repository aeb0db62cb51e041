/// A KubeProxyConfiguration (`kubeproxy.config.k8s.io/v1alpha1` or `v1alpha2`) reduced to what
/// shapes kube-proxy's nftables rules, after the same version conversion and defaulting kube-proxy
/// applies, so the compiler never needs to know which version was written.
public struct KubeProxyConfiguration: Sendable, Hashable {
    /// How kube-proxy decides that a packet comes from a pod on this node (`detectLocalMode`).
    public enum DetectLocalMode: String, Sendable, Hashable, CaseIterable {
        case clusterCIDR = "ClusterCIDR"
        case nodeCIDR = "NodeCIDR"
        case bridgeInterface = "BridgeInterface"
        case interfaceNamePrefix = "InterfaceNamePrefix"
    }

    /// Which local addresses accept NodePorts (`nodePortAddresses`).
    public enum NodePortAddresses: Sendable, Hashable {
        /// The node's primary address in each family: kube-proxy's nftables default and `primary`.
        case primary
        /// Local addresses inside these prefixes (loopback never, in nftables mode).
        case cidrs([CIDR])
    }

    public var location: SourceLocation
    /// `clusterCIDR` (v1alpha1, comma-separated) or `detectLocal.clusterCIDRs` (v1alpha2).
    public var clusterCIDRs: [CIDR]
    public var nodePortAddresses: NodePortAddresses
    /// `nftables.masqueradeAll` in nftables mode, `iptables.masqueradeAll` otherwise (v1alpha1);
    /// `linux.masqueradeAll` (v1alpha2).
    public var masqueradeAll: Bool
    /// The packet-mark bit that asks for masquerading (`nftables.masqueradeBit`, default 14).
    public var masqueradeBit: Int
    public var detectLocalMode: DetectLocalMode
    /// `detectLocal.bridgeInterface`, used in BridgeInterface mode.
    public var bridgeInterface: String
    /// `detectLocal.interfaceNamePrefix`, used in InterfaceNamePrefix mode.
    public var interfaceNamePrefix: String
    public var hostnameOverride: String?

    public init(location: SourceLocation, clusterCIDRs: [CIDR] = [], nodePortAddresses: NodePortAddresses = .primary,
                masqueradeAll: Bool = false, masqueradeBit: Int = 14, detectLocalMode: DetectLocalMode = .clusterCIDR,
                bridgeInterface: String = "", interfaceNamePrefix: String = "", hostnameOverride: String? = nil) {
        self.location = location
        self.clusterCIDRs = clusterCIDRs
        self.nodePortAddresses = nodePortAddresses
        self.masqueradeAll = masqueradeAll
        self.masqueradeBit = masqueradeBit
        self.detectLocalMode = detectLocalMode
        self.bridgeInterface = bridgeInterface
        self.interfaceNamePrefix = interfaceNamePrefix
        self.hostnameOverride = hostnameOverride
    }
}

/// A `networking.k8s.io/v1` (or v1beta1) ServiceCIDR: a range ClusterIPs are allocated from.
/// Addresses in it that no Service holds are dropped, as kube-proxy's nftables mode does.
public struct ServiceCIDR: Sendable, Hashable {
    public var meta: ObjectMeta
    /// `spec.cidrs`: at most one per family.
    public var cidrs: [CIDR]

    public init(meta: ObjectMeta, cidrs: [CIDR] = []) {
        self.meta = meta
        self.cidrs = cidrs
    }
}
