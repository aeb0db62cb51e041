import Foundation
#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: kubenft-bench [--scenarios 1000x10,10000x10] [--namespaces 100] [--repeats 3]
                         [--kube-proxy-max 3000] [--no-pods] [--no-kernel] [--keep] [--workdir DIR]
                         [--suites services,policies,diff] [--policy-scenarios 2000x100,20000x100,20000x1000]
                         [--diff-scenarios 10000/20000x1000] [--diff-changes small,namespace-wide]
                         [--diff-time-limit 300] [--json] [--json-file PATH]
                         [--dp-count 3000] [--dp-rounds 5] [--dp-warmup 300] [--dp-time-limit 30]
                         [--dp-services 10,10000] [--dp-endpoints 10] [--dp-clients 1] [--dp-servers 2] [--dp-no-iptables]
           kubenft-bench run-one --services N --endpoints M --format yaml|json
                         [--namespaces 100] [--repeats 3] [--no-pods] [--input FILE] [--emit FILE]
           kubenft-bench run-policy --pods P --policies Q [--node node-1] [--namespaces 100] [--repeats 3]
                         [--input FILE] [--emit FILE]
           kubenft-bench run-diff --pods P --policies Q [--services S] [--change small|namespace-wide]
                         [--namespaces 100] [--workdir DIR] [--time-limit 300] [--declared]
           kubenft-bench dp-serve --port P --name NAME
           kubenft-bench dp-connect --to IP --port P --count K [--time-limit S] [--source IP]

    Generates synthetic clusters and measures ingest, compile, emit, end-to-end time, peak RSS
    (one child process per scenario and format) and, as root, the `nft -f` load time of the
    emitted ruleset and of a kube-proxy-shaped ruleset of the same size in throw-away network
    namespaces. The policies suite does the same for P pods × Q NetworkPolicies, compiled for node-1
    and for all pods, with the rules a new connection can traverse; the diff suite times
    ChangeAnalysis.compare of two versions of a cluster. The dataplane suite (not run by default; root)
    counts new TCP connections per second through a ClusterIP in a lab of network namespaces with
    kubenft's ruleset for 10 and for 10,000 services loaded, and with a linear chain of 10,000 DNAT
    rules; dp-serve and dp-connect are the programs it runs inside the namespaces.
    Prints markdown tables, or JSON with --json.
    """

/// Command-line arguments: `--flag` switches and `--key value` options.
struct Arguments {
    var flags: Set<String> = []
    var values: [String: String] = [:]

    static let switches: Set<String> = ["json", "keep", "no-kernel", "no-pods", "help", "declared", "dp-no-iptables"]

    static func parse(_ args: ArraySlice<String>) -> Result<Arguments, BenchError> {
        var parsed = Arguments()
        var iterator = args.makeIterator()
        while let arg = iterator.next() {
            guard arg.hasPrefix("--") else { return .failure(BenchError("unexpected argument '\(arg)'")) }
            let key = String(arg.dropFirst(2))
            if switches.contains(key) {
                parsed.flags.insert(key)
            } else if let value = iterator.next() {
                parsed.values[key] = value
            } else {
                return .failure(BenchError("missing value for \(arg)"))
            }
        }
        return .success(parsed)
    }

    func int(_ key: String, default fallback: Int) throws(BenchError) -> Int {
        guard let text = values[key] else { return fallback }
        guard let number = Int(text), number > 0 else { throw BenchError("--\(key) wants a positive integer, got '\(text)'") }
        return number
    }
}

/// `run-one`: measure a single scenario and format, print one JSON line.
func runOne(_ arguments: Arguments) throws(BenchError) {
    var scenario = Scenario(services: try arguments.int("services", default: 1000),
                            endpoints: try arguments.int("endpoints", default: 10),
                            namespaces: try arguments.int("namespaces", default: 100))
    scenario.pods = !arguments.flags.contains("no-pods")
    guard let format = ClusterWriter.Format(rawValue: arguments.values["format"] ?? "yaml") else {
        throw BenchError("--format must be yaml or json")
    }
    var input = arguments.values["input"]
    if input == nil {
        let path = NSTemporaryDirectory() + "kubenft-bench-\(getpid()).\(format.rawValue)"
        guard ClusterWriter.write(ClusterPlan(scenario), format: format, to: path) != nil else {
            throw BenchError("could not write \(path)")
        }
        input = path
    }
    guard let path = input else { throw BenchError("cannot read input") }
    defer { if arguments.values["input"] == nil { try? FileManager.default.removeItem(atPath: path) } }
    let runner = StageRunner(scenario: scenario, format: format, repeats: try arguments.int("repeats", default: 3))
    let result = try runner.run(path: path, emitPath: arguments.values["emit"])
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let line = try? encoder.encode(result) else { throw BenchError("cannot encode the result") }
    print(String(decoding: line, as: UTF8.self))
}

/// A file's bytes, with no second copy left behind to inflate the peak RSS.
func readBytes(_ path: String) -> [UInt8]? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return [UInt8](data)
}

/// The full run: every scenario, then the report.
func runAll(_ arguments: Arguments) throws(BenchError) {
    var settings = BenchSettings()
    if let list = arguments.values["scenarios"] {
        let parsed = list.split(separator: ",").map { Scenario.parse(String($0)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }) else { throw BenchError("--scenarios wants e.g. 1000x10,10000x10") }
        settings.scenarios = parsed.compactMap { $0 }
    }
    let namespaces = try arguments.int("namespaces", default: 100)
    for index in settings.scenarios.indices {
        settings.scenarios[index].namespaces = namespaces
        settings.scenarios[index].pods = !arguments.flags.contains("no-pods")
    }
    settings.repeats = try arguments.int("repeats", default: 3)
    settings.kubeProxyMax = try arguments.int("kube-proxy-max", default: 3000)
    settings.kernel = !arguments.flags.contains("no-kernel")
    settings.keep = arguments.flags.contains("keep")
    settings.workDirectory = arguments.values["workdir"]
    let suites = Set((arguments.values["suites"] ?? "services,policies,diff").split(separator: ",").map(String.init))
    let policy = try policySettings(arguments, base: settings.workDirectory)
    var report = BenchReport(machine: BenchReport.machineFacts(), repeats: settings.repeats,
                             scenarios: suites.contains("services") ? Driver(settings: settings).run() : [])
    if suites.contains("policies") { report.policies = PolicyDriver(settings: policy).runPolicies() }
    if suites.contains("diff") { report.diffs = PolicyDriver(settings: policy).runDiffs() }
    if suites.contains("dataplane") {
        let scratch = (settings.workDirectory ?? NSTemporaryDirectory() + "kubenft-bench-\(getpid())") + "/dataplane"
        report.dataplane = DataplaneDriver(settings: try dataplaneSettings(arguments), scratch: scratch).run()
        if !settings.keep { try? FileManager.default.removeItem(atPath: scratch) }
    }
    if policy.base != settings.workDirectory && !policy.keep { try? FileManager.default.removeItem(atPath: policy.base) }
    if let path = arguments.values["json-file"] {
        guard FileManager.default.createFile(atPath: path, contents: Data(report.json().utf8)) else {
            throw BenchError("cannot write \(path)")
        }
    }
    print(arguments.flags.contains("json") ? report.json() : MarkdownReport(report: report).render())
}

func main() -> Int32 {
    var args = CommandLine.arguments.dropFirst()
    let command = ["run-one", "run-policy", "run-diff", "dp-serve", "dp-connect"].contains(args.first ?? "") ? args.first : nil
    if command != nil { args = args.dropFirst() }
    do {
        let arguments = try Arguments.parse(args).get()
        if arguments.flags.contains("help") {
            print(usage)
            return 0
        }
        switch command {
        case "run-one": try runOne(arguments)
        case "run-policy": try runPolicy(arguments)
        case "run-diff": try runDiff(arguments)
        case "dp-serve": try DataplaneAgent.serve(arguments)
        case "dp-connect": try DataplaneAgent.connectLoop(arguments)
        default: try runAll(arguments)
        }
        return 0
    } catch {
        log(error.message)
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        return 2
    }
}

exit(main())
