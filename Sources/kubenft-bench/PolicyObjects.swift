/// A small change applied to a NetworkPolicy cluster, for the diff benchmark.
struct ClusterChange: OptionSet, Hashable {
    let rawValue: Int
    /// Policy 1 (an app's ingress policy) gets a second peer: the ingress controller's namespace.
    static let widenPolicy = ClusterChange(rawValue: 1)
    /// The first application Deployment gets one more replica, so its Service one more endpoint.
    static let addEndpoint = ClusterChange(rawValue: 2)
    /// The first NodePort Service moves to node port 32000.
    static let moveNodePort = ClusterChange(rawValue: 4)
    /// Policy 6 (the allow-DNS egress policy of namespace ns-0, `podSelector: {}`) gets a rule allowing
    /// every pod of the prod namespaces on the named port http.
    static let widenNamespaceWide = ClusterChange(rawValue: 8)

    static let small: ClusterChange = [.widenPolicy, .addEndpoint, .moveNodePort]
}

/// Builds the objects of a NetworkPolicy scenario in `kubectl get -o yaml` layout.
struct PolicyObjectFactory {
    let plan: PolicyClusterPlan
    var change: ClusterChange = []
    /// Repository layout: Deployments (pod templates) and Services without a clusterIP, no Pods and no
    /// EndpointSlices, so kubenft derives pods, cluster IPs and endpoints as for a CI review.
    var declared = false

    private func metadata(_ name: String, namespace: String?, kind: UInt64, index: Int,
                          labels: [(String, String)] = [], extra: [(String, Document)] = []) -> Document {
        var entries: [(String, Document)] = [
            ("creationTimestamp", .string(ObjectFactory.timestamp)), ("name", .string(name)),
            ("resourceVersion", .string(String(400_000 + Int(ClusterPlan.mix(kind ^ UInt64(index)) % 500_000)))),
            ("uid", .string(ClusterPlan.uid(kind, index))),
        ]
        if let namespace { entries.append(("namespace", .string(namespace))) }
        if !labels.isEmpty { entries.append(("labels", .map(labels.map { ($0.0, .string($0.1)) }))) }
        return .map(entries + extra)
    }

    private static func object(_ apiVersion: String, _ kind: String, _ entries: [(String, Document)]) -> Document {
        .map([("apiVersion", .string(apiVersion)), ("kind", .string(kind))] + entries)
    }

    func namespace(_ index: Int) -> Document {
        let namespace = plan.namespaces[index]
        return Self.object("v1", "Namespace", [
            ("metadata", metadata(namespace.name, namespace: nil, kind: 11, index: index, labels: namespace.labels)),
            ("spec", .map([("finalizers", .list([.string("kubernetes")]))])), ("status", .map([("phase", .string("Active"))])),
        ])
    }

    func node(_ number: Int) -> Document {
        let name = "node-\(number)"
        return Self.object("v1", "Node", [
            ("metadata", metadata(name, namespace: nil, kind: 12, index: number,
                                  labels: [("kubernetes.io/hostname", name), ("kubernetes.io/os", "linux")])),
            ("spec", .map([("podCIDR", .string("10.128.\(number).0/24"))])),
            ("status", .map([("addresses", .list([
                .map([("address", .string("192.168.50.\(10 + number)")), ("type", .string("InternalIP"))]),
                .map([("address", .string(name)), ("type", .string("Hostname"))]),
            ]))])),
        ])
    }

    /// The global pod indices of a Deployment's replicas (the added replica takes an unused index).
    func podIndices(_ deployment: DeploymentPlan) -> [Int] {
        var indices = Array(deployment.firstPod..<deployment.firstPod + deployment.replicas)
        if change.contains(.addEndpoint) && deployment.index == plan.firstApp { indices.append(plan.podCount) }
        return indices
    }

    func pod(_ deployment: DeploymentPlan, replica: Int, index: Int) -> Document {
        let ip = plan.podIP(index)
        let container: Document = .map([
            ("image", .string("registry.example.com/\(deployment.name):1.4.2")), ("name", .string("main")),
            ("ports", .list(deployment.ports.map { port in
                .map([("containerPort", .int(port.port)), ("name", .string(port.name)), ("protocol", .string(port.proto))])
            })),
        ])
        return Self.object("v1", "Pod", [
            ("metadata", metadata(plan.podName(deployment, replica: replica), namespace: deployment.namespace, kind: 15,
                                  index: index, labels: deployment.labels)),
            ("spec", .map([("containers", .list([container])), ("nodeName", .string(plan.nodeName(index))),
                           ("restartPolicy", .string("Always"))])),
            ("status", .map([("phase", .string("Running")), ("podIP", .string(ip)), ("podIPs", .list([.map([("ip", .string(ip))])])),
                             ("hostIP", .string("192.168.50.\(10 + plan.nodeNumber(index))"))])),
        ])
    }

    func service(_ deployment: DeploymentPlan) -> Document {
        var nodePort = deployment.nodePort
        if change.contains(.moveNodePort), nodePort != nil, deployment.index == plan.deployments.first(where: { $0.nodePort != nil })?.index {
            nodePort = 32000
        }
        var port: [(String, Document)] = [("name", .string("http")), ("port", .int(80)), ("protocol", .string("TCP")),
                                          ("targetPort", .string("http"))]
        if let nodePort { port.append(("nodePort", .int(nodePort))) }
        return Self.object("v1", "Service", [
            ("metadata", metadata(deployment.name, namespace: deployment.namespace, kind: 13, index: deployment.index,
                                  labels: [("app", deployment.name)])),
            ("spec", .map([("clusterIP", .string(deployment.clusterIP)), ("clusterIPs", .list([.string(deployment.clusterIP)])),
                           ("ports", .list([.map(port)])), ("selector", .map([("app", .string(deployment.name))])),
                           ("type", .string(nodePort == nil ? "ClusterIP" : "NodePort"))])),
        ])
    }

    /// The Service as a repository declares it: no clusterIP, the control plane assigns one.
    func declaredService(_ deployment: DeploymentPlan) -> Document {
        guard case .map(var entries) = service(deployment), let index = entries.firstIndex(where: { $0.0 == "spec" }),
              case .map(let spec) = entries[index].1 else { return service(deployment) }
        entries[index].1 = .map(spec.filter { $0.0 != "clusterIP" && $0.0 != "clusterIPs" })
        return .map(entries)
    }

    /// An apps/v1 Deployment whose template carries the pods' labels and named ports.
    func deployment(_ deployment: DeploymentPlan) -> Document {
        let container: Document = .map([
            ("image", .string("registry.example.com/\(deployment.name):1.4.2")), ("name", .string("main")),
            ("ports", .list(deployment.ports.map { port in
                .map([("containerPort", .int(port.port)), ("name", .string(port.name)), ("protocol", .string(port.proto))])
            })),
        ])
        let labels: Document = .map(deployment.labels.map { ($0.0, .string($0.1)) })
        return Self.object("apps/v1", "Deployment", [
            ("metadata", metadata(deployment.name, namespace: deployment.namespace, kind: 17, index: deployment.index, labels: deployment.labels)),
            ("spec", .map([("replicas", .int(podIndices(deployment).count)), ("selector", .map([("matchLabels", labels)])),
                           ("template", .map([("metadata", .map([("labels", labels)])), ("spec", .map([("containers", .list([container]))]))]))])),
        ])
    }

    func endpointSlice(_ deployment: DeploymentPlan) -> Document {
        let endpoints: [Document] = podIndices(deployment).enumerated().map { replica, index in
            .map([
                ("addresses", .list([.string(plan.podIP(index))])),
                ("conditions", .map([("ready", .bool(true)), ("serving", .bool(true)), ("terminating", .bool(false))])),
                ("nodeName", .string(plan.nodeName(index))),
                ("targetRef", .map([("kind", .string("Pod")), ("name", .string(plan.podName(deployment, replica: replica))),
                                    ("namespace", .string(deployment.namespace))])),
            ])
        }
        return Self.object("discovery.k8s.io/v1", "EndpointSlice", [
            ("addressType", .string("IPv4")), ("endpoints", .list(endpoints)),
            ("metadata", metadata("\(deployment.name)-\(ClusterPlan.token(UInt64(deployment.index), length: 5))",
                                  namespace: deployment.namespace, kind: 14, index: deployment.index,
                                  labels: [("kubernetes.io/service-name", deployment.name)])),
            ("ports", .list([.map([("name", .string("http")), ("port", .int(8080)), ("protocol", .string("TCP"))])])),
        ])
    }

    func policy(_ q: Int) -> Document {
        var mode = PolicyFactory.Change.none
        if q == 1 && change.contains(.widenPolicy) { mode = .widen }
        if q == 6 && change.contains(.widenNamespaceWide) { mode = .widenNamespaceWide }
        let (namespace, name, spec) = PolicyFactory(plan: plan).spec(q, change: mode)
        return Self.object("networking.k8s.io/v1", "NetworkPolicy", [
            ("metadata", metadata(name, namespace: namespace, kind: 16, index: q)), ("spec", .map(spec)),
        ])
    }

    /// Every object: namespaces, nodes, then per Deployment its Service, EndpointSlice and Pods,
    /// then the NetworkPolicies.
    func forEachObject(_ body: (Document) -> Void) {
        for index in plan.namespaces.indices { body(namespace(index)) }
        for number in 1...ClusterPlan.nodeCount { body(node(number)) }
        for deployment in plan.deployments {
            if declared {
                body(declaredService(deployment))
                body(self.deployment(deployment))
                continue
            }
            body(service(deployment))
            body(endpointSlice(deployment))
            for (replica, index) in podIndices(deployment).enumerated() { body(pod(deployment, replica: replica, index: index)) }
        }
        for q in 0..<plan.scenario.policies { body(policy(q)) }
    }

    /// Writes the cluster as multi-document YAML; returns the byte count, nil on a write error.
    func write(to path: String) -> Int? {
        guard let sink = ByteSink(path: path) else { return nil }
        forEachObject { YAMLWriter.document($0, to: sink) }
        sink.flush()
        return sink.failed ? nil : sink.bytesWritten
    }
}
