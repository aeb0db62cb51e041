extension ObjectDecoder {
    func decodeNetworkPolicy() -> NetworkPolicy? {
        guard let meta = decodeMeta() else { return nil }
        var policy = NetworkPolicy(meta: meta)
        var ruleNodes: [NetworkPolicy.PolicyType: Int32] = [:]
        for (keyNode, value) in entries(root) {
            guard key(keyNode) == "spec" else { checkTopLevel(keyNode); continue }
            for (specKey, specValue) in entries(value) {
                switch key(specKey) {
                case "podSelector":
                    policy.podSelector = labelSelector(specValue)
                case "policyTypes":
                    policy.policyTypes = items(specValue).compactMap(policyType)
                    if (policy.policyTypes?.count ?? 0) > 2 { error(specValue, "may not specify more than two policyTypes") }
                case "ingress":
                    policy.ingress = items(specValue).compactMap { policyRule($0, peersKey: "from") }
                    ruleNodes[.ingress] = specValue
                case "egress":
                    policy.egress = items(specValue).compactMap { policyRule($0, peersKey: "to") }
                    ruleNodes[.egress] = specValue
                default:
                    unknownField(specKey)
                }
            }
        }
        warnUnenforcedRules(policy, ruleNodes)
        return policy
    }

    /// Rules of a direction that an explicit `policyTypes` leaves out are accepted by the API server
    /// and never enforced: say so rather than drop them silently.
    private func warnUnenforcedRules(_ policy: NetworkPolicy, _ ruleNodes: [NetworkPolicy.PolicyType: Int32]) {
        guard let types = policy.policyTypes, !types.isEmpty else { return }
        for (type, node) in ruleNodes.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where !types.contains(type) && items(node).contains(where: { _ in true }) {
            warning(node, "these rules are not enforced: spec.policyTypes does not list \(type.rawValue)")
        }
    }

    private func policyType(_ node: Int32) -> NetworkPolicy.PolicyType? {
        guard let text = string(node) else { return nil }
        if let type = NetworkPolicy.PolicyType(rawValue: text) { return type }
        error(node, "unsupported value \(Validation.quoted(text)), must be Ingress or Egress")
        return nil
    }

    /// One ingress or egress rule; `from`/`to` and `ports` stay nil when absent or null and `[]` when
    /// empty (the API server does not tell `[]` from absent either: both match everything). A null
    /// rule is the empty rule, as Kubernetes decodes it. An invalid peer or port is reported and
    /// the rule kept without it only because the load then fails.
    private func policyRule(_ node: Int32, peersKey: String) -> NetworkPolicy.Rule? {
        guard isMapping(node) else { return nil }
        var rule = NetworkPolicy.Rule(location: tree.location(node))
        for (keyNode, value) in entries(node) {
            let name = key(keyNode)
            if name == peersKey {
                guard isSequence(value) else { continue }
                rule.peers = items(value).compactMap(policyPeer)
            } else if name == "ports" {
                guard isSequence(value) else { continue }
                rule.ports = items(value).compactMap(policyPort)
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
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "podSelector":
                if isMapping(value) { peer.podSelector = labelSelector(value) } else { valid = false }
            case "namespaceSelector":
                if isMapping(value) { peer.namespaceSelector = labelSelector(value) } else { valid = false }
            case "ipBlock":
                guard isMapping(value) else { valid = false; continue }
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
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "cidr": block = cidr(value).map { NetworkPolicy.IPBlock(cidr: $0) }
            case "except": exceptNodes = Array(items(value))
            default: unknownField(keyNode)
            }
        }
        if field(node, "cidr") == nil { missing("cidr", in: node); return nil }
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
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "protocol":
                // A pointer field: null is TCP by defaulting, but an explicit "" is refused.
                if let proto = l4Protocol(value, emptyIsTCP: false) { port.protocol = proto } else { valid = false }
            case "port":
                port.port = portReference(value)
                valid = valid && port.port != nil
            case "endPort":
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
