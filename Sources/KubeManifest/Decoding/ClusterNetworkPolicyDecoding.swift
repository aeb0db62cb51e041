extension ObjectDecoder {
    /// A policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy, validated as its CRD validates it,
    /// decoded into the same model as the v1alpha1 kinds (tier from `spec.tier`, Accept as allow).
    func decodeClusterNetworkPolicy() -> AdminNetworkPolicy? {
        guard let meta = decodeMeta() else { return nil }
        guard let spec = field(root, "spec"), isMapping(spec) else {
            missing("spec", in: root)
            return nil
        }
        for (keyNode, _) in entries(root) where key(keyNode) != "spec" { checkTopLevel(keyNode) }
        var tier: AdminNetworkPolicy.Tier?, priority: Int?, subject: AdminNetworkPolicy.PodSet?
        var ingress: [AdminNetworkPolicy.Rule] = [], egress: [AdminNetworkPolicy.Rule] = []
        var valid = true
        for (keyNode, value) in entries(spec) {
            switch key(keyNode) {
            case "tier":
                tier = clusterPolicyTier(value)
                valid = valid && tier != nil
            case "priority":
                guard let number = int(value) else { valid = false; continue }
                guard (0...1000).contains(number) else { error(value, "priority \(number) out of range 0-1000"); valid = false; continue }
                priority = number
            case "subject":
                subject = podSet(value, requirePodSelector: true)
                valid = valid && subject != nil
            case "ingress":
                ingress = clusterPolicyRules(value, egress: false, valid: &valid)
            case "egress":
                egress = clusterPolicyRules(value, egress: true, valid: &valid)
            default:
                unknownField(keyNode)
            }
        }
        for required: StaticString in ["tier", "priority", "subject"] where field(spec, required) == nil {
            missing("\(required)", in: spec)
            valid = false
        }
        guard valid, let tier, let priority, let subject else { return nil }
        return AdminNetworkPolicy(meta: meta, kind: .clusterNetworkPolicy, tier: tier, priority: priority, subject: subject,
                                  ingress: ingress, egress: egress)
    }

    private func clusterPolicyTier(_ node: Int32) -> AdminNetworkPolicy.Tier? {
        guard let text = string(node) else { return nil }
        switch text {
        case "Admin": return .admin
        case "Baseline": return .baseline
        default:
            error(node, "unsupported tier \(Validation.quoted(text)), must be Admin or Baseline")
            return nil
        }
    }

    /// A list the CRD bounds: at most 25 items (and at least one where `nonEmpty`).
    private func boundedItems(_ node: Int32, nonEmpty: Bool, what: String) -> [Int32]? {
        guard isSequence(node) else { return nil }
        let list = Array(items(node))
        if list.count > 25 {
            error(node, "at most 25 \(what) are allowed, got \(list.count)")
            return nil
        }
        if nonEmpty, list.isEmpty {
            error(node, "must list at least one of the \(what)")
            return nil
        }
        return list
    }

    private func clusterPolicyRules(_ node: Int32, egress: Bool, valid: inout Bool) -> [AdminNetworkPolicy.Rule] {
        guard let list = boundedItems(node, nonEmpty: false, what: "rules") else { valid = false; return [] }
        var rules: [AdminNetworkPolicy.Rule] = []
        for item in list {
            if let rule = clusterPolicyRule(item, egress: egress) { rules.append(rule) } else { valid = false }
        }
        return rules
    }
}

/// What one `from`/`to` entry or `protocols` entry of a ClusterNetworkPolicy rule decoded to, before
/// the rule decides how entries it cannot honour fail closed.
private enum ClusterPolicyEntry<Value> {
    case known(Value)
    /// `domainNames`: no static address set can stand for a name.
    case domainNames([String])
    /// Only fields this version does not know (a newer API), by their keys.
    case unknown([String])

    /// How the review names an entry that failed closed; nil for one that compiles.
    var uncompiled: String? {
        switch self {
        case .known: return nil
        case .domainNames(let names): return "domainNames " + names.joined(separator: ", ")
        case .unknown(let keys): return "unknown " + keys.joined(separator: ", ")
        }
    }
}

extension ObjectDecoder {
    private func clusterPolicyRule(_ node: Int32, egress: Bool) -> AdminNetworkPolicy.Rule? {
        guard isMapping(node) else { return nil }
        let peersKey = egress ? "to" : "from"
        var name = "", action: AdminNetworkPolicy.Action?
        var peers: [ClusterPolicyEntry<AdminNetworkPolicy.Peer>] = [], protocols: [ClusterPolicyEntry<AdminNetworkPolicy.Port>]?
        var valid = true
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "name":
                name = string(value) ?? ""
                valid = adminRuleNameIsValid(name, at: value) && valid
            case "action":
                guard let text = string(value) else { valid = false; continue }
                switch text {
                case "Accept": action = .allow
                case "Deny": action = .deny
                case "Pass": action = .pass
                default:
                    error(value, "unsupported action \(Validation.quoted(text)), must be Accept, Deny or Pass")
                    valid = false
                }
            case peersKey:
                guard let list = boundedItems(value, nonEmpty: true, what: "peers") else { valid = false; continue }
                for item in list {
                    if let peer = clusterPolicyPeer(item, egress: egress) { peers.append(peer) } else { valid = false }
                }
            case "protocols":
                guard let list = boundedItems(value, nonEmpty: true, what: "protocols") else { valid = false; continue }
                var decoded: [ClusterPolicyEntry<AdminNetworkPolicy.Port>] = []
                for item in list {
                    if let entry = clusterPolicyProtocol(item) { decoded.append(entry) } else { valid = false }
                }
                protocols = decoded
            default: unknownField(keyNode)
            }
        }
        if field(node, "action") == nil { missing("action", in: node); valid = false }
        if field(node, egress ? "to" : "from") == nil { missing(peersKey, in: node); valid = false }
        guard valid, let action else { return nil }
        return failingClosed(node, name: name, action: action, peers: peers, protocols: protocols, peersKey: peersKey)
    }

    /// The rule as compiled, with every entry it cannot honour failing closed as the API says: in an
    /// Accept rule such an entry matches nothing; a Deny or Pass rule with one becomes "deny all".
    /// Named ports beside networks/nodes/domainNames and domainNames outside Accept are refused.
    private func failingClosed(_ node: Int32, name: String, action: AdminNetworkPolicy.Action,
                               peers: [ClusterPolicyEntry<AdminNetworkPolicy.Peer>],
                               protocols: [ClusterPolicyEntry<AdminNetworkPolicy.Port>]?, peersKey: String) -> AdminNetworkPolicy.Rule? {
        let location = tree.location(node)
        let hasNamedPort = protocols?.contains { if case .known(.named) = $0 { return true } else { return false } } ?? false
        let addressPeer = peers.contains {
            switch $0 {
            case .known(.networks), .known(.nodes), .domainNames: return true
            default: return false
            }
        }
        if hasNamedPort && addressPeer {
            error(node, "networks/nodes/domainNames peer cannot be set with namedPorts since there are no namedPorts for networks/nodes/domainNames")
            return nil
        }
        let hasDomainNames = peers.contains { if case .domainNames = $0 { return true } else { return false } }
        let uncompiled = peers.enumerated().compactMap { index, peer in peer.uncompiled.map { "\(peersKey)[\(index)]: \($0)" } }
            + (protocols ?? []).enumerated().compactMap { index, entry in entry.uncompiled.map { "protocols[\(index)]: \($0)" } }
        if hasDomainNames && action != .allow {
            error(node, "domainNames peers are only supported in Accept rules; kubenft cannot enforce this \(action == .deny ? "Deny" : "Pass") rule")
            return nil
        }
        if !uncompiled.isEmpty && action != .allow {
            return AdminNetworkPolicy.Rule(name: name, action: .deny, peers: [.networks(Self.everyAddress)], ports: nil, location: location,
                                           uncompiled: uncompiled)
        }
        let knownPeers = peers.compactMap { if case .known(let peer) = $0 { return peer } else { return nil } }
        let knownPorts = protocols.map { $0.compactMap { if case .known(let port) = $0 { return port } else { return nil } } }
        return AdminNetworkPolicy.Rule(name: name, action: action, peers: knownPeers, ports: knownPorts, location: location,
                                       uncompiled: uncompiled)
    }

    private static let everyAddress = [CIDR("0.0.0.0/0"), CIDR("::/0")].compactMap { $0 }

    private func clusterPolicyPeer(_ node: Int32, egress: Bool) -> ClusterPolicyEntry<AdminNetworkPolicy.Peer>? {
        guard isMapping(node) else { return nil }
        let known: [StaticString] = egress ? ["namespaces", "pods", "nodes", "networks", "domainNames"] : ["namespaces", "pods"]
        let present = known.filter { field(node, $0) != nil }
        if present.count > 1 {
            error(node, "exactly one of \(Self.listed(known)) must be set")
            return nil
        }
        if !egress {
            for name: StaticString in ["nodes", "networks", "domainNames"] {
                if let misplaced = field(node, name) {
                    error(misplaced, "\(name) peers are only allowed in egress rules")
                    return nil
                }
            }
        }
        if present.isEmpty {
            return unknownOnly(node, what: "peer", known: known)
        }
        if present[0].description != "pods", present[0].description != "namespaces" {
            for (keyNode, _) in entries(node) where key(keyNode) != present[0].description { unknownField(keyNode) }
        }
        if let networks = field(node, "networks") {
            guard let list = boundedItems(networks, nonEmpty: true, what: "CIDRs"), distinctItems(list) else { return nil }
            let cidrs = list.compactMap { item -> CIDR? in
                if let text = string(item), text.utf8.count > 43 {
                    error(item, "invalid CIDR \(Validation.quoted(text)): may not be longer than 43 characters")
                    return nil
                }
                return cidr(item)
            }
            return cidrs.count == list.count ? .known(.networks(cidrs)) : nil
        }
        if let nodes = field(node, "nodes") {
            return isMapping(nodes) ? .known(.nodes(labelSelector(nodes))) : nil
        }
        if let names = field(node, "domainNames") {
            guard let list = boundedItems(names, nonEmpty: true, what: "domain names"), distinctItems(list) else { return nil }
            guard list.allSatisfy({ string($0) != nil }) else { return nil }
            for item in list {
                guard let name = string(item), !Self.isDomainName(name) else { continue }
                error(item, "invalid domain name \(Validation.quoted(name)): must be a DNS name of at least two labels, optionally prefixed by \"*.\"")
                return nil
            }
            report(options.strict ? .error : .warning, field: tree.path(to: names, from: root), at: names,
                   "domainNames peers cannot be compiled into static rules: this peer matches nothing (the API's fail-closed reading of an Accept rule it cannot enforce)")
            return .domainNames(list.compactMap { string($0) })
        }
        return podSet(node, requirePodSelector: true).map { .known(.pods($0)) }
    }

    /// An entry with none of the fields this version knows: a newer API's field. `{}` is refused,
    /// as the API server refuses it; otherwise the entry fails closed (warned, an error under --strict).
    private func unknownOnly<Value>(_ node: Int32, what: String, known: [StaticString]) -> ClusterPolicyEntry<Value>? {
        if Array(entries(node)).isEmpty {
            error(node, "exactly one of \(Self.listed(known)) must be set")
            return nil
        }
        report(options.strict ? .error : .warning, field: tree.path(to: node, from: root), at: node,
               "\(what) sets none of \(Self.listed(known)): in an Accept rule it matches nothing, a Deny or Pass rule with it denies everything")
        return .unknown(Array(entries(node)).map { key($0.key) })
    }

    private func clusterPolicyProtocol(_ node: Int32) -> ClusterPolicyEntry<AdminNetworkPolicy.Port>? {
        guard isMapping(node) else { return nil }
        let known: [StaticString] = ["tcp", "udp", "sctp", "destinationNamedPort"]
        let present = known.filter { field(node, $0) != nil }
        if present.count > 1 {
            error(node, "exactly one of tcp, udp, sctp, destinationNamedPort must be set")
            return nil
        }
        guard let which = present.first else { return unknownOnly(node, what: "protocol", known: known) }
        for (keyNode, _) in entries(node) where !known.contains(where: { "\($0)" == key(keyNode) }) { unknownField(keyNode) }
        if let named = field(node, "destinationNamedPort") {
            guard let name = string(named) else { return nil }
            if let problem = Validation.ianaServiceNameProblem(name) {
                error(named, "invalid port name \(Validation.quoted(name)): \(problem)")
                return nil
            }
            return .known(.named(name))
        }
        let proto: L4Protocol = "\(which)" == "tcp" ? .tcp : "\(which)" == "udp" ? .udp : .sctp
        guard let body = field(node, which), isMapping(body) else { return nil }
        return destinationPort(body, proto: proto).map { .known($0) }
    }

    /// `{destinationPort: {number: N}}` or `{destinationPort: {range: {start, end}}}`.
    private func destinationPort(_ body: Int32, proto: L4Protocol) -> AdminNetworkPolicy.Port? {
        for (keyNode, _) in entries(body) where key(keyNode) != "destinationPort" { unknownField(keyNode) }
        guard let port = field(body, "destinationPort"), isMapping(port) else {
            missing("destinationPort", in: body)
            return nil
        }
        for (keyNode, _) in entries(port) where !["number", "range"].contains(key(keyNode)) { unknownField(keyNode) }
        let number = field(port, "number"), range = field(port, "range")
        if (number == nil) == (range == nil) {
            error(port, "exactly one of number or range must be set")
            return nil
        }
        if let number {
            return self.port(number).map { .number(proto, $0) }
        }
        guard let range, isMapping(range) else { return nil }
        for (keyNode, _) in entries(range) where !["start", "end"].contains(key(keyNode)) { unknownField(keyNode) }
        guard let startNode = field(range, "start"), let endNode = field(range, "end") else {
            missing(field(range, "start") == nil ? "start" : "end", in: range)
            return nil
        }
        guard let start = self.port(startNode), let end = self.port(endNode) else { return nil }
        guard start < end else {
            error(range, "Start port must be less than End port (start \(start), end \(end))")
            return nil
        }
        return .range(proto, start, end)
    }

    /// `a, b, c`: field names as messages list them.
    private static func listed(_ names: [StaticString]) -> String { names.map(\.description).joined(separator: ", ") }

    /// A `listType=set` list: the API server refuses a value listed twice.
    private func distinctItems(_ list: [Int32]) -> Bool {
        var seen: Set<String> = []
        for item in list {
            guard let text = string(item) else { continue }
            if !seen.insert(text).inserted {
                error(item, "Duplicate value: \(Validation.quoted(text))")
                return false
            }
        }
        return true
    }

    /// The CRD's DomainName pattern: an optional `*.` prefix, then two or more labels (each starting
    /// with a letter or digit, ending with a letter or digit, `-` and `_` between) and an optional
    /// final dot. The pattern's first-character class is written `[a-zA-z0-9]`, so it also admits
    /// the ASCII characters between `Z` and `a`; so does this.
    static func isDomainName(_ name: String) -> Bool {
        var text = Substring(name)
        if text.hasPrefix("*.") { text = text.dropFirst(2) }
        if text.hasSuffix(".") { text = text.dropLast() }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy(isDomainLabel)
    }

    private static func isDomainLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        let alphanumeric = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        guard alphanumeric(first) || (0x41...0x7A).contains(first) else { return false }
        guard bytes.count > 1 else { return true }
        return alphanumeric(last) && bytes.dropFirst().dropLast().allSatisfy { alphanumeric($0) || $0 == 0x2D || $0 == 0x5F }
    }
}
