extension ObjectDecoder {
    func decodeNetworkPolicy() -> NetworkPolicy? {
        guard let meta = decodeMeta() else { return nil }
        var policy = NetworkPolicy(meta: meta)
        for (keyNode, value) in tree.entries(root) {
            guard key(keyNode) == "spec" else { checkTopLevel(keyNode); continue }
            for (specKey, specValue) in entries(value) {
                switch key(specKey) {
                case "podSelector":
                    policy.podSelector = labelSelector(specValue)
                case "policyTypes":
                    guard isSequence(specValue) else { continue }
                    policy.policyTypes = tree.children(specValue).compactMap(policyType)
                case "ingress":
                    guard isSequence(specValue) else { continue }
                    policy.ingress = tree.children(specValue).compactMap { policyRule($0, peersKey: "from") }
                case "egress":
                    guard isSequence(specValue) else { continue }
                    policy.egress = tree.children(specValue).compactMap { policyRule($0, peersKey: "to") }
                default:
                    unknownField(specKey)
                }
            }
        }
        return policy
    }

    private func policyType(_ node: Int32) -> NetworkPolicy.PolicyType? {
        guard let text = string(node) else { return nil }
        if let type = NetworkPolicy.PolicyType(rawValue: text) { return type }
        error(node, "unsupported value \"\(text)\", must be Ingress or Egress")
        return nil
    }

    /// One ingress or egress rule; `from`/`to` and `ports` stay nil when absent and `[]` when empty.
    private func policyRule(_ node: Int32, peersKey: String) -> NetworkPolicy.Rule? {
        guard isMapping(node) else { return nil }
        var rule = NetworkPolicy.Rule(location: tree.location(node))
        for (keyNode, value) in tree.entries(node) {
            let name = key(keyNode)
            if name == peersKey {
                guard isSequence(value) else { continue }
                rule.peers = tree.children(value).compactMap(policyPeer)
            } else if name == "ports" {
                guard isSequence(value) else { continue }
                rule.ports = tree.children(value).compactMap(policyPort)
            } else {
                unknownField(keyNode)
            }
        }
        return rule
    }

    private func policyPeer(_ node: Int32) -> NetworkPolicy.Peer? {
        guard isMapping(node) else { return nil }
        var peer = NetworkPolicy.Peer()
        var valid = true
        for (keyNode, value) in tree.entries(node) {
            switch key(keyNode) {
            case "podSelector":
                if isMapping(value) { peer.podSelector = labelSelector(value) }
            case "namespaceSelector":
                if isMapping(value) { peer.namespaceSelector = labelSelector(value) }
            case "ipBlock":
                guard isMapping(value) else { continue }
                peer.ipBlock = ipBlock(value)
                valid = valid && peer.ipBlock != nil
            default:
                unknownField(keyNode)
            }
        }
        if peer.ipBlock != nil, peer.podSelector != nil || peer.namespaceSelector != nil {
            let field = tree.path(to: node, from: root)
            report(.error, field: field, at: node, "may not specify both ipBlock and another peer")
            return nil
        }
        if valid, peer.podSelector == nil, peer.namespaceSelector == nil, peer.ipBlock == nil {
            report(.error, field: tree.path(to: node, from: root), at: node,
                   "must specify podSelector, namespaceSelector or ipBlock")
            return nil
        }
        return valid ? peer : nil
    }

    private func ipBlock(_ node: Int32) -> NetworkPolicy.IPBlock? {
        var block: NetworkPolicy.IPBlock?
        var exceptNodes: [Int32] = []
        for (keyNode, value) in tree.entries(node) {
            switch key(keyNode) {
            case "cidr": block = cidr(value).map { NetworkPolicy.IPBlock(cidr: $0) }
            case "except": exceptNodes = Array(items(value))
            default: unknownField(keyNode)
            }
        }
        if tree.value(node, "cidr") == nil { missing("cidr", in: node); return nil }
        guard var block else { return nil }
        var valid = true
        for item in exceptNodes {
            guard let prefix = cidr(item) else { valid = false; continue }
            // Kubernetes requires a strict subset: inside the block and longer than it.
            if prefix.family != block.cidr.family || !block.cidr.contains(prefix) || prefix.prefixLength <= block.cidr.prefixLength {
                error(item, "\(prefix) is not inside cidr \(block.cidr)")
                valid = false
            } else {
                block.except.append(prefix)
            }
        }
        return valid ? block : nil
    }

    private func policyPort(_ node: Int32) -> NetworkPolicy.Port? {
        guard isMapping(node) else { return nil }
        var port = NetworkPolicy.Port()
        var valid = true
        var endPortNode: Int32?
        for (keyNode, value) in tree.entries(node) {
            switch key(keyNode) {
            case "protocol":
                if let proto = l4Protocol(value) { port.protocol = proto } else { valid = false }
            case "port":
                guard !tree.isNull(value) else { continue }
                port.port = portReference(value)
                valid = valid && port.port != nil
            case "endPort":
                guard !tree.isNull(value) else { continue }
                endPortNode = value
                port.endPort = self.port(value)
                valid = valid && port.endPort != nil
            default:
                unknownField(keyNode)
            }
        }
        guard valid else { return nil }
        if let endPortNode, let endPort = port.endPort {
            switch port.port {
            case nil:
                error(endPortNode, "may not be specified without a numeric port")
                return nil
            case .name:
                error(endPortNode, "may not be specified with a named port")
                return nil
            case .number(let start) where endPort < start:
                error(endPortNode, "\(endPort) must not be less than port \(start)")
                return nil
            default:
                break
            }
        }
        return port
    }
}
