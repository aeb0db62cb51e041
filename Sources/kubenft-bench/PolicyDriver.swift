import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything measured for one NetworkPolicy scenario, per compiled node ("node-1" and "all").
struct PolicyReport: Codable {
    var scenario: PolicyScenario
    var stages: [PolicyStageResult]
    var loads: [String: KernelLoadResult]
    var failures: [String]
    var kernelSkipped: String?
}

/// The settings of the NetworkPolicy and diff parts of a run.
struct PolicySettings {
    var scenarios = [PolicyScenario(pods: 2000, policies: 100), PolicyScenario(pods: 20000, policies: 100),
                     PolicyScenario(pods: 20000, policies: 1000)]
    var diffs = [PolicyScenario(pods: 20000, policies: 1000, services: 10000)]
    var diffChanges = ["small", "namespace-wide"]
    var diffTimeLimit = 300
    var repeats = 3
    var kernel = true
    var keep = false
    var base = NSTemporaryDirectory() + "kubenft-bench-np-\(getpid())"
}

/// Runs the NetworkPolicy scenarios and the diff scenarios, each measurement in its own child.
struct PolicyDriver {
    var settings: PolicySettings
    static let nodes: [String?] = [ClusterPlan.nodeName, nil]

    func runPolicies() -> [PolicyReport] {
        let kernelReason = settings.kernel ? KernelLoader.unavailableReason() : "disabled with --no-kernel"
        return settings.scenarios.map { scenario in
            let directory = settings.base + "/np-\(scenario.pods)x\(scenario.policies)"
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { if !settings.keep { try? FileManager.default.removeItem(atPath: directory) } }
            return measure(scenario, in: directory, kernelReason: kernelReason)
        }
    }

    private func measure(_ scenario: PolicyScenario, in directory: String, kernelReason: String?) -> PolicyReport {
        var report = PolicyReport(scenario: scenario, stages: [], loads: [:], failures: [], kernelSkipped: kernelReason)
        let input = directory + "/cluster.yaml"
        log("\(scenario.label): writing the input")
        guard let size = PolicyObjectFactory(plan: PolicyClusterPlan(scenario)).write(to: input) else {
            report.failures.append("could not write \(input)")
            return report
        }
        for node in Self.nodes {
            let label = node ?? "all"
            let emit = directory + "/kubenft-\(label).nft"
            log("\(scenario.label), node \(label): measuring (\(megabytes(size)) MB, \(settings.repeats) repeats)")
            var argv = ["run-policy", "--pods", String(scenario.pods), "--policies", String(scenario.policies),
                        "--namespaces", String(scenario.namespaces), "--repeats", String(settings.repeats),
                        "--input", input, "--emit", emit]
            if let node { argv += ["--node", node] }
            switch Self.child(argv, directory: directory, as: PolicyStageResult.self) {
            case .success(let stage): report.stages.append(stage)
            case .failure(let problem): report.failures.append("node \(label): \(problem.message)")
            }
            guard kernelReason == nil, FileManager.default.fileExists(atPath: emit) else { continue }
            log("\(scenario.label), node \(label): loading the ruleset with nft -f in a fresh network namespace")
            report.loads[label] = KernelLoader.load(file: emit, scratch: directory)
            if !settings.keep { try? FileManager.default.removeItem(atPath: emit) }
        }
        if !settings.keep { try? FileManager.default.removeItem(atPath: input) }
        return report
    }

    func runDiffs() -> [DiffResult] {
        var results: [DiffResult] = []
        for scenario in settings.diffs {
            for change in settings.diffChanges {
                let directory = settings.base + "/diff-\(scenario.services ?? 0)-\(change)"
                try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: directory) }
                log("diff \(scenario.label), \(change) change (time limit \(settings.diffTimeLimit) s)")
                var argv = ["run-diff", "--pods", String(scenario.pods), "--policies", String(scenario.policies),
                            "--namespaces", String(scenario.namespaces), "--change", change,
                            "--workdir", directory, "--time-limit", String(settings.diffTimeLimit)]
                if let services = scenario.services { argv += ["--services", String(services)] }
                switch Self.child(argv, directory: directory, as: DiffResult.self, partialOK: true) {
                case .success(let result): results.append(result)
                case .failure(let problem):
                    results.append(DiffResult(scenario: scenario, change: change, inputBytes: 0, pods: 0, beforeSeconds: 0,
                                              afterSeconds: 0, error: problem.message))
                }
            }
        }
        return results
    }

    /// Re-executes this program with `argv` and decodes the last JSON line it printed. With
    /// `partialOK`, a child ended by SIGALRM (its own time limit) still yields its last line.
    static func child<T: Decodable>(_ argv: [String], directory: String, as type: T.Type,
                                    partialOK: Bool = false) -> Result<T, BenchError> {
        let name = argv.first ?? "child"
        let stdoutPath = directory + "/\(name).out", stderrPath = directory + "/\(name).err"
        defer {
            try? FileManager.default.removeItem(atPath: stdoutPath)
            try? FileManager.default.removeItem(atPath: stderrPath)
        }
        let outcome = Spawner.run([ProcessInfoReader.executablePath()] + argv, stdoutPath: stdoutPath, stderrPath: stderrPath)
        let output = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        let decoded = output.split(separator: "\n").last.flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
        let alarmed = outcome.status == 128 + SIGALRM
        if let decoded, outcome.succeeded || (partialOK && alarmed) {
            if alarmed, var partial = decoded as? DiffResult {
                partial.timedOut = true
                if let marked = partial as? T { return .success(marked) }
            }
            return .success(decoded)
        }
        let errors = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        return .failure(BenchError("\(name) exited \(outcome.status): \(errors.suffix(300))"))
    }
}
