/// Builds the synthetic cluster's objects with the fields `kubectl get -o yaml` shows for them,
/// including the bookkeeping noise (uid, resourceVersion, managedFields-free metadata, status).
struct ObjectFactory {
    static let timestamp = "2024-05-14T09:12:44Z"
    let plan: ClusterPlan

    private func metadata(name: String, namespace: String?, uidKind: UInt64, index: Int,
                          extra: [(String, Document)] = []) -> Document {
        var entries: [(String, Document)] = [
            ("creationTimestamp", .string(Self.timestamp)),
            ("name", .string(name)),
            ("resourceVersion", .string(String(400_000 + Int(ClusterPlan.mix(uidKind ^ UInt64(index)) % 500_000)))),
            ("uid", .string(ClusterPlan.uid(uidKind, index))),
        ]
        if let namespace { entries.append(("namespace", .string(namespace))) }
        return .map(entries + extra)
    }

    func namespace(_ index: Int) -> Document {
        let name = ClusterPlan.namespace(index)
        return .map([
            ("apiVersion", .string("v1")), ("kind", .string("Namespace")),
            ("metadata", metadata(name: name, namespace: nil, uidKind: 1, index: index,
                                  extra: [("labels", .map([("kubernetes.io/metadata.name", .string(name))]))])),
            ("spec", .map([("finalizers", .list([.string("kubernetes")]))])),
            ("status", .map([("phase", .string("Active"))])),
        ])
    }

    func node() -> Document {
        let name = ClusterPlan.nodeName
        let labels: Document = .map([
            ("kubernetes.io/arch", .string("amd64")), ("kubernetes.io/hostname", .string(name)),
            ("kubernetes.io/os", .string("linux")),
        ])
        let status: Document = .map([
            ("addresses", .list([
                .map([("address", .string(ClusterPlan.nodeIP)), ("type", .string("InternalIP"))]),
                .map([("address", .string(name)), ("type", .string("Hostname"))]),
            ])),
            ("conditions", .list([condition("Ready", reason: "KubeletReady")])),
            ("daemonEndpoints", .map([("kubeletEndpoint", .map([("Port", .int(10250))]))])),
            ("nodeInfo", .map([
                ("architecture", .string("amd64")), ("containerRuntimeVersion", .string("containerd://1.7.13")),
                ("kernelVersion", .string("6.1.0-21-amd64")), ("kubeletVersion", .string("v1.31.2")),
                ("operatingSystem", .string("linux")), ("osImage", .string("Debian GNU/Linux 12 (bookworm)")),
            ])),
        ])
        return .map([
            ("apiVersion", .string("v1")), ("kind", .string("Node")),
            ("metadata", metadata(name: name, namespace: nil, uidKind: 2, index: 0, extra: [("labels", labels)])),
            ("spec", .map([("podCIDR", .string("10.128.0.0/24")), ("podCIDRs", .list([.string("10.128.0.0/24")]))])),
            ("status", status),
        ])
    }

    private func condition(_ type: String, reason: String? = nil) -> Document {
        var entries: [(String, Document)] = [
            ("lastTransitionTime", .string(Self.timestamp)), ("status", .string("True")), ("type", .string(type)),
        ]
        if let reason { entries.append(("reason", .string(reason))) }
        return .map(entries)
    }

    func service(_ service: ServicePlan) -> Document {
        var spec: [(String, Document)] = [
            ("clusterIP", .string(service.clusterIP)), ("clusterIPs", .list([.string(service.clusterIP)])),
            ("internalTrafficPolicy", .string("Cluster")), ("ipFamilies", .list([.string("IPv4")])),
            ("ipFamilyPolicy", .string("SingleStack")), ("selector", .map([("app", .string(service.name))])),
            ("sessionAffinity", .string("None")), ("type", .string(service.kind.rawValue)),
        ]
        spec.append(("ports", .list(service.ports.map { port in
            var entries: [(String, Document)] = [
                ("name", .string(port.name)), ("port", .int(port.port)), ("protocol", .string("TCP")),
                ("targetPort", port.targetPort),
            ]
            if let nodePort = port.nodePort { entries.append(("nodePort", .int(nodePort))) }
            return .map(entries)
        })))
        var loadBalancer: Document = .map([])
        if service.kind != .clusterIP { spec.append(("externalTrafficPolicy", .string("Cluster"))) }
        if let ip = service.loadBalancerIP {
            spec.append(("allocateLoadBalancerNodePorts", .bool(true)))
            loadBalancer = .map([("ingress", .list([.map([("ip", .string(ip)), ("ipMode", .string("VIP"))])]))])
        }
        return .map([
            ("apiVersion", .string("v1")), ("kind", .string("Service")),
            ("metadata", metadata(name: service.name, namespace: service.namespace, uidKind: 3, index: service.index,
                                  extra: [("labels", .map([("app", .string(service.name))]))])),
            ("spec", .map(spec)),
            ("status", .map([("loadBalancer", loadBalancer)])),
        ])
    }

    func endpointSlice(_ service: ServicePlan) -> Document {
        let endpoints: [Document] = (0..<plan.scenario.endpoints).map { slot in
            .map([
                ("addresses", .list([.string(plan.podIP(service: service.index, endpoint: slot))])),
                ("conditions", .map([("ready", .bool(true)), ("serving", .bool(true)), ("terminating", .bool(false))])),
                ("nodeName", .string(plan.nodeName(service: service.index, endpoint: slot))),
                ("targetRef", .map([
                    ("kind", .string("Pod")), ("name", .string(plan.podName(service, endpoint: slot))),
                    ("namespace", .string(service.namespace)),
                    ("uid", .string(ClusterPlan.uid(5, service.index * plan.scenario.endpoints + slot))),
                ])),
            ])
        }
        let owner: Document = .map([
            ("apiVersion", .string("v1")), ("blockOwnerDeletion", .bool(true)), ("controller", .bool(true)),
            ("kind", .string("Service")), ("name", .string(service.name)), ("uid", .string(ClusterPlan.uid(3, service.index))),
        ])
        let name = "\(service.name)-\(ClusterPlan.token(UInt64(service.index) ^ 0xABCDEF, length: 5))"
        let extra: [(String, Document)] = [
            ("annotations", .map([("endpoints.kubernetes.io/last-change-trigger-time", .string(Self.timestamp))])),
            ("generateName", .string("\(service.name)-")),
            ("labels", .map([
                ("endpointslice.kubernetes.io/managed-by", .string("endpointslice-controller.k8s.io")),
                ("kubernetes.io/service-name", .string(service.name)),
            ])),
            ("ownerReferences", .list([owner])),
        ]
        return .map([
            ("addressType", .string("IPv4")), ("apiVersion", .string("discovery.k8s.io/v1")),
            ("endpoints", .list(endpoints)), ("kind", .string("EndpointSlice")),
            ("metadata", metadata(name: name, namespace: service.namespace, uidKind: 4, index: service.index, extra: extra)),
            ("ports", .list(service.ports.map { port in
                .map([("name", .string(port.name)), ("port", .int(port.containerPort)), ("protocol", .string("TCP"))])
            })),
        ])
    }

    func pod(_ service: ServicePlan, endpoint slot: Int) -> Document {
        let ip = plan.podIP(service: service.index, endpoint: slot)
        let index = service.index * plan.scenario.endpoints + slot
        let container: Document = .map([
            ("image", .string("registry.example.com/\(service.name):v1.4.2")), ("imagePullPolicy", .string("IfNotPresent")),
            ("name", .string("main")),
            ("ports", .list(service.ports.map { port in
                .map([("containerPort", .int(port.containerPort)), ("name", .string(port.name)), ("protocol", .string("TCP"))])
            })),
            ("resources", .map([])), ("terminationMessagePath", .string("/dev/termination-log")),
            ("terminationMessagePolicy", .string("File")),
        ])
        let spec: Document = .map([
            ("containers", .list([container])), ("dnsPolicy", .string("ClusterFirst")),
            ("enableServiceLinks", .bool(true)), ("nodeName", .string(plan.nodeName(service: service.index, endpoint: slot))),
            ("restartPolicy", .string("Always")), ("schedulerName", .string("default-scheduler")),
            ("securityContext", .map([])), ("serviceAccountName", .string("default")),
            ("terminationGracePeriodSeconds", .int(30)),
        ])
        let status: Document = .map([
            ("conditions", .list([condition("Initialized"), condition("Ready"), condition("ContainersReady"), condition("PodScheduled")])),
            ("hostIP", .string(ClusterPlan.nodeIP)), ("phase", .string("Running")),
            ("podIP", .string(ip)), ("podIPs", .list([.map([("ip", .string(ip))])])),
            ("qosClass", .string("BestEffort")), ("startTime", .string(Self.timestamp)),
        ])
        let owner: Document = .map([
            ("apiVersion", .string("apps/v1")), ("blockOwnerDeletion", .bool(true)), ("controller", .bool(true)),
            ("kind", .string("ReplicaSet")), ("name", .string("\(service.name)-\(service.templateHash)")),
            ("uid", .string(ClusterPlan.uid(6, service.index))),
        ])
        let extra: [(String, Document)] = [
            ("generateName", .string("\(service.name)-\(service.templateHash)-")),
            ("labels", .map([("app", .string(service.name)), ("pod-template-hash", .string(service.templateHash))])),
            ("ownerReferences", .list([owner])),
        ]
        return .map([
            ("apiVersion", .string("v1")), ("kind", .string("Pod")),
            ("metadata", metadata(name: plan.podName(service, endpoint: slot), namespace: service.namespace,
                                  uidKind: 5, index: index, extra: extra)),
            ("spec", spec), ("status", status),
        ])
    }

    /// Every object of the cluster in `kubectl get` order: namespaces, the node, then per service
    /// the Service, its EndpointSlice and its Pods.
    func forEachObject(_ body: (Document) -> Void) {
        for index in 0..<plan.scenario.namespaces { body(namespace(index)) }
        body(node())
        for service in plan.services {
            body(self.service(service))
            body(endpointSlice(service))
            if plan.scenario.pods {
                for slot in 0..<plan.scenario.endpoints { body(pod(service, endpoint: slot)) }
            }
        }
    }
}

/// Writes a synthetic cluster to disk as multi-document YAML and as one `kind: List` JSON document.
enum ClusterWriter {
    enum Format: String, Codable, CaseIterable { case yaml, json }

    /// Writes the cluster in `format` to `path`; returns the byte count, nil on a write error.
    static func write(_ plan: ClusterPlan, format: Format, to path: String) -> Int? {
        guard let sink = ByteSink(path: path) else { return nil }
        let factory = ObjectFactory(plan: plan)
        switch format {
        case .yaml:
            factory.forEachObject { YAMLWriter.document($0, to: sink) }
        case .json:
            sink.write("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")
            var first = true
            factory.forEachObject { object in
                if !first { sink.write(",\n") }
                first = false
                sink.spaces(8)
                JSONWriter.value(object, indent: 8, to: sink)
            }
            sink.write("\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n")
        }
        sink.flush()
        return sink.failed ? nil : sink.bytesWritten
    }
}
