extension ObjectDecoder {
    /// Top-level keys every kind with a spec shares; anything else is unknown.
    func checkTopLevel(_ keyNode: Int32) {
        switch name(keyNode) {
        case "apiVersion", "kind", "metadata", "spec", "status": break
        default: unknownField(keyNode)
        }
    }

    func decodeService() -> Service? {
        guard let meta = decodeMeta() else { return nil }
        var service = Service(meta: meta)
        var sessionAffinity = false
        var timeout = 10800
        for (keyNode, value) in entries(root) {
            switch key(keyNode) {
            case "spec":
                for (specKey, specValue) in entries(value) {
                    decodeServiceSpecField(specKey, specValue, into: &service, affinity: &sessionAffinity, timeout: &timeout)
                }
                decodeClusterIPs(spec: value, into: &service)
            case "status":
                decodeServiceStatus(value, into: &service)
            default:
                checkTopLevel(keyNode)
            }
        }
        if sessionAffinity { service.sessionAffinityTimeout = timeout }
        if service.loadBalancerSourceRanges.isEmpty {
            service.loadBalancerSourceRanges = sourceRangesAnnotation()
        }
        checkServicePorts(service)
        checkServiceShape(service)
        return service
    }

    /// Whole-Service rules of the API server's validation: ports are required unless the Service is
    /// headless or an ExternalName, and an ExternalName Service needs a DNS name.
    private func checkServiceShape(_ service: Service) {
        let spec = field(root, "spec") ?? root
        if service.type == .externalName {
            if (service.externalName ?? "").isEmpty { missing("externalName", in: spec) }
            return
        }
        guard service.ports.isEmpty, !service.isHeadless else { return }
        // A wrongly typed or invalid list was reported already; only absence and `[]` are left.
        let list = field(spec, "ports")
        if list.map({ tree.node($0).kind == .sequence && tree.node($0).end == $0 + 1 }) ?? true {
            missing("ports", in: spec)
        }
    }

    private func decodeServiceSpecField(_ keyNode: Int32, _ value: Int32, into service: inout Service,
                                        affinity: inout Bool, timeout: inout Int) {
        switch key(keyNode) {
        case "type":
            guard let text = string(value) else { return }
            if let type = Service.ServiceType(rawValue: text) { service.type = type }
            else { error(value, "unsupported value \(Validation.quoted(text)), must be ClusterIP, NodePort, LoadBalancer or ExternalName") }
        case "clusterIP", "clusterIPs":
            break  // decoded together once the spec is read
        case "selector":
            if isMapping(value) { service.selector = stringMap(value, as: .labels) }
        case "ports":
            service.ports = items(value).compactMap(decodeServicePort)
        case "externalIPs":
            service.externalIPs = items(value).compactMap(usableAddress)
        case "loadBalancerSourceRanges":
            service.loadBalancerSourceRanges = items(value).compactMap { item in
                string(item).flatMap { cidr($0.trimmingSpaces, at: item) }
            }
        case "externalTrafficPolicy":
            if let policy = trafficPolicy(value, legacy: true) { service.externalTrafficPolicy = policy }
        case "internalTrafficPolicy":
            if let policy = trafficPolicy(value, legacy: false) { service.internalTrafficPolicy = policy }
        case "sessionAffinity":
            guard let text = string(value) else { return }
            switch text {
            case "ClientIP": affinity = true
            case "None": affinity = false
            default: error(value, "unsupported value \(Validation.quoted(text)), must be None or ClientIP")
            }
        case "sessionAffinityConfig":
            if let seconds = affinityTimeout(value) { timeout = seconds }
        case "externalName":
            guard let name = string(value) else { return }
            // A trailing dot marks the name fully qualified, as the API server allows.
            let bare = name.hasSuffix(".") ? String(name.dropLast()) : name
            if !bare.isEmpty, let problem = Validation.dnsSubdomainProblem(bare) {
                error(value, "invalid externalName \(Validation.quoted(name)): \(problem)")
                return
            }
            service.externalName = name
        case "publishNotReadyAddresses":
            service.publishNotReadyAddresses = bool(value) ?? false
        case "loadBalancerIP", "healthCheckNodePort", "ipFamilies", "ipFamilyPolicy",
             "allocateLoadBalancerNodePorts", "loadBalancerClass", "trafficDistribution":
            break
        default:
            unknownField(keyNode)
        }
    }

    /// `clusterIP` and `clusterIPs` as the API server checks them: each a valid address (or `None`
    /// first, for a headless Service), at most one per family, and `clusterIP` equal to
    /// `clusterIPs[0]` when both are given. An empty `clusterIP` means "not allocated yet".
    private func decodeClusterIPs(spec: Int32, into service: inout Service) {
        let single = field(spec, "clusterIP").flatMap { node in string(node).map { (node, $0) } }
        if let (node, text) = single, !text.isEmpty, text != "None", IPAddress(text) == nil {
            error(node, "invalid IP address \(Validation.quoted(text))")
        }
        guard let listNode = field(spec, "clusterIPs"), !Array(items(listNode)).isEmpty else {
            if let (node, text) = single { assignClusterIPs([(node, text)], into: &service) }
            return
        }
        let list = items(listNode).compactMap { node in string(node).map { (node, $0) } }
        if let (node, text) = single, !text.isEmpty, text != list.first?.1 {
            error(node, "\(Validation.quoted(text)) must match the first value of clusterIPs")
        }
        for (index, (node, text)) in list.enumerated() where IPAddress(text) == nil && (text != "None" || index > 0) {
            error(node, "invalid IP address \(Validation.quoted(text))")
        }
        assignClusterIPs(list.filter { !$0.1.isEmpty }, into: &service)
        if list.count > 2 { error(listNode, "may hold at most two addresses, one per family") }
        if service.clusterIPs.count == 2, service.clusterIPs[0].family == service.clusterIPs[1].family {
            error(listNode, "the two addresses must be of different families")
        }
    }

    /// Keeps the valid addresses (the invalid ones were reported) and notes `None`.
    private func assignClusterIPs(_ values: [(Int32, String)], into service: inout Service) {
        service.clusterIPs = []
        for (_, text) in values where !text.isEmpty {
            if text == "None" {
                service.isHeadless = true
            } else if let address = IPAddress(text) {
                service.clusterIPs.append(address)
            }
        }
        if service.isHeadless { service.clusterIPs = [] }
    }

    /// An endpoint address or external IP: a valid address the API server would accept there.
    func usableAddress(_ node: Int32) -> IPAddress? {
        guard let address = ip(node) else { return nil }
        if let problem = Validation.specialAddressProblem(address) {
            error(node, "\(address) \(problem)")
            return nil
        }
        return address
    }

    private func trafficPolicy(_ node: Int32, legacy: Bool) -> Service.TrafficPolicy? {
        guard let text = string(node) else { return nil }
        switch text {
        case "Cluster": return .cluster
        case "Local": return .local
        case "Global" where legacy: return .cluster
        case "OnlyLocal" where legacy: return .local
        default:
            error(node, "unsupported value \(Validation.quoted(text)), must be Cluster or Local")
            return nil
        }
    }

    private func affinityTimeout(_ node: Int32) -> Int? {
        guard isMapping(node), let clientIP = field(node, "clientIP") else { return nil }
        guard isMapping(clientIP), let seconds = field(clientIP, "timeoutSeconds") else { return nil }
        guard let value = int(seconds) else { return nil }
        guard (1...86400).contains(value) else {
            error(seconds, "must be between 1 and 86400, got \(value)")
            return nil
        }
        return value
    }

    private func decodeServicePort(_ node: Int32) -> ServicePort? {
        guard isMapping(node) else { return nil }
        var servicePort = ServicePort(port: 0, location: tree.location(node))
        var targetPort: PortReference?
        var valid = true
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "name":
                servicePort.name = string(value) ?? ""
                if !servicePort.name.isEmpty, let problem = Validation.dnsLabelProblem(servicePort.name) {
                    error(value, "invalid port name \(Validation.quoted(servicePort.name)): \(problem)")
                    valid = false
                }
            case "protocol":
                if let proto = l4Protocol(value) { servicePort.protocol = proto } else { valid = false }
            case "port":
                if let number = port(value) { servicePort.port = number } else { valid = false }
            case "targetPort":
                // 0 and "" mean "same as port", as the API server defaults them.
                if tree.integer(value) == 0 || (tree.scalarType(value) == .string && tree.node(value).length == 0) { break }
                targetPort = portReference(value)
            case "nodePort":
                if tree.integer(value) == 0 { break }
                servicePort.nodePort = nodePort(value)
            case "appProtocol":
                checkString(value)
            default:
                unknownField(keyNode)
            }
        }
        if servicePort.port == 0 {
            if valid { missing("port", in: node) }
            return nil
        }
        servicePort.targetPort = targetPort ?? .number(servicePort.port)
        return valid ? servicePort : nil
    }

    private func nodePort(_ node: Int32) -> UInt16? {
        guard let number = port(node) else { return nil }
        let range = options.nodePortRange
        guard range.contains(number) else {
            error(node, "nodePort \(number) outside the range \(range.lowerBound)-\(range.upperBound)")
            return nil
        }
        return number
    }

    /// Cross-port rules: unique port+protocol, unique names, names required with several ports,
    /// and nodePorts only on NodePort and LoadBalancer services.
    private func checkServicePorts(_ service: Service) {
        guard let spec = tree.value(root, "spec"), let list = tree.value(spec, "ports"),
              tree.node(list).kind == .sequence else { return }
        let nodes = Array(tree.children(list))
        // Each decoded port finds its item by location in one lookup, keeping this linear in ports.
        var indexByLocation: [SourceLocation: Int] = [:]
        indexByLocation.reserveCapacity(nodes.count)
        for (index, node) in nodes.enumerated() where indexByLocation[tree.location(node)] == nil {
            indexByLocation[tree.location(node)] = index
        }
        var seenPorts: [String: Int] = [:]
        var seenNames: [String: Int] = [:]
        for port in service.ports {
            guard let index = indexByLocation[port.location] else { continue }
            let node = nodes[index]
            // Paths are spelled out: looking each one up from the root would make this quadratic.
            let path = "spec.ports[\(index)]"
            let key = "\(port.port)/\(port.protocol.rawValue)"
            if let first = seenPorts[key] {
                report(.error, field: path + ".port", at: tree.value(node, "port") ?? node, "duplicate port \(key), also spec.ports[\(first)]")
            } else {
                seenPorts[key] = index
            }
            if port.name.isEmpty {
                if nodes.count > 1 { report(.error, field: path + ".name", at: node, "is required") }
            } else if let first = seenNames[port.name] {
                report(.error, field: path + ".name", at: tree.value(node, "name") ?? node,
                       "duplicate port name \"\(port.name)\", also spec.ports[\(first)]")
            } else {
                seenNames[port.name] = index
            }
            if port.nodePort != nil, service.type == .clusterIP || service.type == .externalName,
               let nodePortNode = tree.value(node, "nodePort") {
                report(.error, field: path + ".nodePort", at: nodePortNode, "may not be used when type is \(service.type.rawValue)")
            }
        }
    }

    private func decodeServiceStatus(_ node: Int32, into service: inout Service) {
        guard isMapping(node), let balancer = field(node, "loadBalancer"), isMapping(balancer),
              let ingress = field(balancer, "ingress") else { return }
        for item in items(ingress) where isMapping(item) {
            if let mode = field(item, "ipMode"), string(mode) == "Proxy" { continue }
            guard let ipNode = field(item, "ip") else { continue }
            if let address = ip(ipNode) { service.loadBalancerIngressIPs.append(address) }
        }
    }

    /// `service.beta.kubernetes.io/load-balancer-source-ranges`, used when the field is empty.
    private func sourceRangesAnnotation() -> [CIDR] {
        guard let metadata = field(root, "metadata"), tree.node(metadata).kind == .mapping,
              let annotations = field(metadata, "annotations"), tree.node(annotations).kind == .mapping,
              let node = field(annotations, "service.beta.kubernetes.io/load-balancer-source-ranges"),
              tree.scalarType(node) == .string else { return [] }
        return tree.string(node).split(separator: ",").compactMap { part in
            let text = String(part).trimmingSpaces
            return text.isEmpty ? nil : cidr(text, at: node)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(self[first...last])
    }
}
