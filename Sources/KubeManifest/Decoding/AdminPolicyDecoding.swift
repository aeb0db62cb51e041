extension ObjectDecoder {
    /// An AdminNetworkPolicy (tier admin) or the BaselineAdminNetworkPolicy (tier baseline).
    func decodeAdminPolicy(tier: AdminNetworkPolicy.Tier) -> AdminNetworkPolicy? {
        guard let meta = decodeMeta() else { return nil }
        guard let spec = field(root, "spec"), isMapping(spec) else {
            missing("spec", in: root)
            return nil
        }
        if tier == .baseline, meta.name != "default", let nameNode = field(root, "metadata").flatMap({ field($0, "name") }) {
            error(nameNode, "a BaselineAdminNetworkPolicy must be named default")
            return nil
        }
        var priority = 0
        var subject: AdminNetworkPolicy.PodSet?
        var ingress: [AdminNetworkPolicy.Rule] = [], egress: [AdminNetworkPolicy.Rule] = []
        var valid = true
        for (keyNode, _) in entries(root) where key(keyNode) != "spec" { checkTopLevel(keyNode) }
        for (keyNode, value) in entries(spec) {
            switch key(keyNode) {
            case "priority" where tier == .admin:
                guard let number = int(value) else { valid = false; continue }
                guard (0...1000).contains(number) else { error(value, "priority \(number) out of range 0-1000"); valid = false; continue }
                priority = number
            case "subject":
                subject = podSet(value)
                valid = valid && subject != nil
            case "ingress":
                ingress = adminRules(value, tier: tier, peersKey: "from", valid: &valid)
            case "egress":
                egress = adminRules(value, tier: tier, peersKey: "to", valid: &valid)
            default:
                unknownField(keyNode)
            }
        }
        if tier == .admin, field(spec, "priority") == nil { missing("priority", in: spec); valid = false }
        if field(spec, "subject") == nil { missing("subject", in: spec); valid = false }
        guard valid, let subject else { return nil }
        return AdminNetworkPolicy(meta: meta, tier: tier, priority: priority, subject: subject, ingress: ingress, egress: egress)
    }

    /// `{namespaces: selector}` or `{pods: {namespaceSelector, podSelector}}`, exactly one.
    /// `requirePodSelector`: v1alpha2 requires `pods.podSelector` (an empty one selects every pod).
    func podSet(_ node: Int32, requirePodSelector: Bool = false) -> AdminNetworkPolicy.PodSet? {
        guard isMapping(node) else { return nil }
        var result: AdminNetworkPolicy.PodSet?
        var count = 0
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "namespaces":
                count += 1
                if isMapping(value) { result = .namespaces(labelSelector(value)) }
            case "pods":
                count += 1
                guard isMapping(value) else { continue }
                var namespaces = LabelSelector(), pods = LabelSelector()
                for (innerKey, innerValue) in entries(value) {
                    switch key(innerKey) {
                    case "namespaceSelector": if isMapping(innerValue) { namespaces = labelSelector(innerValue) }
                    case "podSelector": if isMapping(innerValue) { pods = labelSelector(innerValue) }
                    default: unknownField(innerKey)
                    }
                }
                if requirePodSelector, field(value, "podSelector") == nil {
                    missing("podSelector", in: value)
                    return nil
                }
                result = .pods(namespaceSelector: namespaces, podSelector: pods)
            default:
                unknownField(keyNode)
            }
        }
        guard count == 1 else {
            report(.error, field: tree.path(to: node, from: root), at: node, "exactly one of namespaces or pods must be set")
            return nil
        }
        return result
    }

    private func adminRules(_ node: Int32, tier: AdminNetworkPolicy.Tier, peersKey: String, valid: inout Bool) -> [AdminNetworkPolicy.Rule] {
        guard isSequence(node) else { valid = false; return [] }
        let rules = Array(items(node))
        if rules.count > 100 {
            report(.error, field: tree.path(to: node, from: root), at: node, "at most 100 rules are allowed, got \(rules.count)")
            valid = false
        }
        return rules.compactMap { item in
            let rule = adminRule(item, tier: tier, peersKey: peersKey)
            if rule == nil { valid = false }
            return rule
        }
    }

    private func adminRule(_ node: Int32, tier: AdminNetworkPolicy.Tier, peersKey: String) -> AdminNetworkPolicy.Rule? {
        guard isMapping(node) else { return nil }
        var name = "", action: AdminNetworkPolicy.Action?, peers: [AdminNetworkPolicy.Peer] = [], ports: [AdminNetworkPolicy.Port]?
        var valid = true
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "name":
                name = string(value) ?? ""
                valid = adminRuleNameIsValid(name, at: value) && valid
            case "action":
                guard let text = string(value) else { valid = false; continue }
                action = AdminNetworkPolicy.Action(rawValue: text)
                if action == nil || (tier == .baseline && action == .pass) {
                    error(value, "unsupported action \(Validation.quoted(text)), must be \(tier == .admin ? "Allow, Deny or Pass" : "Allow or Deny")")
                    valid = false
                }
            case peersKey:
                guard isSequence(value) else { valid = false; continue }
                for item in items(value) {
                    if let peer = adminPeer(item, egress: peersKey == "to") { peers.append(peer) } else { valid = false }
                }
            case "ports":
                guard isSequence(value) else { valid = false; continue }
                var list: [AdminNetworkPolicy.Port] = []
                for item in items(value) {
                    if let port = adminPort(item) { list.append(port) } else { valid = false }
                }
                ports = list
            default: unknownField(keyNode)
            }
        }
        if field(node, "action") == nil { missing("action", in: node); valid = false }
        if peers.isEmpty && valid {
            report(.error, field: tree.path(to: node, from: root), at: node, "\(peersKey) must list at least one peer")
            valid = false
        }
        guard valid, let action else { return nil }
        return AdminNetworkPolicy.Rule(name: name, action: action, peers: peers, ports: ports, location: tree.location(node))
    }

    /// A rule name of either admin policy API: at most 100 characters (the CRDs' maxLength), printable.
    func adminRuleNameIsValid(_ name: String, at node: Int32) -> Bool {
        guard let problem = Validation.displayTextProblem(name, maximumCharacters: 100) else { return true }
        error(node, "invalid rule name \(Validation.quoted(name)): \(problem)")
        return false
    }

    private func adminPeer(_ node: Int32, egress: Bool) -> AdminNetworkPolicy.Peer? {
        guard isMapping(node) else { return nil }
        let kinds = [field(node, "networks"), field(node, "nodes"), field(node, "pods"), field(node, "namespaces")]
        if kinds.compactMap({ $0 }).count > 1 {
            report(.error, field: tree.path(to: node, from: root), at: node, "exactly one of namespaces, pods, nodes or networks must be set")
            return nil
        }
        if let networks = field(node, "networks") {
            guard egress else { error(networks, "networks peers are only allowed in egress rules"); return nil }
            let list = items(networks).compactMap { cidr($0) }
            guard list.count == Array(items(networks)).count else { return nil }
            if list.isEmpty { error(networks, "must list at least one CIDR"); return nil }
            return .networks(list)
        }
        if let nodes = field(node, "nodes") {
            guard egress else { error(nodes, "nodes peers are only allowed in egress rules"); return nil }
            return isMapping(nodes) ? .nodes(labelSelector(nodes)) : nil
        }
        return podSet(node).map(AdminNetworkPolicy.Peer.pods)
    }

    private func adminPort(_ node: Int32) -> AdminNetworkPolicy.Port? {
        guard isMapping(node) else { return nil }
        if let number = field(node, "portNumber"), isMapping(number) {
            let proto = field(number, "protocol").flatMap { l4Protocol($0) } ?? .tcp
            guard let portNode = field(number, "port"), let port = port(portNode) else { missing("port", in: number); return nil }
            return .number(proto, port)
        }
        if let named = field(node, "namedPort") {
            guard let name = string(named) else { return nil }
            if let problem = Validation.ianaServiceNameProblem(name) {
                error(named, "invalid port name \(Validation.quoted(name)): \(problem)")
                return nil
            }
            return .named(name)
        }
        if let range = field(node, "portRange"), isMapping(range) {
            let proto = field(range, "protocol").flatMap { l4Protocol($0) } ?? .tcp
            guard let startNode = field(range, "start"), let endNode = field(range, "end"),
                  let start = port(startNode), let end = port(endNode) else { missing("start and end", in: range); return nil }
            guard start <= end else { error(endNode, "end \(end) must not be less than start \(start)"); return nil }
            return .range(proto, start, end)
        }
        report(.error, field: tree.path(to: node, from: root), at: node, "must set portNumber, namedPort or portRange")
        return nil
    }
}
