import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import KubeNFT

/// `kubenft diff`: what a manifest change does to connectivity and to the ruleset.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two manifest sets: connections newly allowed or blocked, service backends, compiled objects.",
        discussion: "Exit status: 0 nothing changed, 1 something changed (or what --fail-on names), 2 error."
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, markdown, json, csv }
    enum FailOn: String, ExpressibleByArgument, CaseIterable { case added, removed, any }

    @Option(name: .customLong("from"), help: "Manifests before the change: file, directory or - for stdin (repeatable).")
    var before: [String] = []

    @Option(name: .customLong("to"), help: "Manifests after the change: file, directory or - for stdin (repeatable).")
    var after: [String] = []

    @OptionGroup var node: NodeFlags

    @Option(help: "text, markdown, json or csv (one row per changed connection).")
    var output: Format = .text

    @Flag(help: "Say which policy rules decided each changed connection (always in json and csv).")
    var explain = false

    @Option(name: .customLong("fail-on"), help: "Exit 1 only for: added (newly allowed connections), removed (newly blocked), any.")
    var failOn: FailOn?

    func validate() throws {
        if before.isEmpty || after.isEmpty { throw ValidationError("give manifests with --from PATH and --to PATH") }
        if (before + after).filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input (-) can be read once: give it to --from or to --to, not both")
        }
    }

    func run() throws {
        let (old, new) = Review.pipelines(before: before, after: after, node: node.nodeOptions, strict: node.strict)
        let compiled = old.ruleset != nil && new.ruleset != nil
        let coverage = compiled ? Review.coverage(old, input: "--from", strict: node.strict) + Review.coverage(new, input: "--to", strict: node.strict) : []
        // Lint only the version under review: the change's selectors and names; and say which
        // policy changes reach pods the input does not hold.
        let lint = compiled ? Review.lint(new, strict: node.strict) + Review.uncheckedPolicyChanges(old, new, strict: node.strict) : []
        Terminal.report(old.diagnostics + new.diagnostics + coverage + lint)
        guard compiled, !(coverage + lint).contains(where: { $0.severity == .error }) else { throw ExitCode(2) }
        var report: ChangeReport
        do {
            report = try ChangeAnalysis.compare(old, new)
            report.warnings = (coverage + lint).map(\.description)
            report.uncheckedPolicies = Review.uncheckedPolicyChanges(old, new, strict: false).map(\.description)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(2)
        }
        switch output {
        case .text:
            let colour = isatty(1) == 1 && (getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true)
            Terminal.out(report.text(colour: colour, explain: explain))
        case .markdown: Terminal.out(report.markdown(explain: explain))
        case .json: Terminal.out(report.json)
        case .csv: Terminal.out(report.csv)
        }
        // A policy change kubenft cannot check may allow or block: it fails every gate.
        let failing: Bool
        switch failOn {
        case nil, .any?: failing = !report.isEmpty
        case .added?: failing = !report.allowed.isEmpty || !report.uncheckedPolicies.isEmpty
        case .removed?: failing = !report.blocked.isEmpty || !report.uncheckedPolicies.isEmpty
        }
        if failing { throw ExitCode(1) }
    }
}
