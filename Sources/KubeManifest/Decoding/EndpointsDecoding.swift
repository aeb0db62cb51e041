extension ObjectDecoder {
    func decodeEndpointSlice() -> EndpointSlice? {
        guard let meta = decodeMeta() else { return nil }
        var addressType: EndpointSlice.AddressType?
        var endpointsNode: Int32?
        var ports: [EndpointSlice.Port] = []
        for (keyNode, value) in entries(root) {
            switch name(keyNode) {
            case "addressType":
                guard let text = string(value) else { continue }
                addressType = EndpointSlice.AddressType(rawValue: text)
                if addressType == nil { error(value, "unsupported value \(Validation.quoted(text)), must be IPv4, IPv6 or FQDN") }
            case "endpoints":
                endpointsNode = value
            case "ports":
                ports = items(value).compactMap { endpointPort($0, portMayBeNull: true) }
            case "apiVersion", "kind", "metadata":
                break
            default:
                unknownField(keyNode)
            }
        }
        guard let addressType else {
            if field(root, "addressType") == nil { missing("addressType", in: root) }
            return nil
        }
        let endpoints = endpointsNode.map { node in
            items(node).compactMap { sliceEndpoint($0, addressType: addressType) }
        } ?? []
        let serviceName = meta.labels[Self.serviceNameLabel].flatMap { $0.isEmpty ? nil : $0 }
        if serviceName == nil {
            // kube-proxy skips such a slice (its cache has no Service to file it under): say so
            // rather than drop its endpoints silently.
            report(options.strict ? .error : .warning, field: "metadata.labels[\(Self.serviceNameLabel)]", at: field(root, "metadata") ?? root,
                   "missing or empty: the slice belongs to no Service, and its endpoints are not used")
        }
        return EndpointSlice(meta: meta, serviceName: serviceName, addressType: addressType, endpoints: endpoints, ports: ports)
    }

    /// The label naming the Service a slice belongs to.
    static var serviceNameLabel: String { "kubernetes.io/service-name" }

    /// One `endpoints[]` entry. FQDN slices keep their conditions but no addresses, since
    /// kube-proxy does not program FQDN endpoints.
    private func sliceEndpoint(_ node: Int32, addressType: EndpointSlice.AddressType) -> EndpointSlice.Endpoint? {
        guard isMapping(node) else { return nil }
        var endpoint = EndpointSlice.Endpoint(addresses: [])
        var sawAddresses = false
        for (keyNode, value) in entries(node) {
            switch name(keyNode) {
            case "addresses":
                sawAddresses = items(value).contains { _ in true }
                guard addressType != .fqdn else { _ = strings(value); continue }
                for item in items(value) {
                    guard let address = usableAddress(item) else { continue }
                    if address.family.rawValue != addressType.rawValue {
                        error(item, "address \(address) does not match addressType \(addressType.rawValue)")
                    } else {
                        endpoint.addresses.append(address)
                    }
                }
            case "conditions":
                for (conditionKey, conditionValue) in entries(value) {
                    switch name(conditionKey) {
                    case "ready": endpoint.ready = bool(conditionValue)
                    case "serving": endpoint.serving = bool(conditionValue)
                    case "terminating": endpoint.terminating = bool(conditionValue)
                    default: unknownField(conditionKey)
                    }
                }
            case "nodeName":
                endpoint.nodeName = nodeName(value)
            case "targetRef":
                endpoint.targetRef = objectReference(value)
            case "hints":
                (endpoint.zoneHints, endpoint.nodeHints) = topologyHints(value)
            case "hostname":
                if let text = string(value), !text.isEmpty {
                    if let problem = Validation.dnsLabelProblem(text) {
                        error(value, "invalid hostname \(Validation.quoted(text)): \(problem)")
                    } else {
                        endpoint.hostname = text
                    }
                }
            case "zone", "deprecatedTopology":
                break
            default:
                unknownField(keyNode)
            }
        }
        if !sawAddresses { missing("addresses", in: node) }
        return endpoint
    }

    /// `hints`: `forZones` and `forNodes`, each a list of `{name}`.
    private func topologyHints(_ node: Int32) -> (zones: [String], nodes: [String]) {
        var zones: [String] = [], nodes: [String] = []
        for (keyNode, value) in entries(node) {
            switch name(keyNode) {
            case "forZones": zones = hintNames(value, rule: Validation.labelValueProblem)
            case "forNodes": nodes = hintNames(value, rule: Validation.dnsSubdomainProblem)
            default: unknownField(keyNode)
            }
        }
        return (zones, nodes)
    }

    private func hintNames(_ list: Int32, rule: (String) -> String?) -> [String] {
        var names: [String] = []
        for item in items(list) where isMapping(item) {
            guard let nameNode = field(item, "name"), let name = string(nameNode), !name.isEmpty else {
                missing("name", in: item)
                continue
            }
            if let problem = rule(name) {
                error(nameNode, "invalid name \(Validation.quoted(name)): \(problem)")
                continue
            }
            names.append(name)
        }
        return names
    }

    /// A `ports[]` entry of an EndpointSlice or an Endpoints subset.
    private func endpointPort(_ node: Int32, portMayBeNull: Bool) -> EndpointSlice.Port? {
        guard isMapping(node) else { return nil }
        var port = EndpointSlice.Port(port: nil)
        var valid = true
        var sawPort = false
        for (keyNode, value) in entries(node) {
            switch name(keyNode) {
            case "name":
                port.name = string(value) ?? ""
                if !port.name.isEmpty, let problem = Validation.dnsLabelProblem(port.name) {
                    error(value, "invalid port name \(Validation.quoted(port.name)): \(problem)")
                    valid = false
                }
            case "protocol":
                if let proto = l4Protocol(value) { port.protocol = proto } else { valid = false }
            case "port":
                sawPort = true
                port.port = self.port(value)
                valid = valid && port.port != nil
            case "appProtocol":
                checkString(value)
            default:
                unknownField(keyNode)
            }
        }
        if !portMayBeNull, !sawPort { missing("port", in: node); return nil }
        return valid ? port : nil
    }

    /// A node name: a DNS subdomain, as the API server requires of Node names.
    func nodeName(_ node: Int32) -> String? {
        guard let name = string(node), !name.isEmpty else { return nil }
        if let problem = Validation.dnsSubdomainProblem(name) {
            error(node, "invalid node name \(Validation.quoted(name)): \(problem)")
            return nil
        }
        return sink.values.string(name)
    }

    private func objectReference(_ node: Int32) -> ObjectReference? {
        guard isMapping(node) else { return nil }
        var reference = ObjectReference(kind: "", namespace: namespace, name: "")
        for (keyNode, value) in entries(node) {
            switch name(keyNode) {
            case "kind": reference.kind = referenceText(value) { Validation.displayTextProblem($0, maximumBytes: 63) } ?? ""
            case "namespace": reference.namespace = referenceText(value, Validation.dnsLabelProblem) ?? namespace
            case "name": reference.name = referenceText(value, Validation.dnsSubdomainProblem) ?? ""
            case "uid", "apiVersion", "resourceVersion", "fieldPath": checkString(value)
            default: unknownField(keyNode)
            }
        }
        return sink.values.targetReference(reference)
    }

    /// A `targetRef` field: empty, or valid by the rule for what it names (a kind is checked only for
    /// having no control characters and a sane length).
    private func referenceText(_ node: Int32, _ rule: (String) -> String?) -> String? {
        guard let text = string(node), !text.isEmpty else { return nil }
        if let problem = rule(text) {
            error(node, "invalid value \(Validation.quoted(text)): \(problem)")
            return nil
        }
        return text
    }

    func decodeEndpoints() -> Endpoints? {
        guard let meta = decodeMeta() else { return nil }
        var subsets: [Endpoints.Subset] = []
        for (keyNode, value) in entries(root) {
            switch name(keyNode) {
            case "subsets":
                subsets = items(value).compactMap(endpointSubset)
            case "apiVersion", "kind", "metadata":
                break
            default:
                unknownField(keyNode)
            }
        }
        return Endpoints(meta: meta, subsets: subsets)
    }

    private func endpointSubset(_ node: Int32) -> Endpoints.Subset? {
        guard isMapping(node) else { return nil }
        var subset = Endpoints.Subset(addresses: [], ports: [])
        for (keyNode, value) in entries(node) {
            switch name(keyNode) {
            case "addresses": subset.addresses = items(value).compactMap(endpointAddress)
            case "notReadyAddresses": subset.notReadyAddresses = items(value).compactMap(endpointAddress)
            case "ports": subset.ports = items(value).compactMap { endpointPort($0, portMayBeNull: false) }
            default: unknownField(keyNode)
            }
        }
        return subset
    }

    private func endpointAddress(_ node: Int32) -> Endpoints.Address? {
        guard isMapping(node) else { return nil }
        var address: IPAddress?
        var nodeName: String?
        var reference: ObjectReference?
        var hostname: String?
        for (keyNode, value) in entries(node) {
            switch name(keyNode) {
            case "ip": address = usableAddress(value)
            case "nodeName": nodeName = self.nodeName(value)
            case "targetRef": reference = objectReference(value)
            case "hostname":
                if let text = string(value), !text.isEmpty {
                    if let problem = Validation.dnsLabelProblem(text) {
                        error(value, "invalid hostname \(Validation.quoted(text)): \(problem)")
                    } else {
                        hostname = text
                    }
                }
            default: unknownField(keyNode)
            }
        }
        if field(node, "ip") == nil { missing("ip", in: node) }
        return address.map { Endpoints.Address(ip: $0, nodeName: nodeName, targetRef: reference, hostname: hostname) }
    }
}
