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
    public var controller: ObjectReference? {
        get { controllerBox?.value }
        set { controllerBox = newValue.map(Boxed.init) }
    }
    /// Set when kubenft derived the pod (and its address) from a declared object; nil for real pods.
    public var origin: PodOrigin? {
        get { originBox?.value }
        set { originBox = newValue.map(Boxed.init) }
    }
    /// `spec.hostname` and `spec.subdomain`: the endpoint-slice controller gives the pod's endpoint
    /// this hostname in the Service named `subdomain` (a StatefulSet sets both on its pods).
    public var naming: PodNaming? {
        get { namingBox?.value }
        set { namingBox = newValue.map(Boxed.init) }
    }
    /// Held by reference so that a Pod stays small (a load has 100k of them) and the Pods of one
    /// controller can share theirs; nil for most pods' `origin`.
    var controllerBox: Boxed<ObjectReference>?
    private var originBox: Boxed<PodOrigin>?
    private var namingBox: Boxed<PodNaming>?

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

/// A pod's own DNS name parts (`spec.hostname`, `spec.subdomain`), either of which may be unset.
public struct PodNaming: Sendable, Hashable {
    public var hostname: String?
    public var subdomain: String?

    public init(hostname: String? = nil, subdomain: String? = nil) {
        self.hostname = hostname
        self.subdomain = subdomain
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

/// An immutable value kept on the heap, compared and hashed by value: a rarely set or widely
/// shared field of a model type costs one reference instead of its whole size.
final class Boxed<Value: Hashable & Sendable>: Hashable, Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }

    static func == (lhs: Boxed, rhs: Boxed) -> Bool { lhs === rhs || lhs.value == rhs.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
