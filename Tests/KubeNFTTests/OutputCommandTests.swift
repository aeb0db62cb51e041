import Foundation
import KubeManifest
import KubeNFT
import LabKit
import NFTRuleset
import Testing

/// What the command line writes: every exit-0 ruleset loads in nft, interval sets never overlap,
/// CIDR flags are exact, and `-o` neither replaces device nodes nor follows planted links.
@Suite("Output of the command line")
struct OutputCommandTests {
    /// A fresh directory under the system temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "kubenft-out-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    // MARK: interval sets

    static let overlappingConfig = """
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clusterCIDR: 10.0.0.0/8,10.1.0.0/16
        nodePortAddresses: ["192.168.0.0/16", "192.168.1.0/24", "192.168.1.0/24", "192.168.255.255/32", "10.9.0.0/16", "fd00::/8", "fd00:1::/32"]
        """

    static let overlappingPolicy = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: blocks, namespace: default}
        spec:
          podSelector: {}
          ingress:
          - from:
            - ipBlock: {cidr: 10.0.0.0/8}
            - ipBlock: {cidr: 10.1.0.0/16}
            - ipBlock: {cidr: 10.1.2.3/32}
          egress:
          - to:
            - ipBlock: {cidr: 172.16.0.0/12, except: [172.16.0.0/16]}
            - ipBlock: {cidr: 172.16.1.0/24}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: default}
        spec: {nodeName: node-1, containers: [{name: c}]}
        status: {podIP: 10.244.0.5, podIPs: [{ip: 10.244.0.5}]}
        """

    /// The compiler inputs of the overlap cases: a directory with the demo's manifests, a policy with
    /// overlapping ipBlocks, and a KubeProxyConfiguration with overlapping CIDRs.
    static func overlapCase(in directory: String) throws -> [String] {
        let demo = try CLITests.fixture("demo")
        try write(overlappingConfig, to: directory + "/kubeproxy.yaml")
        try write(overlappingPolicy, to: directory + "/policy.yaml")
        return ["-f", demo.manifests, "-f", directory + "/policy.yaml", "--config", directory + "/kubeproxy.yaml",
                "--node-name", "node-1", "--cluster-cidr", "10.0.0.0/8", "--cluster-cidr", "10.1.0.0/16", "--cluster-cidr", "10.0.0.0/8"]
    }

    static func ranges(_ set: NamedSet) -> [AddressRange] {
        set.elements.compactMap { element -> AddressRange? in
            switch element.key.first {
            case .address(let address)?: return AddressRange(address)
            case .prefix(let cidr)?: return AddressRange(cidr)
            case .addressRange(let low, let high)?:
                return AddressRange(family: low.family, lower: low.numericValue, upper: high.numericValue)
            default: return nil
            }
        }
    }

    @Test("overlapping cluster CIDRs, nodePortAddresses and ipBlocks give disjoint interval sets")
    func intervalSetsAreDisjoint() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = try Self.overlapCase(in: directory)
        let result = Pipeline.run(paths: [arguments[1], arguments[3]],
                                  node: NodeOptions(nodeName: "node-1", clusterCIDRs: ["10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8"],
                                                    configPath: directory + "/kubeproxy.yaml"))
        let ruleset = try #require(result.ruleset, "\(result.diagnostics)")
        let intervalSets = ruleset.sets.filter { $0.flags.contains(.interval) }
        #expect(intervalSets.contains { $0.name == "cluster-cidrs-v4" } && intervalSets.contains { $0.name == "nodeport-addresses-v4" })
        for set in intervalSets {
            let ranges = Self.ranges(set).sorted()
            #expect(ranges.count == set.elements.count)
            for (left, right) in zip(ranges, ranges.dropFirst()) where left.family == right.family {
                #expect(left.upper < right.lower, "\(set.name): \(left) overlaps \(right)")
            }
        }
        let clusterCIDRs = try #require(ruleset.set(named: "cluster-cidrs-v4"))
        #expect(AddressRange.union(Self.ranges(clusterCIDRs)) == [AddressRange(CIDR("10.0.0.0/8")!)])
        let nodePorts = try #require(ruleset.set(named: "nodeport-addresses-v4"))
        #expect(AddressRange.union(Self.ranges(nodePorts))
                == AddressRange.union([AddressRange(CIDR("192.168.0.0/16")!), AddressRange(CIDR("10.9.0.0/16")!)]))
    }

    @Test("a random list of prefixes, addresses and ranges becomes disjoint and covers the same addresses", arguments: 1...60)
    func disjointIntervalsProperty(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        var values: [Value] = []
        for _ in 0..<Int.random(in: 1...25, using: &generator) {
            let base = UInt128(UInt32(0x0A00_0000) | UInt32.random(in: 0...0xFFFF, using: &generator) << UInt32.random(in: 0...8, using: &generator))
            let address = IPAddress(numericValue: base, family: .v4)
            switch Int.random(in: 0...2, using: &generator) {
            case 0: values.append(.address(address))
            case 1: values.append(.prefix(CIDR(address: address, prefixLength: Int.random(in: 8...32, using: &generator))!))
            default:
                let high = IPAddress(numericValue: base + UInt128(Int.random(in: 0...70_000, using: &generator)), family: .v4)
                values.append(.addressRange(address, high))
            }
        }
        let set = NamedSet(name: "s", key: [.ipv4Address], flags: [.interval], elements: values.map { SetElement(key: [$0]) })
        let result = set.withDisjointIntervals()
        let before = Self.ranges(set), after = Self.ranges(result).sorted()
        for (left, right) in zip(after, after.dropFirst()) { #expect(left.upper < right.lower, "\(left) overlaps \(right)") }
        #expect(AddressRange.union(after) == AddressRange.union(before))
        if AddressRange.union(before).count == before.count && Set(before).count == before.count {
            let disjoint = zip(before.sorted(), before.sorted().dropFirst()).allSatisfy { $0.upper < $1.lower }
            if disjoint { #expect(result == set) }
        }
    }

    @Test("overlapping intervals: compile's text and JSON load in nft and apply loads the same input",
          .enabled(if: Environment.labTestsEnabled))
    func overlappingIntervalsLoad() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let arguments = try Self.overlapCase(in: directory)
        for format in ["nft", "json"] {
            let compiled = try CLITests.run(["compile", "--format", format] + arguments)
            #expect(compiled.status == 0, "\(compiled.stderr)")
            _ = try Kernel.loadAndList(compiled.stdout, json: format == "json")
        }
        try Kernel.withNamespace { namespace in
            let applied = try CLITests.run(["apply", "--netns", namespace] + arguments)
            #expect(applied.status == 0, "\(applied.stderr)")
        }
    }

    @Test("--cluster-cidr with host bits set exits 2 and names the flag", arguments: ["10.0.0.1/8", "fd00::1/64", "10.0.0.0/33", "x"])
    func clusterCIDRHostBits(_ value: String) throws {
        let demo = try CLITests.fixture("demo")
        let result = try CLITests.run(["compile", "-f", demo.manifests, "--cluster-cidr", value])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("--cluster-cidr") && result.stderr.contains(value), "\(result.stderr)")
    }

    // MARK: the reported attacks, end to end

    static let hostileServices = """
        apiVersion: v1
        kind: Service
        metadata: {name: "x\\r\\nadd table ip evil #", namespace: default}
        spec: {type: ExternalName, externalName: "a\\r\\nflush ruleset #"}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ext, namespace: default}
        spec: {type: ExternalName, externalName: "a\\u2028b\\u0085c\\rflush ruleset #\\0tail"}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: "y\\n\\u0000z", namespace: "default\\r\\n"}
        spec: {clusterIP: 10.96.0.9, ports: [{port: 80}]}
        """

    @Test("hostile names in manifests: compile refuses them in one-line diagnostics or emits a ruleset that touches no other table")
    func hostileManifests() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.write(Self.hostileServices, to: directory + "/attack.yaml")
        let printed = try CLITests.run(["compile", "-f", directory + "/attack.yaml"])
        let written = try CLITests.run(["compile", "-f", directory + "/attack.yaml", "-o", directory + "/out.nft"])
        #expect(printed.status == written.status)
        for line in printed.stderr.split(separator: "\n") {
            #expect(line.hasPrefix(directory + "/attack.yaml:") || line.hasPrefix("kubenft: "), "forged line: \(line)")
        }
        guard printed.status == 0 else {
            #expect(printed.status == 2)
            return
        }
        // Every byte reaches the -o file, and no byte is a line break other than "\n" or a NUL.
        let file = try Data(contentsOf: URL(fileURLWithPath: directory + "/out.nft"))
        #expect(file == Data(printed.stdout.utf8))
        #expect(!printed.stdout.unicodeScalars.contains(where: OutputSafetyTests.isLineBreaking))
        for line in OutputSafetyTests.lines(printed.stdout) where !line.hasPrefix("#") {
            #expect(!line.hasPrefix("add") && !line.hasPrefix("flush") && !line.contains("table ip"), "\(line)")
        }
        guard Environment.labTestsEnabled else { return }
        try Kernel.withNamespace { namespace in
            try Kernel.run(["ip", "netns", "exec", namespace, "nft", "add", "table", "ip", "bystander"])
            try Kernel.load(printed.stdout, in: namespace)
            let tables = try Kernel.run(["ip", "netns", "exec", namespace, "nft", "list", "tables"])
            #expect(tables.split(separator: "\n").sorted() == ["table inet kubenft", "table ip bystander"])
        }
    }

    @Test("show and verify print names a foreign process put into our table without breaking lines",
          .enabled(if: Environment.labTestsEnabled))
    func showForeignNames() throws {
        func listing(_ name: String) throws -> String {
            let escaped = String(data: try JSONSerialization.data(withJSONObject: [name], options: [.fragmentsAllowed]), encoding: .utf8)!
                .dropFirst().dropLast()
            let commands = """
                {"nftables": [{"add": {"table": {"family": "inet", "name": "kubenft"}}},
                {"add": {"chain": {"family": "inet", "table": "kubenft", "name": \(escaped)}}},
                {"add": {"set": {"family": "inet", "table": "kubenft", "name": \(escaped), "type": "ipv4_addr"}}}]}
                """
            return try Kernel.withNamespace { namespace in
                try Kernel.load(commands, json: true, in: namespace)
                let shown = try CLITests.run(["show", "--netns", namespace])
                #expect(shown.status == 0, "\(shown.stderr)")
                return shown.stdout
            }
        }
        let benign = try listing("benign")
        let verifiedBenign = try Self.verify("benign")
        for name in ["x\r\nadd table ip evil #", "a\nb", "a\u{2028}b\u{85}c", "\"}; flush ruleset #", "9\u{1B}[2J"] {
            let shown = try listing(name)
            #expect(OutputSafetyTests.lines(shown).count == OutputSafetyTests.lines(benign).count, "\(shown)")
            #expect(OutputSafetyTests.shape(shown) == OutputSafetyTests.shape(benign))
            #expect(!shown.unicodeScalars.contains(where: OutputSafetyTests.isLineBreaking), "\(shown.debugDescription)")
            let verified = try Self.verify(name)
            #expect(OutputSafetyTests.lines(verified).count == OutputSafetyTests.lines(verifiedBenign).count, "\(verified)")
            #expect(!verified.unicodeScalars.contains(where: OutputSafetyTests.isLineBreaking), "\(verified.debugDescription)")
        }
    }

    /// `verify`'s report after a foreign process added a chain named `name` to the applied table.
    static func verify(_ name: String) throws -> String {
        let demo = try CLITests.fixture("demo")
        let escaped = String(data: try JSONSerialization.data(withJSONObject: [name], options: [.fragmentsAllowed]), encoding: .utf8)!
            .dropFirst().dropLast()
        return try Kernel.withNamespace { namespace in
            let applied = try CLITests.run(["apply", "--netns", namespace, "-f", demo.manifests] + demo.arguments)
            #expect(applied.status == 0, "\(applied.stderr)")
            try Kernel.load("{\"nftables\": [{\"add\": {\"chain\": {\"family\": \"inet\", \"table\": \"kubenft\", \"name\": \(escaped)}}}]}",
                            json: true, in: namespace)
            let verified = try CLITests.run(["verify", "--netns", namespace, "-f", demo.manifests] + demo.arguments)
            #expect(verified.status == 1, "\(verified.stderr)")
            return verified.stdout
        }
    }
}
