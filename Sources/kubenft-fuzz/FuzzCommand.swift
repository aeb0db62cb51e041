import ArgumentParser
import Foundation

/// `kubenft-fuzz`: generates and mutates hostile inputs, runs the real `kubenft` binary on each,
/// and saves every input that fails an oracle with its reason. Exit 0: no finding; 1: findings;
/// 3: the harness could not run (no kubenft binary, no network namespace).
@main
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubenft-fuzz",
        abstract: "Fuzz kubenft with hostile manifests, flags and configuration files."
    )

    @Option(help: "Run seed (printed at start; the same seed replays the same inputs). Default: from the clock.")
    var seed: UInt64?

    @Option(help: "Stop after this many minutes.")
    var minutes: Double?

    @Option(help: "Stop after this many iterations (default 200 when --minutes is not given).")
    var iterations: Int?

    @Option(help: "Seed corpus directory (repeatable): one case per subdirectory.")
    var corpus: [String] = ["fixtures/fuzz/seeds"]

    @Option(help: "Where failing inputs are saved, one directory per finding.")
    var out: String = ".build/fuzz-findings"

    @Option(help: "The kubenft binary (default: the one built beside this harness).")
    var kubenft: String?

    @Option(help: "Seconds kubenft may run on one input before it counts as a hang.")
    var timeout: Double = 20

    @Option(help: "Inputs saved per kind of finding (all are counted).")
    var keep: Int = 5

    @Flag(help: "Generate no time/memory-exhausting inputs (for debug builds, slow by nature); seeds still run.")
    var noResource = false

    @Flag(help: "Skip the nft -c loads (for machines without root); CI never uses this.")
    var noKernel = false

    func run() throws {
        let runSeed = seed ?? UInt64(Date().timeIntervalSince1970 * 1000)
        print("kubenft-fuzz: seed \(runSeed) (replay with --seed \(runSeed))")
        let binary = try locateKubenft()
        let scratch = NSTemporaryDirectory() + "kubenft-fuzz-\(getpid())"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var namespace: ThrowawayNamespace?
        if !noKernel {
            do { namespace = try ThrowawayNamespace(scratch: scratch) } catch {
                print("kubenft-fuzz: \(error) (run as root, or pass --no-kernel)")
                throw ExitCode(3)
            }
        }
        defer { namespace?.remove() }
        let seeds = Seed.load(corpus: corpus)
        print("kubenft-fuzz: \(seeds.count) seeds from \(corpus.joined(separator: ", ")), kubenft \(binary), findings to \(out)")
        var store = FindingStore(directory: out, keep: keep, runSeed: runSeed)
        let runner = Runner(kubenft: binary, namespace: namespace, scratch: scratch)
        let limit = iterations ?? (minutes == nil ? 200 : Int.max)
        let deadline = Date().addingTimeInterval((minutes ?? .infinity) * 60)
        var done = 0
        while done < limit, Date() < deadline {
            let fuzzCase = makeCase(iteration: done, runSeed: runSeed, seeds: seeds)
            let findings = try runner.run(fuzzCase)
            if !findings.isEmpty { try store.save(fuzzCase, findings: findings, iteration: done, from: runner) }
            done += 1
            if done % 50 == 0 { print("kubenft-fuzz: \(done) iterations, \(store.total) findings") }
        }
        print(store.summary(iterations: done))
        if store.total > 0 { throw ExitCode(1) }
    }

    /// The case of one iteration: every seed once as it is, then generated cases.
    private func makeCase(iteration: Int, runSeed: UInt64, seeds: [Seed]) -> FuzzCase {
        if iteration < seeds.count { return seeds[iteration].asCase }
        var rng = SeededRandom(seed: SeededRandom.iterationSeed(run: runSeed, iteration: iteration))
        var factory = CaseFactory(rng: SeededRandom(seed: rng.next()), seeds: seeds)
        var fuzzCase: FuzzCase?
        switch rng.below(noResource ? 96 : 100) {
        case 0..<45: fuzzCase = factory.mutation()
        case 45..<80: fuzzCase = factory.policy()
        case 80..<96: fuzzCase = factory.commandLine()
        default: fuzzCase = factory.resource()
        }
        var result = fuzzCase ?? factory.policy()
        result.timeout = result.origin == "resource" ? max(timeout, 30) : timeout
        return result
    }

    private func locateKubenft() throws -> String {
        if let kubenft { return kubenft }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let candidate = URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("kubenft").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            print("kubenft-fuzz: no kubenft at \(candidate); build it or pass --kubenft PATH")
            throw ExitCode(3)
        }
        return candidate
    }
}

/// Saves failing inputs under `directory/<kind>/<iteration>/` (manifests, extra files, the flags,
/// the reasons, kubenft's stderr) and counts findings per kind for the summary.
struct FindingStore {
    let directory: String
    let keep: Int
    let runSeed: UInt64
    private(set) var counts: [String: Int] = [:]
    private(set) var examples: [String: String] = [:]

    init(directory: String, keep: Int, runSeed: UInt64) {
        self.directory = directory
        self.keep = keep
        self.runSeed = runSeed
    }

    var total: Int { counts.values.reduce(0, +) }

    mutating func save(_ fuzzCase: FuzzCase, findings: [Finding], iteration: Int, from runner: Runner) throws {
        let reasons = findings.map { "\($0.kind): \($0.reason)" }.joined(separator: "\n")
        print("kubenft-fuzz: iteration \(iteration) (\(fuzzCase.origin)):\n  " + reasons.replacingOccurrences(of: "\n", with: "\n  "))
        for kind in Set(findings.map(\.kind)) {
            counts[kind, default: 0] += 1
            if examples[kind] == nil { examples[kind] = "\(kind)/\(iteration)" }
            guard counts[kind, default: 0] <= keep else { continue }
            let target = directory + "/\(kind)/\(iteration)"
            let manager = FileManager.default
            try? manager.removeItem(atPath: target)
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try manager.copyItem(atPath: runner.caseDirectory, toPath: target)
            var about = "reason:\n\(reasons)\n\norigin: \(fuzzCase.origin)\nrun seed: \(runSeed), iteration \(iteration)\n"
            about += "flags: \(fuzzCase.flags.map { Printer.jsonQuoted($0) }.joined(separator: " "))\n"
            about += "edits:\n" + fuzzCase.log.map { "  " + $0 }.joined(separator: "\n") + "\n"
            try Data(about.utf8).write(to: URL(fileURLWithPath: target + "/REASON"))
            let args = fuzzCase.flags.joined(separator: "\n") + "\n"
            try Data(args.utf8).write(to: URL(fileURLWithPath: target + "/flags"))
        }
    }

    func summary(iterations: Int) -> String {
        var text = "kubenft-fuzz: seed \(runSeed), \(iterations) iterations, \(total) findings"
        for kind in counts.keys.sorted() {
            text += "\n  \(kind): \(counts[kind]!) (first: \(directory)/\(examples[kind]!))"
        }
        return text
    }
}
