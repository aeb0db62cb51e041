import Foundation
import KubeManifest
import KubeNFTCompiler
import NFTRuleset

/// What `run-one` measured for one scenario and one input format. Times are medians over the
/// repeats, in seconds; sizes in bytes.
struct StageResult: Codable {
    var scenario: Scenario
    var format: ClusterWriter.Format
    var repeats: Int
    var inputBytes: Int
    var objects: Int
    var loadErrors: Int
    var compileErrors: Int
    var firstError: String?
    var loadSeconds: Double
    var compileSeconds: Double
    var emitTextSeconds: Double
    var emitJSONSeconds: Double
    var endToEndSeconds: Double
    var textBytes: Int
    var jsonBytes: Int
    var chains: Int
    var rules: Int
    var setElements: Int
    /// VmHWM after one end-to-end pass from the file, the first thing the process does: the memory
    /// `kubenft compile` needs for that input.
    var peakRSSBytes: Int?
    /// VmHWM after every stage, with the JSON emit held alongside the text (before the baseline).
    var peakRSSAllStagesBytes: Int?
    /// Foundation `JSONSerialization` on the same JSON bytes (JSON input only).
    var baselineSeconds: Double?

    var ingestMBps: Double { Double(inputBytes) / 1e6 / loadSeconds }
    var baselineMBps: Double? { baselineSeconds.map { Double(inputBytes) / 1e6 / $0 } }
}

/// The measurements of one child process: time load (from the file, as `kubenft compile` reads
/// it), compile and emit separately and as one end-to-end pass.
struct StageRunner {
    var scenario: Scenario
    var format: ClusterWriter.Format
    var repeats: Int

    static func context() -> NodeContext {
        NodeContext(nodeName: ClusterPlan.nodeName, nodeIPs: [IPAddress(ClusterPlan.nodeIP)].compactMap { $0 },
                    clusterCIDRs: [CIDR(ClusterPlan.clusterCIDR)].compactMap { $0 })
    }

    /// Runs every stage on the file at `path`; writes the emitted text to `emitPath` when given.
    func run(path: String, emitPath: String?) throws(BenchError) -> StageResult {
        let sources: [ManifestSource]
        do { sources = try ManifestLoader.sources(paths: [path]) } catch { throw BenchError("cannot read \(path): \(error)") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let context = Self.context()
        var result = StageResult(
            scenario: scenario, format: format, repeats: repeats, inputBytes: size, objects: 0, loadErrors: 0,
            compileErrors: 0, loadSeconds: 0, compileSeconds: 0, emitTextSeconds: 0, emitJSONSeconds: 0,
            endToEndSeconds: 0, textBytes: 0, jsonBytes: 0, chains: 0, rules: 0, setElements: 0)
        var times: [String: [Double]] = [:]
        // End to end first, so that the peak RSS it leaves behind is the pipeline's alone.
        for round in 0..<repeats {
            let (_, total) = Clock.measure { () -> Int in
                let loaded = ManifestLoader.load(sources)
                let compiled = KubeNFTCompiler.compile(loaded.cluster, context: context)
                return NFTTextEmitter().emit(compiled.ruleset).utf8.count
            }
            times["e2e", default: []].append(total)
            if round == 0 { result.peakRSSBytes = ProcessInfoReader.peakRSS() }
        }
        for round in 0..<repeats {
            let (loaded, load) = Clock.measure { ManifestLoader.load(sources) }
            let (compiled, compile) = Clock.measure { KubeNFTCompiler.compile(loaded.cluster, context: context) }
            let (text, emitText) = Clock.measure { NFTTextEmitter().emit(compiled.ruleset) }
            let (json, emitJSON) = Clock.measure { NFTJSONEmitter().emit(compiled.ruleset) }
            times["load", default: []].append(load)
            times["compile", default: []].append(compile)
            times["text", default: []].append(emitText)
            times["json", default: []].append(emitJSON)
            if round == 0 {
                record(loaded: loaded, compiled: compiled, into: &result)
                result.textBytes = text.utf8.count
                result.jsonBytes = json.utf8.count
                if let emitPath { _ = FileManager.default.createFile(atPath: emitPath, contents: Data(text.utf8)) }
            }
        }
        result.loadSeconds = median(times["load"])
        result.compileSeconds = median(times["compile"])
        result.emitTextSeconds = median(times["text"])
        result.emitJSONSeconds = median(times["json"])
        result.endToEndSeconds = median(times["e2e"])
        result.peakRSSAllStagesBytes = ProcessInfoReader.peakRSS()
        if format == .json, let bytes = readBytes(path) { result.baselineSeconds = baseline(bytes) }
        return result
    }

    private func record(loaded: LoadResult, compiled: CompileResult, into result: inout StageResult) {
        let cluster = loaded.cluster
        result.objects = cluster.services.count + cluster.endpointSlices.count + cluster.pods.count
            + cluster.namespaces.count + cluster.nodes.count
        result.loadErrors = loaded.errors.count
        let compileErrors = compiled.diagnostics.filter { $0.severity == .error }
        result.compileErrors = compileErrors.count
        result.firstError = (loaded.errors.first ?? compileErrors.first).map { "\($0)" }
        result.chains = compiled.ruleset.chains.count
        result.rules = compiled.ruleset.chains.reduce(0) { $0 + $1.rules.count }
        result.setElements = compiled.ruleset.sets.reduce(0) { $0 + $1.elements.count }
    }

    /// Median seconds of Foundation's JSONSerialization parsing the same bytes into objects.
    private func baseline(_ bytes: [UInt8]) -> Double? {
        let data = Data(bytes)
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = Clock.now()
            let object = try? JSONSerialization.jsonObject(with: data)
            samples.append(Clock.now() - start)
            // Freeing the object graph is not part of parsing (our load result is not freed either).
            guard withExtendedLifetime(object, { object != nil }) else { return nil }
        }
        return median(samples)
    }

    private func median(_ samples: [Double]?) -> Double {
        guard let samples, !samples.isEmpty else { return 0 }
        return samples.sorted()[samples.count / 2]
    }
}
