/// A v1 Service, reduced to what kube-proxy acts on.
public struct Service: Sendable, Hashable {
    public enum ServiceType: String, Sendable, Hashable {
        case clusterIP = "ClusterIP"
        case nodePort = "NodePort"
        case loadBalancer = "LoadBalancer"
        case externalName = "ExternalName"
    }

    /// `Cluster` or `Local`, for both externalTrafficPolicy and internalTrafficPolicy.
    public enum TrafficPolicy: String, Sendable, Hashable {
        case cluster = "Cluster"
        case local = "Local"
    }

    public var meta: ObjectMeta
    public var type: ServiceType
    /// Cluster IPs in `clusterIPs` order (falling back to `clusterIP`); empty when headless or unset.
    public var clusterIPs: [IPAddress]
    /// True for `clusterIP: None`.
    public var isHeadless: Bool
    /// Nil when the service has no selector (endpoints are written by hand).
    public var selector: [String: String]?
    public var ports: [ServicePort]
    public var externalIPs: [IPAddress]
    /// `status.loadBalancer.ingress[].ip`, excluding entries with `ipMode: Proxy`.
    public var loadBalancerIngressIPs: [IPAddress]
    public var loadBalancerSourceRanges: [CIDR]
    public var externalTrafficPolicy: TrafficPolicy
    public var internalTrafficPolicy: TrafficPolicy
    /// ClientIP affinity timeout in seconds; nil when sessionAffinity is None.
    public var sessionAffinityTimeout: Int?
    public var externalName: String?
    /// `publishNotReadyAddresses`: DNS publishes every endpoint of the Service, ready or not.
    public var publishNotReadyAddresses = false

    public init(meta: ObjectMeta, type: ServiceType = .clusterIP, clusterIPs: [IPAddress] = [],
                isHeadless: Bool = false, selector: [String: String]? = nil, ports: [ServicePort] = [],
                externalIPs: [IPAddress] = [], loadBalancerIngressIPs: [IPAddress] = [],
                loadBalancerSourceRanges: [CIDR] = [], externalTrafficPolicy: TrafficPolicy = .cluster,
                internalTrafficPolicy: TrafficPolicy = .cluster, sessionAffinityTimeout: Int? = nil,
                externalName: String? = nil) {
        self.meta = meta
        self.type = type
        self.clusterIPs = clusterIPs
        self.isHeadless = isHeadless
        self.selector = selector
        self.ports = ports
        self.externalIPs = externalIPs
        self.loadBalancerIngressIPs = loadBalancerIngressIPs
        self.loadBalancerSourceRanges = loadBalancerSourceRanges
        self.externalTrafficPolicy = externalTrafficPolicy
        self.internalTrafficPolicy = internalTrafficPolicy
        self.sessionAffinityTimeout = sessionAffinityTimeout
        self.externalName = externalName
    }
}

/// One entry of `spec.ports`.
public struct ServicePort: Sendable, Hashable {
    /// May be empty when the service has a single port.
    public var name: String
    public var `protocol`: L4Protocol
    public var port: UInt16
    /// Defaults to `port` when absent.
    public var targetPort: PortReference
    /// Nil when not allocated (ClusterIP services).
    public var nodePort: UInt16?
    public var location: SourceLocation

    public init(name: String = "", protocol: L4Protocol = .tcp, port: UInt16, targetPort: PortReference? = nil,
                nodePort: UInt16? = nil, location: SourceLocation) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
        self.targetPort = targetPort ?? .number(port)
        self.nodePort = nodePort
        self.location = location
    }
}
