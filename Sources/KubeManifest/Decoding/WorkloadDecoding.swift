extension ObjectDecoder {
    func decodePod() -> Pod? {
        guard let meta = decodeMeta() else { return nil }
        var pod = Pod(meta: meta)
        var podIP: IPAddress?
        for (keyNode, value) in entries(root) {
            switch name(keyNode) {
            case "spec":
                decodePodSpec(value, into: &pod)
            case "status":
                for (statusKey, statusValue) in entries(value) {
                    switch name(statusKey) {
                    case "phase": pod.phase = string(statusValue)
                    case "podIP": podIP = tree.node(statusValue).length == 0 ? nil : ip(statusValue)
                    case "podIPs":
                        for item in items(statusValue) where isMapping(item) {
                            guard let node = field(item, "ip") else { missing("ip", in: item); continue }
                            if let address = ip(node) { pod.podIPs.append(address) }
                        }
                    default: break
                    }
                }
            default:
                checkTopLevel(keyNode)
            }
        }
        if pod.podIPs.isEmpty, let podIP { pod.podIPs = [podIP] }
        pod.controllerBox = podController()
        pod.containerPorts = sink.values.ports(pod.containerPorts)
        return pod
    }

    /// The Pod's controller, boxed once per part. The Pods of one ReplicaSet repeat its
    /// `ownerReferences`, which decode (in one namespace) to the same reference every time
    /// they decode without a problem, so that reference is reused as `memoized` does.
    private func podController() -> Boxed<ObjectReference>? {
        let decode = { sink.values.controller(sink.values.reference(controllerReference())) }
        guard let metadata = field(root, "metadata"), tree.node(metadata).kind == .mapping,
              let list = field(metadata, "ownerReferences") else { return decode() }
        let cache = sink.values.controllers, tag: UInt8 = 4
        let hash = tree.signatureHash(of: list, tag: tag)
        let namespace = namespace
        if let known = cache.value(of: list, tag: tag, in: tree, hash: hash, where: { $0.namespace == namespace }) {
            return known.controller
        }
        let reported = sink.diagnostics.count
        let controller = decode()
        if sink.diagnostics.count == reported { cache.store((namespace, controller), of: list, tag: tag, in: tree, hash: hash) }
        return controller
    }

    /// Containers' ports first, then sidecars', whatever order the keys come in. Pod templates of
    /// workloads are decoded here too.
    func decodePodSpec(_ node: Int32, into pod: inout Pod) {
        var sidecarPorts: [Pod.ContainerPort] = []
        defer { if !sidecarPorts.isEmpty { pod.containerPorts += sidecarPorts } }
        for (keyNode, value) in entries(node) {
            let field = name(keyNode)
            switch field {
            case "nodeName":
                pod.nodeName = nodeName(value)
            case "hostNetwork":
                pod.hostNetwork = bool(value) ?? false
            case "hostname", "subdomain":
                let name = key(keyNode)
                guard let text = string(value), !text.isEmpty else { continue }
                if let problem = Validation.dnsLabelProblem(text) {
                    error(value, "invalid \(name) \(Validation.quoted(text)): \(problem)")
                    continue
                }
                var naming = pod.naming ?? PodNaming()
                if name == "hostname" { naming.hostname = text } else { naming.subdomain = text }
                pod.naming = naming
            case "containers":
                let ports = memoized(value, tag: 2, in: sink.values.containerPorts) {
                    items(value).flatMap { containerPorts($0, initContainer: false) }
                }
                // Taken as it is when it is the first list (keeping the storage it shares).
                if pod.containerPorts.isEmpty { pod.containerPorts = ports } else { pod.containerPorts += ports }
            case "initContainers":
                sidecarPorts += memoized(value, tag: 3, in: sink.values.containerPorts) {
                    items(value).flatMap { containerPorts($0, initContainer: true) }
                }
            default:
                if !PodFields.spec.contains(field) { unknownField(keyNode) }
            }
        }
    }

    /// Ports of a container; init containers only count when they are sidecars (`restartPolicy: Always`),
    /// because only those keep running and can serve.
    private func containerPorts(_ node: Int32, initContainer: Bool) -> [Pod.ContainerPort] {
        guard isMapping(node) else { return [] }
        var ports: [Pod.ContainerPort] = []
        var sidecar = false
        for (keyNode, value) in entries(node) {
            let field = name(keyNode)
            switch field {
            case "ports":
                ports = items(value).compactMap(containerPort)
            case "restartPolicy":
                sidecar = string(value) == "Always"
            default:
                if !PodFields.container.contains(field) { unknownField(keyNode) }
            }
        }
        return !initContainer || sidecar ? ports : []
    }

    private func containerPort(_ node: Int32) -> Pod.ContainerPort? {
        guard isMapping(node) else { return nil }
        var port = Pod.ContainerPort(port: 0)
        var valid = true
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "containerPort":
                if let number = self.port(value) { port.port = number } else { valid = false }
            case "name":
                port.name = string(value) ?? ""
                if !port.name.isEmpty, let problem = Validation.ianaServiceNameProblem(port.name) {
                    error(value, "invalid port name \(Validation.quoted(port.name)): \(problem)")
                    valid = false
                }
            case "protocol":
                if let proto = l4Protocol(value) { port.protocol = proto } else { valid = false }
            case "hostPort":
                if tree.integer(value) != 0 { valid = self.port(value) != nil && valid }
            case "hostIP":
                checkString(value)
            default:
                unknownField(keyNode)
            }
        }
        if port.port == 0, valid { missing("containerPort", in: node); return nil }
        return valid ? port : nil
    }

    func decodeNamespace() -> Namespace? {
        guard var meta = decodeMeta() else { return nil }
        for (keyNode, _) in entries(root) { checkTopLevel(keyNode) }
        // The API server always sets this label; NetworkPolicies select namespaces by it.
        meta.labels["kubernetes.io/metadata.name"] = meta.name
        return Namespace(meta: meta)
    }

    func decodeNode() -> Node? {
        guard let meta = decodeMeta() else { return nil }
        var node = Node(meta: meta)
        var singleCIDR: CIDR?
        for (keyNode, value) in entries(root) {
            switch key(keyNode) {
            case "spec":
                for (specKey, specValue) in entries(value) {
                    switch key(specKey) {
                    case "podCIDRs": node.podCIDRs = cidrs(specValue)
                    case "podCIDR": singleCIDR = tree.node(specValue).length == 0 ? nil : cidr(specValue)
                    case "providerID", "unschedulable", "taints", "configSource", "externalID": break
                    default: unknownField(specKey)
                    }
                }
            case "status":
                if isMapping(value), let addresses = field(value, "addresses") { node.addresses = nodeAddresses(addresses) }
            default:
                checkTopLevel(keyNode)
            }
        }
        if node.podCIDRs.isEmpty, let singleCIDR { node.podCIDRs = [singleCIDR] }
        return node
    }

    /// InternalIPs first, then ExternalIPs, each in order: kube-proxy takes the node's primary
    /// address per family from the first InternalIP, else the first ExternalIP.
    private func nodeAddresses(_ node: Int32) -> [IPAddress] {
        var result: [IPAddress] = []
        var external: [IPAddress] = []
        for item in items(node) where isMapping(item) {
            guard let typeNode = field(item, "type"), let type = string(typeNode), !type.isEmpty else {
                missing("type", in: item)
                continue
            }
            guard let addressNode = field(item, "address") else { missing("address", in: item); continue }
            guard type == "InternalIP" || type == "ExternalIP" else { continue }
            if let address = ip(addressNode) {
                if type == "InternalIP" { result.append(address) } else { external.append(address) }
            }
        }
        return result + external
    }
}

/// Fields of PodSpec and Container kubenft does not need but must not flag in strict mode.
enum PodFields {
    static let spec = KeyNames([
        "activeDeadlineSeconds", "affinity", "automountServiceAccountToken", "dnsConfig", "dnsPolicy",
        "enableServiceLinks", "ephemeralContainers", "hostAliases", "hostIPC", "hostPID", "hostUsers", "hostname",
        "hostnameOverride", "imagePullSecrets", "nodeSelector", "os", "overhead", "preemptionPolicy", "priority",
        "priorityClassName", "readinessGates", "resourceClaims", "resources", "restartPolicy", "runtimeClassName",
        "schedulerName", "schedulingGates", "securityContext", "serviceAccount", "serviceAccountName",
        "setHostnameAsFQDN", "shareProcessNamespace", "subdomain", "terminationGracePeriodSeconds", "tolerations",
        "topologySpreadConstraints", "volumes",
    ])
    static let container = KeyNames([
        "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "name",
        "readinessProbe", "resizePolicy", "resources", "restartPolicyRules", "securityContext", "startupProbe",
        "stdin", "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices",
        "volumeMounts", "workingDir",
    ])
}
