/// Builds the cases of one iteration from its seeded random source.
struct CaseFactory {
    var rng: SeededRandom
    let seeds: [Seed]

    /// Structure-aware mutation of one seed, printed in a random syntax.
    mutating func mutation() -> FuzzCase? {
        let candidates = seeds.filter { $0.documents.contains { !$0.isEmpty } }
        guard !candidates.isEmpty else { return nil }
        let seed = rng.pick(candidates)
        var mutator = Mutator(rng: SeededRandom(seed: rng.next()))
        var log: [String] = []
        var files: [(name: String, text: String)] = []
        let style = PrintStyle.random(&rng)
        for (index, documents) in seed.documents.enumerated() where !documents.isEmpty {
            let (mutated, edits) = rng.chance(0.7) ? mutator.mutate(documents) : (documents, [])
            log += edits.map { "\(seed.files[index].name): \($0)" }
            let name = "m\(index)." + (style.syntax == .json ? "json" : "yaml")
            files.append((name, Printer.documents(mutated, style: style)))
        }
        rng = mutator.rng
        log.append("printed as \(style.syntax)\(style.quoteAll ? ", all strings quoted" : "")")
        return FuzzCase(origin: "mutate \(seed.name)", log: log, manifests: files, flags: seed.flags)
    }

    /// A plain seed with hostile node flags and, sometimes, a hostile KubeProxyConfiguration.
    mutating func commandLine() -> FuzzCase? {
        guard let seed = seeds.isEmpty ? nil : rng.pick(seeds) else { return nil }
        var flags: [String] = []
        var extra: [(name: String, text: String)] = []
        for _ in 0..<(1 + rng.below(3)) {
            switch rng.below(4) {
            case 0: flags.append("--cluster-cidr=" + rng.pick(CommandLineValues.cidrs))
            case 1: flags.append("--node-ip=" + rng.pick(CommandLineValues.addresses))
            case 2: flags.append("--node-name=" + rng.pick(Mutator.hostileStrings.filter { !$0.isEmpty } + ["node-1"]))
            default:
                extra = [("kube-proxy.yaml", CommandLineValues.config(&rng))]
                flags.append("--config=@DIR@/kube-proxy.yaml")
            }
        }
        if rng.chance(0.2) { flags.append("--strict") }
        return FuzzCase(origin: "flags on \(seed.name)", log: flags.map { Printer.jsonQuoted($0) }, manifests: seed.files, flags: flags, extraFiles: extra)
    }

    /// Inputs built to cost time or memory: alias bombs, thousands of ports, deep nesting, big files.
    mutating func resource() -> FuzzCase {
        let kind = rng.below(4)
        let text: String
        let what: String
        switch kind {
        case 0:
            text = Hostile.aliasBomb(levels: 9 + rng.below(4))
            what = "YAML alias bomb"
        case 1:
            let count = rng.pick([3000, 20000])
            text = Hostile.manyPorts(count)
            what = "Service with \(count) ports and endpoints"
        case 2:
            let depth = rng.pick([10_000, 200_000])
            text = Hostile.deepNesting(depth, flow: rng.chance(0.5))
            what = "nesting \(depth) deep"
        default:
            text = Hostile.oversized(megabytes: 64)
            what = "64 MiB manifest"
        }
        return FuzzCase(origin: "resource", log: [what], manifests: [("big.yaml", text)])
    }

    /// A random cluster and policies, encoded at random; sometimes made invalid on purpose.
    mutating func policy() -> FuzzCase {
        var generator = PolicyGenerator(rng: SeededRandom(seed: rng.next()))
        let world = generator.world()
        var encoder = PolicyEncoder(rng: SeededRandom(seed: rng.next()))
        var documents = encoder.manifests(world)
        let style = PrintStyle.random(&rng)
        var expectation = FuzzCase.Expectation.matrix(world)
        var log = ["policies: \(world.policies.count), pods: \(world.pods.count), printed as \(style.syntax)"]
        for pod in world.pods where !pod.live {
            let reused = world.pods.first { $0.live && $0.ip == pod.ip }.map { " (address of live pod \($0.key))" } ?? ""
            log.append("terminated pod \(pod.key) phase \(pod.phase)\(reused)")
        }
        if rng.chance(0.25) {
            let edit = rng.pick(InvalidPolicyEdit.allCases)
            let spec = edit.spec(podSelector: .map([]))
            documents.append(.map([("apiVersion", .string("networking.k8s.io/v1")), ("kind", .string("NetworkPolicy")),
                                   ("metadata", .map([("name", .string("invalid")), ("namespace", .string("x"))])),
                                   ("spec", spec)]))
            expectation = .mustReject("API server refuses \(edit.rawValue)")
            log.append("added invalid policy x/invalid: \(edit.rawValue)")
        }
        let name = style.syntax == .json ? "cluster.json" : "cluster.yaml"
        return FuzzCase(origin: "policy", log: log, manifests: [(name, Printer.documents(documents, style: style))],
                        flags: ["--node-name=node-1", "--cluster-cidr=10.244.0.0/16"], expectation: expectation)
    }
}

/// Hostile values for node flags and KubeProxyConfiguration fields.
enum CommandLineValues {
    static let cidrs = [
        "10.244.0.0/16", "10.244.1.0/24", "10.244.1.5/16", "0.0.0.0/0", "::/0", "banana", "10.0.0.0/33",
        "10.244.0.0/16\nadd table ip evil", "1.2.3.4/-1", "fd00::/200", "10.244.0.0/16,10.245.0.0/16", " 10.0.0.0/8",
    ]
    static let addresses = [
        "198.51.100.1", "127.0.0.1", "::1", "0.0.0.0", "garbage\r\nx", "224.0.0.1", "fe80::1%eth0", "1.2.3.4/24",
        "255.255.255.255", "::ffff:1.2.3.4",
    ]

    static func config(_ rng: inout SeededRandom) -> String {
        var fields: [(String, Value)] = [("apiVersion", .string("kubeproxy.config.k8s.io/v1alpha1")),
                                         ("kind", .string("KubeProxyConfiguration"))]
        for _ in 0..<(1 + rng.below(3)) {
            let cidr: Value = .string(rng.pick(cidrs))
            let hostile: Value = .string(rng.pick(Mutator.hostileStrings))
            switch rng.below(5) {
            case 0: fields.append(("clusterCIDR", rng.chance(0.7) ? cidr : rng.pick([.null, .int(1), hostile])))
            case 1: fields.append(("nodePortAddresses", rng.pick([.list([.null]), .list([cidr]), .string("0.0.0.0/0"), .null])))
            case 2: fields.append(("masqueradeAll", rng.pick([.string("yes"), .null, .int(1), .bool(true)])))
            case 3: fields.append(("hostnameOverride", .string(rng.pick(Mutator.hostileStrings))))
            default: fields.append(("mode", .string(rng.pick(["nftables", "iptables", "ipvs", "x\nflush ruleset"]))))
            }
        }
        var text = Printer.documents([.map(fields)], style: PrintStyle.random(&rng))
        if rng.chance(0.1) { text += "---\n" + text }
        return text
    }
}

/// Inputs designed to exhaust time or memory.
enum Hostile {
    static func aliasBomb(levels: Int) -> String {
        var text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: default}\ndata:\n  a0: &a0 [\"lol\"]\n"
        for level in 1...levels {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            text += "  a\(level): &a\(level) [\(refs)]\n"
        }
        return text + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default, labels: *a\(levels)}\nspec: {ports: [{port: 80}]}\n"
    }

    static func manyPorts(_ count: Int) -> String {
        var service = "apiVersion: v1\nkind: Service\nmetadata: {name: many, namespace: default}\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n"
        var slice = "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: many-1\n  namespace: default\n"
        slice += "  labels: {kubernetes.io/service-name: many}\naddressType: IPv4\nendpoints:\n- addresses: [10.244.1.5]\nports:\n"
        for index in 0..<count {
            service += "  - {name: p\(index), port: \(1 + index % 65535), protocol: \(["TCP", "UDP"][index / 65535 % 2])}\n"
            slice += "- {name: p\(index), port: \(1 + index % 65535), protocol: \(["TCP", "UDP"][index / 65535 % 2])}\n"
        }
        return service + slice
    }

    static func deepNesting(_ depth: Int, flow: Bool) -> String {
        let head = "apiVersion: v1\nkind: Service\nmetadata: {name: deep, namespace: default}\nspec:\n  selector:\n    x: "
        if flow { return head + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n" }
        return head + String(repeating: "{a: ", count: depth) + "1" + String(repeating: "}", count: depth) + "\n"
    }

    static func oversized(megabytes: Int) -> String {
        let value = String(repeating: "a", count: megabytes << 20)
        return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: big\n  labels: {x: \"\(value)\"}\n"
    }
}
