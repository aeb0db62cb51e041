/// Builds the NetworkPolicies of a scenario. Policy `q` has kind `q % 10`; the namespace-wide kinds
/// (default deny, allow DNS, allow same namespace) go to namespace `(q / 10) % namespaces`, so each
/// namespace gets at most one of each while `policies ≤ 10 × namespaces`; the other kinds select one
/// application Deployment, spread over all of them, so the number of policies selecting one pod stays
/// small as the policy count grows (as in clusters where each team writes policies for its apps).
struct PolicyFactory {
    let plan: PolicyClusterPlan

    /// What a diff scenario changes in a policy.
    enum Change { case none, widen, widenNamespaceWide }

    static func selector(_ labels: [(String, String)]) -> Document {
        .map([("matchLabels", .map(labels.map { ($0.0, .string($0.1)) }))])
    }

    static func expression(_ key: String, _ op: String, _ values: [String] = []) -> Document {
        var entries: [(String, Document)] = [("key", .string(key)), ("operator", .string(op))]
        if !values.isEmpty { entries.append(("values", .list(values.map { .string($0) }))) }
        return .map(entries)
    }

    static func port(_ port: Document, proto: String = "TCP", endPort: Int? = nil) -> Document {
        var entries: [(String, Document)] = [("port", port), ("protocol", .string(proto))]
        if let endPort { entries.append(("endPort", .int(endPort))) }
        return .map(entries)
    }

    static func rule(_ peersKey: String, peers: [Document], ports: [Document]) -> Document {
        var entries: [(String, Document)] = []
        if !peers.isEmpty { entries.append((peersKey, .list(peers))) }
        if !ports.isEmpty { entries.append(("ports", .list(ports))) }
        return .map(entries)
    }

    /// The policy kinds, in order of `q % 10`.
    static let kindNames = ["default-deny-ingress", "allow-frontend", "allow-prod-namespaces", "allow-monitoring",
                            "allow-backends", "allow-external", "allow-dns", "allow-workers", "allow-cross-namespace",
                            "allow-same-namespace"]
    static let namespaceWide: Set<Int> = [0, 6, 9]

    /// The namespace and spec of policy `q`.
    func spec(_ q: Int, change: Change = .none) -> (namespace: String, name: String, spec: [(String, Document)]) {
        let kind = q % 10
        let apps = plan.apps
        let target = apps[apps.startIndex + (q * 7919) % max(apps.count, 1)]
        let namespace = Self.namespaceWide.contains(kind) ? PolicyClusterPlan.namespace((q / 10) % plan.scenario.namespaces)
            : target.namespace
        let name = "\(Self.kindNames[kind])-\(q)"
        let appSelector = Self.selector([("app", target.name)])
        var spec: [(String, Document)]
        switch kind {
        case 0:
            spec = [("podSelector", .map([])), ("policyTypes", .list([.string("Ingress")]))]
        case 1:
            var peers = [Document.map([("podSelector", Self.selector([("tier", "frontend")]))])]
            if change == .widen { peers.append(.map([("namespaceSelector", Self.selector([("purpose", "ingress")]))])) }
            spec = [("podSelector", appSelector), ("policyTypes", .list([.string("Ingress")])),
                    ("ingress", .list([Self.rule("from", peers: peers, ports: [Self.port(.string("http"))])]))]
        case 2:
            let peer = Document.map([("namespaceSelector", Self.selector([("env", "prod"), ("team", target.team)]))])
            spec = [("podSelector", appSelector), ("policyTypes", .list([.string("Ingress")])),
                    ("ingress", .list([Self.rule("from", peers: [peer], ports: [Self.port(.int(8080))])]))]
        case 3:
            let peer = Document.map([("namespaceSelector", Self.selector([("purpose", "monitoring")])),
                                     ("podSelector", Self.selector([("app", "prometheus")]))])
            spec = [("podSelector", Self.selector([("tier", target.tier.rawValue), ("team", target.team)])),
                    ("policyTypes", .list([.string("Ingress")])),
                    ("ingress", .list([Self.rule("from", peers: [peer], ports: [Self.port(.string("metrics"))])]))]
        case 4:
            spec = matchExpressionPolicy(target)
        case 5:
            spec = externalPolicy(appSelector)
        case 6:
            spec = dnsPolicy(change: change)
        case 7:
            let ingress = Self.rule("from", peers: [.map([("podSelector", Self.selector([("tier", "worker")]))])],
                                    ports: [Self.port(.int(30000), endPort: 30100)])
            let egress = Self.rule("to", peers: [.map([("podSelector", Self.selector([("tier", "cache")]))])],
                                   ports: [Self.port(.string("redis"))])
            spec = [("podSelector", appSelector), ("policyTypes", .list([.string("Ingress"), .string("Egress")])),
                    ("ingress", .list([ingress])), ("egress", .list([egress]))]
        case 8:
            let other = PolicyClusterPlan.namespace((q / 10 + 1) % plan.scenario.namespaces)
            let peer = Document.map([("namespaceSelector", Self.selector([("kubernetes.io/metadata.name", other)])),
                                     ("podSelector", Self.selector([("tier", "backend")]))])
            spec = [("podSelector", appSelector), ("policyTypes", .list([.string("Egress")])),
                    ("egress", .list([Self.rule("to", peers: [peer], ports: [Self.port(.string("http"))])]))]
        default:
            spec = [("podSelector", .map([])), ("policyTypes", .list([.string("Ingress")])),
                    ("ingress", .list([Self.rule("from", peers: [.map([("podSelector", .map([]))])], ports: [])]))]
        }
        return (namespace, name, spec)
    }

    private func matchExpressionPolicy(_ target: DeploymentPlan) -> [(String, Document)] {
        let podSelector = Document.map([("matchExpressions", .list([
            Self.expression("tier", "In", ["backend", "db"]), Self.expression("app", "In", [target.name]),
            Self.expression("version", "NotIn", ["v0"]),
        ]))])
        let peer = Document.map([("podSelector", .map([("matchExpressions", .list([
            Self.expression("team", "Exists"), Self.expression("tier", "NotIn", ["db", "cache"]),
        ]))]))])
        return [("podSelector", podSelector), ("policyTypes", .list([.string("Ingress")])),
                ("ingress", .list([Self.rule("from", peers: [peer], ports: [Self.port(.int(5432)), Self.port(.int(8080))])]))]
    }

    private func externalPolicy(_ appSelector: Document) -> [(String, Document)] {
        func block(_ cidr: String, _ except: [String]) -> Document {
            .map([("ipBlock", .map([("cidr", .string(cidr)), ("except", .list(except.map { .string($0) }))]))])
        }
        let ingress = Self.rule("from", peers: [block("172.16.0.0/12", ["172.16.5.0/24", "172.20.0.0/16"]),
                                                block("192.168.0.0/16", ["192.168.50.0/24"])],
                                ports: [Self.port(.int(443)), Self.port(.int(8443))])
        let egress = Self.rule("to", peers: [block("0.0.0.0/0", ["10.0.0.0/8", "169.254.169.254/32"])],
                               ports: [Self.port(.int(443))])
        return [("podSelector", appSelector), ("policyTypes", .list([.string("Ingress"), .string("Egress")])),
                ("ingress", .list([ingress])), ("egress", .list([egress]))]
    }

    private func dnsPolicy(change: Change) -> [(String, Document)] {
        let dns = Document.map([("namespaceSelector", Self.selector([("kubernetes.io/metadata.name", "kube-system")])),
                                ("podSelector", Self.selector([("k8s-app", "kube-dns")]))])
        var rules = [Self.rule("to", peers: [dns], ports: [Self.port(.int(53), proto: "UDP"), Self.port(.int(53))]),
                     Self.rule("to", peers: [.map([("podSelector", .map([]))])], ports: [])]
        if change == .widenNamespaceWide {
            rules.append(Self.rule("to", peers: [.map([("namespaceSelector", Self.selector([("env", "prod")]))])],
                                   ports: [Self.port(.string("http"))]))
        }
        return [("podSelector", .map([])), ("policyTypes", .list([.string("Egress")])), ("egress", .list(rules))]
    }
}
