import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The NetworkPolicy and diff settings of a full run, from its arguments.
func policySettings(_ arguments: Arguments, base: String?) throws(BenchError) -> PolicySettings {
    var settings = PolicySettings()
    if let base { settings.base = base + "/policies" }
    if let list = arguments.values["policy-scenarios"] {
        let parsed = list.split(separator: ",").map { PolicyScenario.parse(String($0)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw BenchError("--policy-scenarios wants e.g. 2000x100,20000x1000") }
        settings.scenarios = parsed.compactMap { $0 }
    }
    if let list = arguments.values["diff-scenarios"] {
        settings.diffs = try list.split(separator: ",").map { item throws(BenchError) in
            let parts = item.split(separator: "/")
            guard parts.count == 2, let services = Int(parts[0]), services > 0, var scenario = PolicyScenario.parse(String(parts[1])) else {
                throw BenchError("--diff-scenarios wants SERVICES/PODSxPOLICIES, e.g. 10000/20000x1000")
            }
            scenario.services = services
            return scenario
        }
    }
    if let list = arguments.values["diff-changes"] {
        settings.diffChanges = list.split(separator: ",").map(String.init)
        guard settings.diffChanges.allSatisfy({ ["small", "namespace-wide"].contains($0) }) else {
            throw BenchError("--diff-changes takes small and namespace-wide")
        }
    }
    let namespaces = try arguments.int("namespaces", default: 100)
    for index in settings.scenarios.indices { settings.scenarios[index].namespaces = namespaces }
    for index in settings.diffs.indices { settings.diffs[index].namespaces = namespaces }
    settings.diffTimeLimit = try arguments.int("diff-time-limit", default: 300)
    settings.repeats = try arguments.int("repeats", default: 3)
    settings.kernel = !arguments.flags.contains("no-kernel")
    settings.keep = arguments.flags.contains("keep")
    return settings
}

/// `run-policy`: measure one NetworkPolicy scenario for one node (or all pods), print one JSON line.
func runPolicy(_ arguments: Arguments) throws(BenchError) {
    let scenario = PolicyScenario(pods: try arguments.int("pods", default: 2000), policies: try arguments.int("policies", default: 100),
                                  namespaces: try arguments.int("namespaces", default: 100))
    var input = arguments.values["input"]
    if input == nil {
        let path = NSTemporaryDirectory() + "kubenft-bench-np-\(getpid()).yaml"
        guard PolicyObjectFactory(plan: PolicyClusterPlan(scenario)).write(to: path) != nil else { throw BenchError("could not write \(path)") }
        input = path
    }
    guard let path = input, let bytes = readBytes(path) else { throw BenchError("cannot read \(input ?? "input")") }
    if arguments.values["input"] == nil { try? FileManager.default.removeItem(atPath: path) }
    let runner = PolicyStageRunner(scenario: scenario, nodeName: arguments.values["node"], repeats: try arguments.int("repeats", default: 3))
    let result = runner.run(input: bytes, name: path, emitPath: arguments.values["emit"])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let line = try? encoder.encode(result) else { throw BenchError("cannot encode the result") }
    print(String(decoding: line, as: UTF8.self))
}

/// `run-diff`: time `ChangeAnalysis.compare` of a cluster and its changed version.
func runDiff(_ arguments: Arguments) throws(BenchError) {
    var scenario = PolicyScenario(pods: try arguments.int("pods", default: 20000), policies: try arguments.int("policies", default: 1000),
                                  namespaces: try arguments.int("namespaces", default: 100))
    if arguments.values["services"] != nil { scenario.services = try arguments.int("services", default: 10000) }
    let change = arguments.values["change"] ?? "small"
    guard ["small", "namespace-wide"].contains(change) else { throw BenchError("--change takes small or namespace-wide") }
    let directory = arguments.values["workdir"] ?? NSTemporaryDirectory() + "kubenft-bench-diff-\(getpid())"
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { if arguments.values["workdir"] == nil { try? FileManager.default.removeItem(atPath: directory) } }
    try DiffRunner(scenario: scenario, change: change, directory: directory,
                   timeLimit: try arguments.int("time-limit", default: 300), declared: arguments.flags.contains("declared"), keep: arguments.flags.contains("keep")).run()
}
