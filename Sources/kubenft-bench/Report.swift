import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The figures the benchmark is judged against.
enum Targets {
    static let yamlMBps = 25.0
    static let jsonMBps = 50.0
    /// End-to-end (load, compile, emit text) for 10k services × 10 endpoints.
    static let endToEndSeconds = 1.5
    static let peakRSSMB = 300.0
    /// `nft -f` of the emitted 10k × 10 text.
    static let kernelLoadSeconds = 2.0
    static let largeServices = 10_000
}

/// The whole run, as printed with `--json`.
struct BenchReport: Codable {
    var machine: [String: String]
    var repeats: Int
    var scenarios: [ScenarioReport]
    /// NetworkPolicy scenarios and diff scenarios, when those suites ran.
    var policies: [PolicyReport]?
    var diffs: [DiffResult]?
    /// New TCP connections per second through a ClusterIP, when the dataplane suite ran.
    var dataplane: DataplaneReport?

    static func machineFacts() -> [String: String] {
        var facts = ["cores": String(ProcessInfo.processInfo.activeProcessorCount)]
        var names = utsname()
        uname(&names)
        facts["kernel"] = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        facts["memoryGB"] = String(format: "%.1f", Double(ProcessInfo.processInfo.physicalMemory) / 1e9)
        return facts
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Renders a report as markdown tables with each target beside its figure.
struct MarkdownReport {
    var report: BenchReport

    func render() -> String {
        var out = "## kubenft benchmark\n\n"
        out += "Machine: \(report.machine["cores"] ?? "?") cores, \(report.machine["memoryGB"] ?? "?") GB, "
        out += "kernel \(report.machine["kernel"] ?? "?"). Times are medians of \(report.repeats) runs.\n\n"
        if !report.scenarios.isEmpty { out += ingestTable() + "\n" + pipelineTable() + "\n" + kernelTable() }
        if let policies = report.policies, !policies.isEmpty { out += "\n" + PolicyMarkdown(reports: policies).render() }
        if let diffs = report.diffs, !diffs.isEmpty { out += "\n" + PolicyMarkdown.diffTable(diffs) }
        if let dataplane = report.dataplane { out += "\n" + dataplane.markdown() }
        let failures = report.scenarios.flatMap { scenario in scenario.failures.map { "\(scenario.scenario.label): \($0)" } }
        if !failures.isEmpty { out += "\nFailures:\n" + failures.map { "- \($0)\n" }.joined() }
        return out
    }

    private func ingestTable() -> String {
        var out = "### Ingest (ManifestLoader.load from the file)\n\n"
        out += "| scenario | format | input | objects | load | throughput | target | baseline | ratio |\n"
        out += "|---|---|---:|---:|---:|---:|---|---|---:|\n"
        for scenario in report.scenarios {
            for stage in scenario.stages {
                let target = stage.format == .yaml ? Targets.yamlMBps : Targets.jsonMBps
                let baseline: String
                let ratio: String
                if stage.format == .json, let reference = stage.baselineMBps {
                    baseline = "JSONSerialization \(Self.fixed(reference, 1)) MB/s"
                    ratio = Self.fixed(stage.ingestMBps / reference, 2) + "×"
                } else {
                    baseline = "target \(Self.fixed(target, 0)) MB/s"
                    ratio = Self.fixed(stage.ingestMBps / target, 2) + "×"
                }
                let errors = stage.loadErrors > 0 ? " (\(stage.loadErrors) errors)" : ""
                out += "| \(scenario.scenario.label) | \(stage.format.rawValue.uppercased()) | \(megabytes(stage.inputBytes)) MB "
                out += "| \(stage.objects)\(errors) | \(Self.seconds(stage.loadSeconds)) | \(Self.fixed(stage.ingestMBps, 1)) MB/s "
                out += "| ≥ \(Self.fixed(target, 0)) MB/s: \(Self.verdict(stage.ingestMBps, atLeast: target)) | \(baseline) | \(ratio) |\n"
            }
        }
        return out
    }

    private func pipelineTable() -> String {
        var out = "### Compile, emit, end to end, memory\n\n"
        out += "| scenario | format | compile | emit text | emit JSON | end-to-end | target ≤ \(Self.fixed(Targets.endToEndSeconds, 1)) s "
        out += "| peak RSS (end to end) | target ≤ \(Self.fixed(Targets.peakRSSMB, 0)) MB | peak RSS (all stages) |\n"
        out += "|---|---|---:|---:|---:|---:|---|---:|---|---:|\n"
        for scenario in report.scenarios {
            for stage in scenario.stages {
                let large = scenario.scenario.services >= Targets.largeServices
                let endToEnd = large ? Self.verdict(stage.endToEndSeconds, atMost: Targets.endToEndSeconds) : "(10k×10 only)"
                let peak = stage.peakRSSBytes.map { Double($0) / 1e6 }
                out += "| \(scenario.scenario.label) | \(stage.format.rawValue.uppercased()) | \(Self.seconds(stage.compileSeconds)) "
                out += "| \(Self.seconds(stage.emitTextSeconds)) (\(megabytes(stage.textBytes)) MB) "
                out += "| \(Self.seconds(stage.emitJSONSeconds)) (\(megabytes(stage.jsonBytes)) MB) "
                out += "| \(Self.seconds(stage.endToEndSeconds)) | \(endToEnd) "
                out += "| \(peak.map { Self.fixed($0, 0) + " MB" } ?? "n/a") "
                out += "| \(peak.map { Self.verdict($0, atMost: Targets.peakRSSMB) } ?? "n/a") "
                out += "| \(stage.peakRSSAllStagesBytes.map { Self.fixed(Double($0) / 1e6, 0) + " MB" } ?? "n/a") |\n"
            }
        }
        return out
    }

    private func kernelTable() -> String {
        var out = "### Kernel load (`nft -f` in a fresh network namespace)\n\n"
        out += "| scenario | ruleset | ours: wall (user, sys) | target ≤ \(Self.fixed(Targets.kernelLoadSeconds, 0)) s "
        out += "| kube-proxy shape | kube-proxy shape: wall (user, sys) | ours ÷ kube-proxy |\n"
        out += "|---|---|---:|---|---|---:|---:|\n"
        for scenario in report.scenarios {
            let stage = scenario.stage(.yaml)
            let size = stage.map { "\(megabytes($0.textBytes)) MB, \($0.chains) chains, \($0.setElements) elements" } ?? "n/a"
            out += "| \(scenario.scenario.label) | \(size) | "
            guard let ours = scenario.ours else {
                out += "skipped: \(scenario.kernelSkipped ?? "no ruleset") | | | | |\n"
                continue
            }
            let large = scenario.scenario.services >= Targets.largeServices
            out += ours.ok ? Self.load(ours) : "failed: \(ours.error ?? "?")"
            out += " | " + (large && ours.ok ? Self.verdict(ours.wallSeconds, atMost: Targets.kernelLoadSeconds) : "(10k×10 only)")
            if let theirs = scenario.kubeProxy {
                let shape = scenario.kubeProxyTextBytes.map { "\(megabytes($0)) MB" } ?? "n/a"
                let figure = theirs.ok ? Self.load(theirs) : "failed: \(theirs.error ?? "?")"
                let ratio = theirs.ok && ours.ok ? Self.fixed(ours.wallSeconds / theirs.wallSeconds, 3) + "×" : "n/a"
                out += " | \(shape) | \(figure) | \(ratio) |\n"
            } else {
                out += " | skipped: \(scenario.kubeProxySkipped ?? "n/a") | | |\n"
            }
        }
        return out
    }

    static func load(_ result: KernelLoadResult) -> String {
        "\(seconds(result.wallSeconds)) (\(seconds(result.userSeconds)), \(seconds(result.systemSeconds)))"
    }

    static func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }

    static func seconds(_ value: Double) -> String {
        value < 0.1 ? String(format: "%.1f ms", value * 1000) : String(format: "%.2f s", value)
    }

    static func verdict(_ value: Double, atLeast target: Double) -> String {
        value >= target ? "met" : "missed (\(fixed(value / target * 100, 0))% of target)"
    }

    static func verdict(_ value: Double, atMost target: Double) -> String {
        value <= target ? "met" : "missed (\(fixed(value / target, 1))× the limit)"
    }
}
