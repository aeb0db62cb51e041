import Dispatch
import Synchronization

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

    /// How many objects each list holds: a step that only adds objects (and never renames one)
    /// left the order alone when these did not change.
    var objectCounts: [Int] {
        [services.count, endpointSlices.count, endpoints.count, pods.count, namespaces.count, nodes.count, networkPolicies.count,
         adminPolicies.count, proxyConfigurations.count, serviceCIDRs.count, workloads.count]
    }

    /// Sorts every list by namespace and name (and slices by name), so output never depends on input order.
    /// Each sort key is computed once, and a list already in order is only checked (this runs
    /// after loading and again after each step that may add objects).
    /// Qualified-name keys are read from each object in place (a closure taking the object would
    /// copy it, retaining everything it holds).
    public mutating func canonicalize() {
        canonicalize(parallelFrom: Self.parallelSortThreshold)
    }

    /// Pods from which their sort runs in halves on two threads beside the other lists' sorts.
    static let parallelSortThreshold = 16_384

    /// `canonicalize()`; with at least `threshold` pods, the two halves of the pods are sorted
    /// and the other lists are sorted as three tasks at once (each list is moved out of the way,
    /// so none is copied), and the pods' halves are merged.
    mutating func canonicalize(parallelFrom threshold: Int) {
        var podList: [Pod] = []
        swap(&podList, &pods)
        let rest = Mutex(Cluster())
        rest.withLock { swap(&$0, &self) }
        podList.sortStably(inHalvesFrom: threshold, alongside: { rest.withLock { $0.sortListsButPods() } }) { list, index in
            (list[index].meta.namespace, list[index].meta.name)
        }
        rest.withLock { swap(&self, &$0) }
        swap(&pods, &podList)
    }

    private mutating func sortListsButPods() {
        services.sortStably(keys: ByteKeys(count: services.count) { (services[$0].meta.namespace, services[$0].meta.name) })
        let sliceKeys = ByteKeys(count: endpointSlices.count) { (endpointSlices[$0].meta.namespace, endpointSlices[$0].meta.name) }
        endpointSlices.sortStably(keys: sliceKeys)
        endpoints.sortStably(keys: ByteKeys(count: endpoints.count) { (endpoints[$0].meta.namespace, endpoints[$0].meta.name) })
        namespaces.sortStably(byName:) { $0.meta.name }
        nodes.sortStably(byName:) { $0.meta.name }
        let policyKeys = ByteKeys(count: networkPolicies.count) {
            (networkPolicies[$0].meta.namespace, networkPolicies[$0].meta.name)
        }
        networkPolicies.sortStably(keys: policyKeys)
        proxyConfigurations.sortStably(by: \.location) { $0 < $1 }
        serviceCIDRs.sortStably(byName:) { $0.meta.name }
        workloads.sortStably(by: { ($0.meta.qualifiedName, $0.kind) }) { $0 < $1 }
        adminPolicies.sortStably(by: { ($0.tier.rawValue, $0.priority, $0.meta.name, $0.kind.rawValue) }) { $0 < $1 }
    }
}
