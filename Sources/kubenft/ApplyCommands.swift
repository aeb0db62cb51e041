#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import KubeNFT
import NFTNetlink
import NFTRuleset

/// Where a command talks to nftables: the caller's network namespace or a named one.
struct NamespaceOptions: ParsableArguments {
    @Option(name: .customLong("netns"), help: "Network namespace name (under /var/run/netns) or path.")
    var netns: String?

    /// `--netns` as given, after the check the netlink transport makes (the iptables backend
    /// enters the namespace with other tools), or exit 2 with the reason.
    func checkedName() throws -> String? {
        do {
            _ = try NetlinkTransport.namespacePath(netns)
        } catch {
            throw KernelFailure.report(error)
        }
        return netns
    }

    /// A transport, or exit 2 with the reason.
    func transport() throws -> NetlinkTransport {
        do {
            return try NetlinkTransport(namespace: netns)
        } catch {
            throw KernelFailure.report(error)
        }
    }
}

/// Kernel errors as the command line reports them: one clear line, exit status 2.
enum KernelFailure {
    static func report(_ error: NetlinkError) -> ExitCode {
        switch error.kind {
        case .permission where !error.message.contains("CAP_"):
            Terminal.error("\(error.message) (changing or reading nftables needs CAP_NET_ADMIN: run as root)")
        case .missingModule:
            Terminal.error("missing kernel module: \(error.message)")
        default:
            Terminal.error(error.message)
        }
        return ExitCode(2)
    }

    /// Compiles the manifests or exits 2 with the diagnostics.
    static func compile(_ input: InputOptions, shape: ServiceShape = .maps) throws -> Ruleset {
        let (ruleset, _) = try compiled(input, shape: shape)
        return ruleset
    }

    /// The ruleset and the pipeline's result it came from, or exit 2 with the diagnostics.
    static func compiled(_ input: InputOptions, shape: ServiceShape = .maps) throws -> (Ruleset, PipelineResult) {
        let result = Pipeline.run(paths: input.files, node: input.nodeOptions, strict: input.strict, shape: shape)
        Terminal.report(result.diagnostics)
        guard let ruleset = result.ruleset else { throw ExitCode(2) }
        // Addresses derived from declared workloads are made up: loading them enforces policy on
        // addresses no real pod holds. Say so; `--strict` refuses it.
        let derived = result.cluster.pods.filter { $0.origin != nil }.count
        if derived > 0 {
            let what = "\(derived) pod address\(derived == 1 ? " was" : "es were") derived from declared workloads, not read from a cluster"
            if input.strict {
                Terminal.error("error: \(what); refusing under --strict")
                throw ExitCode(2)
            }
            Terminal.error("warning: \(what): the kernel will enforce policy on made-up addresses")
        }
        return (ruleset, result)
    }
}

/// `kubenft apply`: make the kernel's table equal to the compiled ruleset, in one atomic batch.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Load the compiled ruleset into the kernel over netlink, atomically.",
        discussion: """
            Only the changed set elements and chains are sent when the table exists and its shape allows it; \
            otherwise the table is replaced whole. Either way one transaction, guarded by the ruleset \
            generation id: a concurrent change makes it fail with nothing applied. Other tables are never touched.
            """
    )

    @OptionGroup var input: InputOptions
    @OptionGroup var namespace: NamespaceOptions

    @Flag(name: .customLong("dry-run"), help: "Have the kernel check the batch, then abort it; print what would change.")
    var dryRun = false

    @Flag(name: .customLong("full"), help: "Always replace the whole table.")
    var full = false

    @Option(name: .customLong("state"), help: "State file remembering the last apply (default: /run/kubenft/<netns or host>.state).")
    var statePath: String?

    @Flag(name: .customLong("no-state"), help: "Neither use nor write the state file: always read the table back.")
    var noState = false

    @Flag(name: .customLong("no-conntrack-cleanup"),
          help: "Keep UDP conntrack entries that point at endpoints or frontends the new table no longer has.")
    var noConntrackCleanup = false

    @OptionGroup var backend: BackendOptions

    func run() throws {
        let iptables = backend.iptables(namespace: namespace.netns)
        let (ruleset, compiled) = try KernelFailure.compiled(input, shape: iptables == nil ? .maps : .cascade)
        if let kernel = iptables {
            // The iptables backend restores whole chains and keeps no state file; refuse what it cannot honour.
            let unsupported = [(dryRun, "--dry-run"), (full, "--full"), (statePath != nil, "--state"), (noState, "--no-state")].filter(\.0).map(\.1)
            guard unsupported.isEmpty else {
                Terminal.error("error: \(unsupported.joined(separator: ", ")) cannot be used with --backend \(backend.backend.rawValue)")
                throw ExitCode(2)
            }
            if !noConntrackCleanup {
                Terminal.error("warning: stale UDP conntrack entries are not removed with --backend \(backend.backend.rawValue)"
                               + " (--no-conntrack-cleanup says that is intended)")
            }
            _ = try namespace.checkedName()
            return try IPTablesCommands.apply(ruleset, with: kernel, strict: input.strict)
        }
        let transport = try namespace.transport()
        let applier = RulesetApplier(transport: transport)
        let stateFile = noState ? nil : AppliedStateFile(path: statePath ?? AppliedStateFile.defaultPath(namespace: namespace.netns))
        var cleanup: ConntrackCleanup?
        do {
            try stateFile?.check()
            // The frontends the table programs now are read before the apply replaces them.
            cleanup = noConntrackCleanup ? nil : try ConntrackCleanup(compiled, ruleset: ruleset, applier: applier)
            let outcome = try applier.apply(ruleset, dryRun: dryRun, incremental: !full, previous: full ? nil : stateFile?.load())
            if let stateFile, let state = outcome.state {
                do {
                    try stateFile.save(state)
                } catch {
                    stateFile.remove()
                    Terminal.error("warning: \(error.message); the next apply reads the table back")
                }
            }
            Terminal.out(Self.summary(outcome, ruleset: ruleset, dryRun: dryRun))
        } catch {
            throw KernelFailure.report(error)
        }
        try cleanup?.run(transport: transport, dryRun: dryRun)
    }

    static func summary(_ outcome: ApplyOutcome, ruleset: Ruleset, dryRun: Bool) -> String {
        let table = "table \(ruleset.family) \(ruleset.name)"
        let size = outcome.report.map { " (\($0.messages) messages, \($0.bytes) bytes)" } ?? ""
        var text: String
        switch outcome.mode {
        case .unchanged: return "\(table) is up to date\n"
        case .created: text = dryRun ? "would create \(table)" : "created \(table)"
        case .replaced: text = dryRun ? "would replace \(table)" : "replaced \(table)"
        case .incremental: text = dryRun ? "would update \(table)" : "updated \(table)"
        }
        text += size + "\n"
        if dryRun {
            text += "dry run: the kernel accepted every message; nothing was changed\n"
            if outcome.mode == .incremental {
                for operation in outcome.operations { text += "  " + operation.summary + "\n" }
            } else {
                let rules = ruleset.chains.reduce(0) { $0 + $1.rules.count }
                let elements = ruleset.sets.reduce(0) { $0 + $1.elements.count }
                text += "  \(ruleset.sets.count) sets with \(elements) elements, \(ruleset.chains.count) chains with \(rules) rules\n"
            }
        }
        return text
    }
}

/// `kubenft delete`: remove kubenft's table.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete kubenft's table from the kernel.")

    @OptionGroup var namespace: NamespaceOptions
    @OptionGroup var backend: BackendOptions

    @Option(name: .customLong("state"), help: "State file `apply --state` wrote, removed with the table (default: /run/kubenft/<netns or host>.state).")
    var statePath: String?

    func run() throws {
        if let kernel = backend.iptables(namespace: try namespace.checkedName()) {
            guard statePath == nil else {
                Terminal.error("error: --state cannot be used with --backend \(backend.backend.rawValue)")
                throw ExitCode(2)
            }
            return try IPTablesCommands.delete(with: kernel)
        }
        let applier = RulesetApplier(transport: try namespace.transport())
        do {
            let deleted = try applier.delete(family: "inet", table: "kubenft")
            AppliedStateFile(path: statePath ?? AppliedStateFile.defaultPath(namespace: namespace.netns)).remove()
            Terminal.out(deleted ? "deleted table inet kubenft\n" : "no table inet kubenft\n")
        } catch {
            throw KernelFailure.report(error)
        }
    }
}

/// `kubenft show`: print the applied table, read back from the kernel, as nft text.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Print the table the kernel holds, as nft text.")

    @OptionGroup var namespace: NamespaceOptions

    func run() throws {
        let transport = try namespace.transport()
        let snapshot: TableSnapshot?
        do {
            snapshot = try transport.read(family: "inet", table: "kubenft")
        } catch {
            throw KernelFailure.report(error)
        }
        guard let snapshot else {
            Terminal.error("no table inet kubenft")
            throw ExitCode(2)
        }
        // Never silent: what the text below cannot show is named on standard error.
        for line in snapshot.unrepresented { Terminal.error("warning: not shown below: \(line)") }
        Terminal.out(NFTTextEmitter().emit(snapshot.ruleset))
    }
}

/// `kubenft verify`: compare the kernel's table with the compiled ruleset.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Compare the kernel's table with the compiled ruleset: exit 0 when equal, 1 with every difference, 2 on error."
    )

    @OptionGroup var input: InputOptions
    @OptionGroup var namespace: NamespaceOptions
    @OptionGroup var backend: BackendOptions

    func run() throws {
        let iptables = backend.iptables(namespace: namespace.netns)
        let ruleset = try KernelFailure.compile(input, shape: iptables == nil ? .maps : .cascade)
        if let kernel = iptables {
            _ = try namespace.checkedName()
            return try IPTablesCommands.verify(ruleset, with: kernel)
        }
        let applier = RulesetApplier(transport: try namespace.transport())
        let differences: [String]
        do {
            differences = try applier.differences(ruleset)
        } catch {
            throw KernelFailure.report(error)
        }
        try Self.report(differences, of: "table \(ruleset.family) \(ruleset.name)", matches: "matches", differs: "differs")
    }

    /// Prints `verify`'s verdict on `subject`: that it matches the manifests (exit 0), or each
    /// difference (exit 1).
    static func report(_ differences: [String], of subject: String, matches: String, differs: String) throws {
        guard !differences.isEmpty else {
            Terminal.out("\(subject) \(matches) the manifests\n")
            return
        }
        var text = "\(subject) \(differs) from the manifests (\(differences.count) difference\(differences.count == 1 ? "" : "s")):\n"
        for line in differences { text += "  " + DisplayText.escaped(line) + "\n" }
        Terminal.out(text)
        throw ExitCode(1)
    }
}
