/// Everything loaded from the input: the objects kubenft understands, in a deterministic order
/// (sorted by kind, namespace, name) whatever order the files came in.
public struct Cluster: Sendable, Hashable {
    public var services: [Service] = []
    public var endpointSlices: [EndpointSlice] = []
    public var endpoints: [Endpoints] = []
    public var pods: [Pod] = []
    public var namespaces: [Namespace] = []
    public var nodes: [Node] = []
    public var networkPolicies: [NetworkPolicy] = []
    /// AdminNetworkPolicies and the BaselineAdminNetworkPolicy.
    public var adminPolicies: [AdminNetworkPolicy] = []
    public var proxyConfigurations: [KubeProxyConfiguration] = []
    public var serviceCIDRs: [ServiceCIDR] = []
    /// Controllers with pod templates (Deployments, StatefulSets, Jobs...), for `WorkloadDerivation`.
    public var workloads: [Workload] = []

    public init() {}

    /// Sorts every list by namespace and name (and slices by name), so output never depends on input order.
    public mutating func canonicalize() {
        services.sort { $0.meta.qualifiedName < $1.meta.qualifiedName }
        endpointSlices.sort { $0.meta.qualifiedName < $1.meta.qualifiedName }
        endpoints.sort { $0.meta.qualifiedName < $1.meta.qualifiedName }
        pods.sort { $0.meta.qualifiedName < $1.meta.qualifiedName }
        namespaces.sort { $0.meta.name < $1.meta.name }
        nodes.sort { $0.meta.name < $1.meta.name }
        networkPolicies.sort { $0.meta.qualifiedName < $1.meta.qualifiedName }
        proxyConfigurations.sort { $0.location < $1.location }
        serviceCIDRs.sort { $0.meta.name < $1.meta.name }
        workloads.sort { ($0.meta.qualifiedName, $0.kind) < ($1.meta.qualifiedName, $1.kind) }
        adminPolicies.sort { ($0.tier.rawValue, $0.priority, $0.meta.name) < ($1.tier.rawValue, $1.priority, $1.meta.name) }
    }
}
