/// A discovery.k8s.io/v1 EndpointSlice: the endpoints of one service, one address family.
public struct EndpointSlice: Sendable, Hashable {
    public enum AddressType: String, Sendable, Hashable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
        case fqdn = "FQDN"
    }

    /// One endpoint. Conditions are nil when the manifest leaves them unset (`ready` nil means ready).
    public struct Endpoint: Sendable, Hashable {
        public var addresses: [IPAddress]
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?
        public var nodeName: String?
        public var targetRef: ObjectReference?
        /// `hints.forZones[].name`: the zones whose nodes should prefer this endpoint.
        public var zoneHints: [String]
        /// `hints.forNodes[].name`: the nodes that should prefer this endpoint.
        public var nodeHints: [String]
        /// `hostname`: the endpoint's DNS label under a headless Service (see `kubenft dns`).
        public var hostname: String?

        public init(addresses: [IPAddress], ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil,
                    nodeName: String? = nil, targetRef: ObjectReference? = nil, zoneHints: [String] = [], nodeHints: [String] = [],
                    hostname: String? = nil) {
            self.hostname = hostname
            self.addresses = addresses
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
            self.nodeName = nodeName
            self.targetRef = targetRef
            self.zoneHints = zoneHints
            self.nodeHints = nodeHints
        }

        /// Ready unless explicitly not ready (the API's documented default). Read as kube-proxy reads
        /// it: a terminating endpoint marked ready is still ready.
        public var isReady: Bool { ready ?? true }
        /// Serving unless explicitly not serving: kube-proxy reads an unset `serving` as true, not as
        /// the ready condition, so an unset `serving` on a terminating endpoint keeps it usable.
        public var isServing: Bool { serving ?? true }
        public var isTerminating: Bool { terminating ?? false }
    }

    /// One entry of `ports`: the name matches a service port's name, the port is the target.
    public struct Port: Sendable, Hashable {
        public var name: String
        public var `protocol`: L4Protocol
        public var port: UInt16?

        public init(name: String = "", protocol: L4Protocol = .tcp, port: UInt16?) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
        }
    }

    public var meta: ObjectMeta
    /// From the `kubernetes.io/service-name` label; nil when missing.
    public var serviceName: String?
    public var addressType: AddressType
    public var endpoints: [Endpoint]
    public var ports: [Port]

    public init(meta: ObjectMeta, serviceName: String?, addressType: AddressType, endpoints: [Endpoint], ports: [Port]) {
        self.meta = meta
        self.serviceName = serviceName
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }
}

/// A legacy v1 Endpoints object, used for a service that has no EndpointSlices.
public struct Endpoints: Sendable, Hashable {
    public struct Address: Sendable, Hashable {
        public var ip: IPAddress
        public var nodeName: String?
        public var targetRef: ObjectReference?
        /// `hostname`: the address's DNS label under a headless Service (see `kubenft dns`).
        public var hostname: String?

        public init(ip: IPAddress, nodeName: String? = nil, targetRef: ObjectReference? = nil, hostname: String? = nil) {
            self.hostname = hostname
            self.ip = ip
            self.nodeName = nodeName
            self.targetRef = targetRef
        }
    }

    public struct Subset: Sendable, Hashable {
        public var addresses: [Address]
        public var notReadyAddresses: [Address]
        public var ports: [EndpointSlice.Port]

        public init(addresses: [Address], notReadyAddresses: [Address] = [], ports: [EndpointSlice.Port]) {
            self.addresses = addresses
            self.notReadyAddresses = notReadyAddresses
            self.ports = ports
        }
    }

    public var meta: ObjectMeta
    public var subsets: [Subset]

    public init(meta: ObjectMeta, subsets: [Subset]) {
        self.meta = meta
        self.subsets = subsets
    }
}
