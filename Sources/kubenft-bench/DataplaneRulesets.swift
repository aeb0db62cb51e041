import Foundation
import KubeManifest
import KubeNFT
import KubeNFTCompiler
import NFTRuleset

/// The size of one ruleset loaded for the data-plane suite.
struct DataplaneRulesetFacts: Codable {
    var textBytes: Int
    var chains: Int
    var rules: Int
    var setElements: Int
}

/// Which service is probed and where its backends live.
///
/// The synthetic generator gives service `index` the ClusterIP and pod IPs it always gives it, so
/// the lab's server namespace simply owns that service's endpoint addresses: the compiled ruleset
/// is the generator's, unchanged, and whichever backend the cascade picks answers.
struct DataplaneTarget {
    /// Service 7 is a plain ClusterIP service with a single `http` port (80 → 8080) in every size.
    static let serviceIndex = 7
    let plan: ClusterPlan

    var service: ServicePlan { plan.services[Self.serviceIndex] }
    var clusterIP: String { service.clusterIP }
    var port: Int { service.ports[0].port }
    var containerPort: Int { service.ports[0].containerPort }
    var backends: [String] { (0..<plan.scenario.endpoints).map { plan.podIP(service: Self.serviceIndex, endpoint: $0) } }
}

/// Writes the rulesets the suite loads into the lab's node namespace.
enum DataplaneRulesets {
    /// Generates the synthetic cluster (without Pods, which Services do not need), compiles it for
    /// node-1 exactly as `run-one` does and writes the nft text to `path`, and, when
    /// `iptablesPath` is given, the IPv4 `iptables-restore` form of the same compiled ruleset there.
    static func kubenft(_ scenario: Scenario, path: String, iptablesPath: String? = nil,
                        scratch: String) throws(BenchError) -> (nft: DataplaneRulesetFacts, iptables: DataplaneRulesetFacts?) {
        let input = scratch + "/dp-cluster-\(scenario.services).yaml"
        defer { try? FileManager.default.removeItem(atPath: input) }
        guard ClusterWriter.write(ClusterPlan(scenario), format: .yaml, to: input) != nil, let bytes = readBytes(input) else {
            throw BenchError("could not write or read \(input)")
        }
        let loaded = ManifestLoader.load([ManifestSource(name: input, bytes: bytes)])
        let compiled = KubeNFTCompiler.compile(loaded.cluster, context: StageRunner.context())
        // iptables has no maps: its form is translated from the cascade shape.
        let cascade = iptablesPath == nil ? nil : KubeNFTCompiler.compile(loaded.cluster, context: StageRunner.context(), shape: .cascade)
        let errors = compiled.diagnostics.filter { $0.severity == .error }
        if let first = loaded.errors.first ?? errors.first { throw BenchError("compiling \(scenario.label): \(first)") }
        let text = NFTTextEmitter().emit(compiled.ruleset)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw BenchError("cannot write \(path)") }
        let nft = DataplaneRulesetFacts(textBytes: text.utf8.count, chains: compiled.ruleset.chains.count,
                                        rules: compiled.ruleset.chains.reduce(0) { $0 + $1.rules.count },
                                        setElements: compiled.ruleset.sets.reduce(0) { $0 + $1.elements.count })
        guard let iptablesPath else { return (nft, nil) }
        return (nft, try iptables(cascade?.ruleset ?? compiled.ruleset, scenario: scenario, path: iptablesPath))
    }

    /// Writes the IPv4 iptables form (`Pipeline.renderIPTables`, what `kubenft compile --format
    /// iptables` prints) and counts its chains (`:` lines) and rules (`-A` and `-I` lines).
    private static func iptables(_ ruleset: Ruleset, scenario: Scenario, path: String) throws(BenchError) -> DataplaneRulesetFacts {
        let text: String
        do {
            text = try Pipeline.renderIPTables(ruleset, family: .v4)
        } catch {
            throw BenchError("iptables form of \(scenario.label): \(error)")
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw BenchError("cannot write \(path)") }
        let lines = text.split(separator: "\n")
        return DataplaneRulesetFacts(textBytes: text.utf8.count, chains: lines.filter { $0.hasPrefix(":") }.count,
                                     rules: lines.filter { $0.hasPrefix("-A ") || $0.hasPrefix("-I ") }.count, setElements: 0)
    }

    /// The tables an iptables restore file fills (its `*table` lines), in order.
    static func iptablesTables(path: String) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { $0.hasPrefix("*") }.map { String($0.dropFirst()) }
    }

    /// An iptables-style ruleset: one nat prerouting chain holding one
    /// `ip daddr X tcp dport 80 dnat ip to Y:8080` rule per service, the probed service last, so
    /// every new connection to it is compared against all the others first. Each rule sends its
    /// service to the service's first endpoint. Off-cluster clients are masqueraded after DNAT, as
    /// kubenft (and kube-proxy) do, so both rulesets do the same NAT work per connection.
    static func linear(_ plan: ClusterPlan, target: DataplaneTarget, path: String) throws(BenchError) -> DataplaneRulesetFacts {
        guard let sink = ByteSink(path: path) else { throw BenchError("cannot write \(path)") }
        sink.write("table ip linear-bench {\n\tchain prerouting {\n\t\ttype nat hook prerouting priority -100; policy accept;\n")
        var rules = 0
        for service in plan.services where service.index != DataplaneTarget.serviceIndex {
            let backend = plan.podIP(service: service.index, endpoint: 0)
            sink.write("\t\tip daddr \(service.clusterIP) tcp dport 80 dnat ip to \(backend):8080\n")
            rules += 1
        }
        sink.write("\t\tip daddr \(target.clusterIP) tcp dport \(target.port) dnat ip to \(target.backends[0]):\(target.containerPort)\n")
        sink.write("\t}\n\tchain postrouting {\n\t\ttype nat hook postrouting priority 100; policy accept;\n")
        sink.write("\t\tct status dnat ip saddr != \(ClusterPlan.clusterCIDR) masquerade\n\t}\n}\n")
        sink.flush()
        guard !sink.failed else { throw BenchError("cannot write \(path)") }
        return DataplaneRulesetFacts(textBytes: sink.bytesWritten, chains: 2, rules: rules + 2, setElements: 0)
    }
}
