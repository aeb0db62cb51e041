import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything measured for one scenario: the pipeline per input format and the kernel loads.
struct ScenarioReport: Codable {
    var scenario: Scenario
    var stages: [StageResult]
    var failures: [String]
    var ours: KernelLoadResult?
    var kubeProxy: KernelLoadResult?
    var kubeProxyTextBytes: Int?
    /// Why the kernel loads, or only the kube-proxy-shaped one, were not run.
    var kernelSkipped: String?
    var kubeProxySkipped: String?

    func stage(_ format: ClusterWriter.Format) -> StageResult? { stages.first { $0.format == format } }
}

/// The settings of a full benchmark run.
struct BenchSettings {
    var scenarios = [Scenario(services: 1000, endpoints: 10), Scenario(services: 10000, endpoints: 10)]
    var repeats = 3
    var kubeProxyMax = 3000
    var kernel = true
    var keep = false
    var workDirectory: String?
}

/// Runs every scenario: generates the input files, measures each format in a child process
/// (so that each gets its own peak RSS), then loads the emitted text into the kernel.
struct Driver {
    var settings: BenchSettings

    func run() -> [ScenarioReport] {
        let base = settings.workDirectory ?? NSTemporaryDirectory() + "kubenft-bench-\(getpid())"
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { if !settings.keep && settings.workDirectory == nil { try? FileManager.default.removeItem(atPath: base) } }
        let kernelReason = settings.kernel ? KernelLoader.unavailableReason() : "disabled with --no-kernel"
        if let kernelReason { log("kernel load figures skipped: \(kernelReason)") }
        return settings.scenarios.map { scenario in
            let directory = base + "/\(scenario.services)x\(scenario.endpoints)" + (scenario.pods ? "" : "-nopods")
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { if !settings.keep { try? FileManager.default.removeItem(atPath: directory) } }
            return measure(scenario, in: directory, kernelReason: kernelReason)
        }
    }

    private func measure(_ scenario: Scenario, in directory: String, kernelReason: String?) -> ScenarioReport {
        var report = ScenarioReport(scenario: scenario, stages: [], failures: [], kernelSkipped: kernelReason)
        let plan = ClusterPlan(scenario)
        let textPath = directory + "/kubenft.nft"
        for format in ClusterWriter.Format.allCases {
            let input = directory + "/cluster.\(format.rawValue)"
            log("\(scenario.label): writing \(format.rawValue) input")
            guard let size = ClusterWriter.write(plan, format: format, to: input) else {
                report.failures.append("could not write \(input)")
                continue
            }
            log("\(scenario.label): measuring \(format.rawValue) (\(megabytes(size)) MB, \(settings.repeats) repeats)")
            switch child(scenario, format: format, input: input, emit: format == .yaml ? textPath : nil, directory: directory) {
            case .success(let stage): report.stages.append(stage)
            case .failure(let problem): report.failures.append("\(format.rawValue): \(problem.message)")
            }
            if !settings.keep { try? FileManager.default.removeItem(atPath: input) }
        }
        guard kernelReason == nil, FileManager.default.fileExists(atPath: textPath) else { return report }
        log("\(scenario.label): loading the emitted ruleset with nft -f in a fresh network namespace")
        report.ours = KernelLoader.load(file: textPath, scratch: directory)
        guard scenario.services <= settings.kubeProxyMax else {
            report.kubeProxySkipped = "above --kube-proxy-max \(settings.kubeProxyMax) (load time grows quadratically)"
            return report
        }
        let shapePath = directory + "/kube-proxy-shape.nft"
        guard KubeProxyShape.write(plan, to: shapePath) else {
            report.failures.append("could not write \(shapePath)")
            return report
        }
        report.kubeProxyTextBytes = (try? FileManager.default.attributesOfItem(atPath: shapePath)[.size] as? Int) ?? nil
        log("\(scenario.label): loading the kube-proxy-shaped ruleset of the same size")
        report.kubeProxy = KernelLoader.load(file: shapePath, scratch: directory)
        return report
    }

    /// Re-executes this program as `run-one` and decodes the JSON line it prints.
    private func child(_ scenario: Scenario, format: ClusterWriter.Format, input: String, emit: String?,
                       directory: String) -> Result<StageResult, BenchError> {
        var argv = [ProcessInfoReader.executablePath(), "run-one",
                    "--services", String(scenario.services), "--endpoints", String(scenario.endpoints),
                    "--namespaces", String(scenario.namespaces), "--format", format.rawValue,
                    "--repeats", String(settings.repeats), "--input", input]
        if let emit { argv += ["--emit", emit] }
        if !scenario.pods { argv.append("--no-pods") }
        let stdoutPath = directory + "/run-one-\(format.rawValue).out"
        let stderrPath = directory + "/run-one-\(format.rawValue).err"
        let outcome = Spawner.run(argv, stdoutPath: stdoutPath, stderrPath: stderrPath)
        let output = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        guard outcome.succeeded, let line = output.split(separator: "\n").last,
              let stage = try? JSONDecoder().decode(StageResult.self, from: Data(line.utf8)) else {
            let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            return .failure(BenchError("run-one exited \(outcome.status): \(errors.suffix(300))"))
        }
        return .success(stage)
    }
}

/// A problem that ends a measurement or the whole run.
struct BenchError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

func log(_ message: String) {
    FileHandle.standardError.write(Data("kubenft-bench: \(message)\n".utf8))
}

func megabytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1e6) }
