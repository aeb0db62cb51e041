/// A v1 Pod: where it runs, its addresses, and the named ports NetworkPolicies and Services resolve.
public struct Pod: Sendable, Hashable {
    public struct ContainerPort: Sendable, Hashable {
        public var name: String
        public var port: UInt16
        public var `protocol`: L4Protocol

        public init(name: String = "", port: UInt16, protocol: L4Protocol = .tcp) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
        }
    }

    public var meta: ObjectMeta
    public var nodeName: String?
    public var hostNetwork: Bool
    /// `status.podIPs` (falling back to `status.podIP`), in order.
    public var podIPs: [IPAddress]
    public var phase: String?
    public var containerPorts: [ContainerPort]
    /// The controlling `ownerReference` (the ReplicaSet, StatefulSet... that created the pod).
    public var controller: ObjectReference?
    /// Set when kubenft derived the pod (and its address) from a declared object; nil for real pods.
    public var origin: PodOrigin?

    public init(meta: ObjectMeta, nodeName: String? = nil, hostNetwork: Bool = false, podIPs: [IPAddress] = [],
                phase: String? = nil, containerPorts: [ContainerPort] = []) {
        self.meta = meta
        self.nodeName = nodeName
        self.hostNetwork = hostNetwork
        self.podIPs = podIPs
        self.phase = phase
        self.containerPorts = containerPorts
    }
}

/// A v1 Namespace; its labels always include `kubernetes.io/metadata.name` after loading.
public struct Namespace: Sendable, Hashable {
    public var meta: ObjectMeta
    public init(meta: ObjectMeta) { self.meta = meta }
}

/// A v1 Node: its addresses are the node's own addresses when it is the lab node.
public struct Node: Sendable, Hashable {
    public var meta: ObjectMeta
    /// `status.addresses` of type InternalIP and ExternalIP, in order.
    public var addresses: [IPAddress]
    public var podCIDRs: [CIDR]

    public init(meta: ObjectMeta, addresses: [IPAddress] = [], podCIDRs: [CIDR] = []) {
        self.meta = meta
        self.addresses = addresses
        self.podCIDRs = podCIDRs
    }
}
