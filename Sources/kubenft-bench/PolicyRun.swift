import Foundation
import KubeManifest
import KubeNFTCompiler
import NFTRuleset

/// What one NetworkPolicy measurement found: timings, sizes and the per-packet path lengths.
struct PolicyStageResult: Codable {
    var scenario: PolicyScenario
    /// "node-1", or "all" when compiled with no node name (every pod enforced).
    var node: String
    var repeats: Int
    var inputBytes: Int
    var objects: Int
    var errors: Int
    var firstError: String?
    var loadSeconds: Double
    var compileSeconds: Double
    var emitTextSeconds: Double
    var textBytes: Int
    var chains: Int
    var rules: Int
    var sets: Int
    var setElements: Int
    var peakRSSBytes: Int?
    var paths: PolicyPathStats
}

/// The NetworkPolicy part of a compiled ruleset and the rules a new connection can traverse.
struct PolicyPathStats: Codable {
    /// Pods with an entry in a dispatch map (isolated for ingress or egress on the compiled node).
    var enforcedPods: Int
    var groupChains: Int
    /// Rules in every `np-` chain together: what one linear chain of all policies would hold.
    var groupRules: Int
    var policySets: Int
    var policySetElements: Int
    /// Rules of `policy-forward` (reply and self checks, then the two verdict maps).
    var forwardRules: Int
    var maxIngressChain: Int
    var maxEgressChain: Int
    /// Pod-weighted mean chain length over the pods that have such a chain.
    var meanIngressChain: Double
    var meanEgressChain: Double
    /// Rules of `policy-forward` plus the longest egress and the longest ingress chain.
    var worstPath: Int { forwardRules + maxEgressChain + maxIngressChain }

    init(_ ruleset: Ruleset) {
        let lengths = Dictionary(ruleset.chains.map { ($0.name, $0.rules.count) }, uniquingKeysWith: { first, _ in first })
        let groups = ruleset.chains.filter { $0.name.hasPrefix("np-") }
        groupChains = groups.count
        groupRules = groups.reduce(0) { $0 + $1.rules.count }
        let sets = ruleset.sets.filter { $0.name.hasPrefix("np-") }
        policySets = sets.count
        policySetElements = sets.reduce(0) { $0 + $1.elements.count }
        forwardRules = lengths["policy-forward"] ?? 0
        var pods = Set<String>()
        var stats: [Bool: (max: Int, sum: Int, count: Int)] = [true: (0, 0, 0), false: (0, 0, 0)]
        for set in ruleset.sets where set.name.hasPrefix("policy-ingress-") || set.name.hasPrefix("policy-egress-") {
            let ingress = set.name.hasPrefix("policy-ingress-")
            for element in set.elements {
                guard case .verdict(.jump(let chain))? = element.data, let length = lengths[chain] else { continue }
                pods.insert(element.key.map { "\($0)" }.joined())
                let old = stats[ingress] ?? (0, 0, 0)
                stats[ingress] = (max(old.max, length), old.sum + length, old.count + 1)
            }
        }
        enforcedPods = pods.count
        let ingress = stats[true] ?? (0, 0, 0), egress = stats[false] ?? (0, 0, 0)
        maxIngressChain = ingress.max
        maxEgressChain = egress.max
        meanIngressChain = ingress.count > 0 ? Double(ingress.sum) / Double(ingress.count) : 0
        meanEgressChain = egress.count > 0 ? Double(egress.sum) / Double(egress.count) : 0
    }
}

/// `run-policy`: loads a NetworkPolicy cluster, compiles it for one node (or all) and emits text.
struct PolicyStageRunner {
    var scenario: PolicyScenario
    var nodeName: String?
    var repeats: Int

    func context() -> NodeContext {
        NodeContext(nodeName: nodeName, nodeIPs: [IPAddress(ClusterPlan.nodeIP)].compactMap { $0 },
                    clusterCIDRs: [CIDR(ClusterPlan.clusterCIDR)].compactMap { $0 })
    }

    func run(input bytes: [UInt8], name: String, emitPath: String?) -> PolicyStageResult {
        let source = ManifestSource(name: name, bytes: bytes)
        let context = context()
        // One end-to-end pass first, so that the peak RSS belongs to that pass alone.
        let warm = KubeNFTCompiler.compile(load(source).cluster, context: context)
        let peak = ProcessInfoReader.peakRSS()
        var result = PolicyStageResult(
            scenario: scenario, node: nodeName ?? "all", repeats: repeats, inputBytes: bytes.count, objects: 0, errors: 0,
            loadSeconds: 0, compileSeconds: 0, emitTextSeconds: 0, textBytes: 0, chains: 0, rules: 0, sets: 0,
            setElements: 0, peakRSSBytes: peak, paths: PolicyPathStats(warm.ruleset))
        var samples: [[Double]] = [[], [], []]
        for round in 0..<repeats {
            let (loaded, load) = Clock.measure { self.load(source) }
            let (compiled, compile) = Clock.measure { KubeNFTCompiler.compile(loaded.cluster, context: context) }
            let (text, emit) = Clock.measure { NFTTextEmitter().emit(compiled.ruleset) }
            samples[0].append(load)
            samples[1].append(compile)
            samples[2].append(emit)
            guard round == 0 else { continue }
            record(loaded, compiled, into: &result)
            result.textBytes = text.utf8.count
            if let emitPath { _ = FileManager.default.createFile(atPath: emitPath, contents: Data(text.utf8)) }
        }
        result.loadSeconds = Self.median(samples[0])
        result.compileSeconds = Self.median(samples[1])
        result.emitTextSeconds = Self.median(samples[2])
        return result
    }

    /// Ingest as `Pipeline.run` does it: load, then sort into canonical order.
    private func load(_ source: ManifestSource) -> LoadResult {
        var loaded = ManifestLoader.load([source])
        loaded.cluster.canonicalize()
        return loaded
    }

    private func record(_ loaded: LoadResult, _ compiled: CompileResult, into result: inout PolicyStageResult) {
        let cluster = loaded.cluster
        result.objects = cluster.services.count + cluster.endpointSlices.count + cluster.pods.count
            + cluster.namespaces.count + cluster.nodes.count + cluster.networkPolicies.count
        let errors = loaded.errors + compiled.diagnostics.filter { $0.severity == .error }
        result.errors = errors.count
        result.firstError = errors.first.map { "\($0)" }
        result.chains = compiled.ruleset.chains.count
        result.rules = compiled.ruleset.chains.reduce(0) { $0 + $1.rules.count }
        result.sets = compiled.ruleset.sets.count
        result.setElements = compiled.ruleset.sets.reduce(0) { $0 + $1.elements.count }
    }

    static func median(_ samples: [Double]) -> Double {
        samples.isEmpty ? 0 : samples.sorted()[samples.count / 2]
    }
}
