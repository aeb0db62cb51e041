/// A controller that creates pods from a template (apps/v1 Deployment, StatefulSet, DaemonSet,
/// ReplicaSet; batch/v1 Job, CronJob; v1 ReplicationController). kubenft reads them so that a
/// repository's manifests, which hold no running Pods, still give a cluster to review: the pods a
/// controller would create are derived from its template (see `WorkloadDerivation`).
public struct Workload: Sendable, Hashable {
    /// The controller kinds kubenft derives pods from.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Comparable {
        case deployment = "Deployment"
        case statefulSet = "StatefulSet"
        case daemonSet = "DaemonSet"
        case replicaSet = "ReplicaSet"
        case job = "Job"
        case cronJob = "CronJob"
        case replicationController = "ReplicationController"

        public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var kind: Kind
    public var meta: ObjectMeta
    /// Pods the controller keeps running: `replicas` (default 1), a Job's `parallelism` (default 1),
    /// 1 for a DaemonSet and a CronJob.
    public var replicas: Int
    /// The pod template: its labels, container ports and `hostNetwork`, decoded as a Pod is.
    public var template: Pod
    /// The controlling `ownerReference`, when another controller manages this one.
    public var controller: ObjectReference?
    /// A StatefulSet's `spec.serviceName`: the subdomain of its pods, whose hostnames are their names.
    public var serviceName: String?

    public init(kind: Kind, meta: ObjectMeta, replicas: Int = 1, template: Pod, controller: ObjectReference? = nil) {
        self.kind = kind
        self.meta = meta
        self.replicas = replicas
        self.template = template
        self.controller = controller
    }

    /// `ns/name[Kind]`, the name reviewers see (the convention of netpol-analyzer and NCA).
    public var reviewName: String { "\(meta.namespace)/\(meta.name)[\(kind.rawValue)]" }
}

/// Where a pod kubenft made up comes from: the workload (or the declared Pod without an address)
/// and which of its replicas it is. Real pods, read with their addresses, have none.
public struct PodOrigin: Sendable, Hashable {
    /// The workload's kind (`Deployment`...), or `Pod` for a declared Pod that had no address.
    public var kind: String
    /// The workload's name.
    public var workload: String
    /// 0 for the representative that `matrix` and `diff` report; all replicas behave alike under policy.
    public var replica: Int

    public init(kind: String, workload: String, replica: Int) {
        self.kind = kind
        self.workload = workload
        self.replica = replica
    }
}

extension Pod {
    /// The name reviewers see: `ns/name[Kind]` for a pod derived from a workload, `ns/name` otherwise.
    public var reviewName: String {
        guard let origin, origin.kind != "Pod" else { return meta.qualifiedName }
        return "\(meta.namespace)/\(origin.workload)[\(origin.kind)]"
    }

    /// False for the replicas after the first of a derived workload: one pod per workload is enough
    /// to review connectivity.
    public var isRepresentative: Bool { (origin?.replica ?? 0) == 0 }
}
