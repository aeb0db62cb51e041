import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The settings of the data-plane suite (`--suites dataplane`).
struct DataplaneSettings: Codable {
    /// Connections per client process and loop.
    var count = 3000
    /// Loops per configuration; configurations alternate within a round.
    var rounds = 5
    /// Seconds after which a loop stops even if it has not made `count` connections.
    var timeLimit = 30
    /// Unmeasured connections after each ruleset load.
    var warmup = 300
    var endpoints = 10
    var smallServices = 10
    var largeServices = 10_000
    /// Concurrent client processes, each with its own source address.
    var clients = 1
    /// Server processes sharing the port through SO_REUSEPORT.
    var servers = 2
    /// Whether the iptables form is measured too (off with `--dp-no-iptables`).
    var iptables = true
}

/// The tool that loads a configuration's ruleset into the lab's node.
enum DataplaneLoader {
    case nft
    case iptablesNft
    case iptablesLegacy
}

/// One configuration of the node: what is loaded and where the client connects to.
enum DataplaneConfig: String, Codable, CaseIterable {
    case kubenftSmall = "kubenft-small"
    case kubenftLarge = "kubenft-large"
    case iptablesNftSmall = "iptables-nft-small"
    case iptablesNftLarge = "iptables-nft-large"
    case iptablesLegacySmall = "iptables-legacy-small"
    case iptablesLegacyLarge = "iptables-legacy-large"
    case linearLarge = "linear-large"
    case direct

    func label(_ settings: DataplaneSettings) -> String {
        switch self {
        case .kubenftSmall: return "kubenft, \(Scenario.short(settings.smallServices)) services"
        case .kubenftLarge: return "kubenft, \(Scenario.short(settings.largeServices)) services"
        case .iptablesNftSmall: return "kubenft iptables form, iptables-nft, \(Scenario.short(settings.smallServices)) services"
        case .iptablesNftLarge: return "kubenft iptables form, iptables-nft, \(Scenario.short(settings.largeServices)) services"
        case .iptablesLegacySmall: return "kubenft iptables form, iptables-legacy, \(Scenario.short(settings.smallServices)) services"
        case .iptablesLegacyLarge: return "kubenft iptables form, iptables-legacy, \(Scenario.short(settings.largeServices)) services"
        case .linearLarge: return "linear chain, \(Scenario.short(settings.largeServices)) DNAT rules (target last)"
        case .direct: return "no ruleset, straight to the pod address (reference)"
        }
    }

    /// The tool that loads this configuration; nil when nothing is loaded.
    var loader: DataplaneLoader? {
        switch self {
        case .kubenftSmall, .kubenftLarge, .linearLarge: return .nft
        case .iptablesNftSmall, .iptablesNftLarge: return .iptablesNft
        case .iptablesLegacySmall, .iptablesLegacyLarge: return .iptablesLegacy
        case .direct: return nil
        }
    }

    /// The configurations of a run: the iptables ones only when asked for.
    static func measured(_ settings: DataplaneSettings) -> [DataplaneConfig] {
        allCases.filter { settings.iptables || $0.loader == .nft || $0.loader == nil }
    }
}

/// One measured loop (all client processes together).
struct DataplaneSample: Codable {
    var round: Int
    var ok: Int
    var failed: Int
    var seconds: Double
    var errors: [String: Int]
    /// Connection-tracking entries in the node right after the loop, and the kernel's limit.
    var conntrackEntries: Int?
    var conntrackLimit: Int?
    /// Connections answered per second.
    var rate = 0.0
}

/// Everything measured for one configuration.
struct DataplaneConfigResult: Codable {
    var config: DataplaneConfig
    var label: String
    var destination: String
    var ruleset: DataplaneRulesetFacts?
    var samples: [DataplaneSample] = []
    /// The median rate, filled in when the report is summarised.
    var medianPerSecond: Double?

    var rates: [Double] { samples.map(\.rate).sorted() }
    var medianRate: Double? { rates.isEmpty ? nil : rates[rates.count / 2] }
}

/// Builds the lab, loads each configuration in turn and runs the connection loops.
struct DataplaneDriver {
    var settings: DataplaneSettings
    var scratch: String

    /// Runs the suite; the lab's namespaces are deleted before this returns, whatever happened.
    func run() -> DataplaneReport {
        var report = DataplaneReport(settings: settings)
        if let reason = KernelLoader.unavailableReason() {
            report.skipped = reason
            log("data-plane figures skipped: \(reason)")
            return report
        }
        try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let cleanup = DataplaneCleanup()
        let signals = Self.installSignalCleanup(cleanup)
        defer {
            let left = cleanup.run()
            if !left.isEmpty { log("could not delete network namespaces: \(left.joined(separator: ", "))") }
            signals.forEach { $0.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        do {
            report.results = try measure(cleanup: cleanup)
        } catch {
            report.failures.append(error.message)
        }
        report.computeRatios()
        return report
    }

    /// Deletes the lab on SIGINT or SIGTERM before exiting.
    private static func installSignalCleanup(_ cleanup: DataplaneCleanup) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cleanup.run()
                exit(128 + number)
            }
            source.resume()
            return source
        }
    }

    private func measure(cleanup: DataplaneCleanup) throws(BenchError) -> [DataplaneConfigResult] {
        let large = ClusterPlan(Scenario(services: settings.largeServices, endpoints: settings.endpoints, pods: false))
        let target = DataplaneTarget(plan: large)
        var results = try rulesets(large: large, target: target)
        var lab = DataplaneLab(serverAddresses: target.backends, clients: settings.clients)
        if settings.iptables { lab.legacyTables = DataplaneRulesets.iptablesTables(path: rulesetPath(.iptablesLegacyLarge) ?? "") }
        log("dataplane: building the lab (\(lab.node), \(lab.server), \(lab.client))")
        try lab.build(cleanup: cleanup, scratch: scratch)
        try startServers(lab, port: target.containerPort, cleanup: cleanup)
        for round in 0..<settings.rounds {
            let order = results.indices.map { results[($0 + round) % results.count] }
            for result in order {
                log("dataplane: round \(round + 1)/\(settings.rounds), \(result.label)")
                try lab.load(ruleset: rulesetPath(result.config), with: result.config.loader ?? .nft, scratch: scratch)
                _ = try loop(lab, to: result.destination, count: settings.warmup, round: round, cleanup: cleanup)
                var sample = try loop(lab, to: result.destination, count: settings.count, round: round, cleanup: cleanup)
                let conntrack = lab.conntrack(scratch: scratch)
                sample.conntrackEntries = conntrack?.entries
                sample.conntrackLimit = conntrack?.limit
                guard let slot = results.firstIndex(where: { $0.config == result.config }) else { continue }
                results[slot].samples.append(sample)
            }
        }
        return results
    }

    private func rulesetPath(_ config: DataplaneConfig) -> String? {
        switch config.loader {
        case nil: return nil
        case .nft: return scratch + "/\(config.rawValue).nft"
        case .iptablesNft, .iptablesLegacy: return scratch + "/\(config.rawValue).rules"
        }
    }

    /// Writes the rulesets; returns the configurations with their destinations. The iptables
    /// configurations load the iptables form of the very ruleset compiled for the nft ones.
    private func rulesets(large: ClusterPlan, target: DataplaneTarget) throws(BenchError) -> [DataplaneConfigResult] {
        var results: [DataplaneConfigResult] = []
        var iptablesFacts: [DataplaneConfig: DataplaneRulesetFacts] = [:]
        let destination = "\(target.clusterIP):\(target.port)"
        for config in DataplaneConfig.measured(settings) {
            var result = DataplaneConfigResult(config: config, label: config.label(settings), destination: destination)
            let path = rulesetPath(config) ?? ""
            log("dataplane: writing the ruleset for \(result.label)")
            switch config {
            case .kubenftSmall:
                let scenario = Scenario(services: settings.smallServices, endpoints: settings.endpoints, pods: false)
                let facts = try DataplaneRulesets.kubenft(scenario, path: path, iptablesPath: iptablesPath(.iptablesNftSmall), scratch: scratch)
                result.ruleset = facts.nft
                iptablesFacts[.iptablesNftSmall] = facts.iptables
            case .kubenftLarge:
                let facts = try DataplaneRulesets.kubenft(large.scenario, path: path, iptablesPath: iptablesPath(.iptablesNftLarge), scratch: scratch)
                result.ruleset = facts.nft
                iptablesFacts[.iptablesNftLarge] = facts.iptables
            case .iptablesNftSmall, .iptablesNftLarge:
                result.ruleset = iptablesFacts[config]
            case .iptablesLegacySmall, .iptablesLegacyLarge:
                let source = config == .iptablesLegacySmall ? DataplaneConfig.iptablesNftSmall : .iptablesNftLarge
                try copy(rulesetPath(source) ?? "", to: path)
                result.ruleset = iptablesFacts[source]
            case .linearLarge:
                result.ruleset = try DataplaneRulesets.linear(large, target: target, path: path)
            case .direct:
                result.destination = "\(target.backends[0]):\(target.containerPort)"
            }
            results.append(result)
        }
        return results
    }

    /// Where the iptables form is written while the nft ruleset is compiled, when it is measured.
    private func iptablesPath(_ config: DataplaneConfig) -> String? {
        settings.iptables ? rulesetPath(config) : nil
    }

    private func copy(_ source: String, to path: String) throws(BenchError) {
        try? FileManager.default.removeItem(atPath: path)
        do { try FileManager.default.copyItem(atPath: source, toPath: path) } catch { throw BenchError("cannot copy \(source) to \(path)") }
    }

    /// Starts the server processes and waits until a connection straight to a backend succeeds.
    private func startServers(_ lab: DataplaneLab, port: Int, cleanup: DataplaneCleanup) throws(BenchError) {
        for index in 0..<settings.servers {
            let argv = lab.exec(in: lab.server, [ProcessInfoReader.executablePath(), "dp-serve", "--port", String(port),
                                                 "--name", "dp-server-\(index)"])
            guard let process = BackgroundProcess.start(argv, stdoutPath: "/dev/null", stderrPath: scratch + "/dp-serve-\(index).err") else {
                throw BenchError("cannot start the server")
            }
            cleanup.add(process: process.pid)
        }
        try lab.load(ruleset: nil, with: .nft, scratch: scratch)
        for _ in 0..<50 {
            if let probe = try? loop(lab, to: "\(lab.serverAddresses[0]):\(port)", count: 1, round: -1, cleanup: cleanup), probe.ok > 0, probe.failed == 0 { return }
            usleep(100_000)
        }
        throw BenchError("the lab server did not answer within 5 s")
    }
}

extension DataplaneDriver {
    /// One bounded loop: every client process makes `count` sequential connections to
    /// `destination` (`IP:PORT`) from its own source address, all processes at once.
    func loop(_ lab: DataplaneLab, to destination: String, count: Int, round: Int,
              cleanup: DataplaneCleanup) throws(BenchError) -> DataplaneSample {
        let parts = destination.split(separator: ":").map(String.init)
        guard parts.count == 2 else { throw BenchError("bad destination \(destination)") }
        var running: [(BackgroundProcess, String)] = []
        for (index, source) in lab.clientAddresses.enumerated() {
            let output = scratch + "/dp-connect-\(index).out"
            let argv = lab.exec(in: lab.client, [ProcessInfoReader.executablePath(), "dp-connect", "--to", parts[0],
                                                 "--port", parts[1], "--count", String(count),
                                                 "--time-limit", String(settings.timeLimit), "--source", source])
            guard let process = BackgroundProcess.start(argv, stdoutPath: output, stderrPath: scratch + "/dp-connect-\(index).err") else {
                throw BenchError("cannot start the client")
            }
            cleanup.add(process: process.pid)
            running.append((process, output))
        }
        var sample = DataplaneSample(round: round, ok: 0, failed: 0, seconds: 0, errors: [:])
        for (process, output) in running {
            let status = process.wait()
            cleanup.remove(process: process.pid)
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            guard status == 0, let line = text.split(separator: "\n").last,
                  let tally = try? JSONDecoder().decode(ConnectTally.self, from: Data(line.utf8)) else {
                throw BenchError("dp-connect exited \(status) without a result")
            }
            sample.ok += tally.ok
            sample.failed += tally.failed
            sample.seconds = max(sample.seconds, tally.elapsedSeconds)
            sample.errors.merge(tally.errors, uniquingKeysWith: +)
        }
        sample.rate = sample.seconds > 0 ? Double(sample.ok) / sample.seconds : 0
        return sample
    }
}

/// The data-plane settings of a full run, from its `--dp-*` arguments.
func dataplaneSettings(_ arguments: Arguments) throws(BenchError) -> DataplaneSettings {
    var settings = DataplaneSettings()
    settings.count = try arguments.int("dp-count", default: settings.count)
    settings.rounds = try arguments.int("dp-rounds", default: settings.rounds)
    settings.warmup = try arguments.int("dp-warmup", default: settings.warmup)
    settings.timeLimit = try arguments.int("dp-time-limit", default: settings.timeLimit)
    settings.endpoints = try arguments.int("dp-endpoints", default: settings.endpoints)
    settings.clients = try arguments.int("dp-clients", default: settings.clients)
    settings.servers = try arguments.int("dp-servers", default: settings.servers)
    settings.iptables = !arguments.flags.contains("dp-no-iptables")
    if let list = arguments.values["dp-services"] {
        let sizes = list.split(separator: ",").compactMap { Int($0) }
        guard sizes.count == 2, sizes[0] > DataplaneTarget.serviceIndex, sizes[1] > sizes[0] else {
            throw BenchError("--dp-services wants SMALL,LARGE with \(DataplaneTarget.serviceIndex) < SMALL < LARGE, e.g. 10,10000")
        }
        settings.smallServices = sizes[0]
        settings.largeServices = sizes[1]
    }
    guard settings.clients <= 200, settings.endpoints <= 254 else {
        throw BenchError("--dp-clients takes at most 200 and --dp-endpoints at most 254")
    }
    return settings
}
