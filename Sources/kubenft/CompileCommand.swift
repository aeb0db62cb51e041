import ArgumentParser
import KubeNFT
import NetAddress
import NFTRuleset

/// `kubenft compile`: print the ruleset for review or a golden file.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Print the nftables ruleset for the given manifests."
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Output format: nft (text for nft -f), json (for nft -j -f), iptables (IPv4, for iptables-restore --noflush) or ip6tables (IPv6, for ip6tables-restore --noflush).")
    var format: CompileFormat = .nft

    @Option(name: [.customShort("o"), .long], help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    @Flag(name: .customLong("follow-symlinks"), help: "Let -o write through a symbolic link (refused otherwise).")
    var followSymlinks = false

    func run() throws {
        // JSON for nft 1.0.6 and iptables cannot express backend maps: they get the cascade shape.
        let result = Pipeline.run(paths: input.files, node: input.nodeOptions, strict: input.strict,
                                  shape: format == .nft ? .maps : .cascade)
        // The ruleset, model and input are freed by the process exit; tearing down hundreds of
        // thousands of small objects one by one would cost a noticeable share of the run (the
        // result would otherwise be released right after its last use, before the output).
        try withExtendedLifetime(result) {
            Terminal.report(result.diagnostics)
            guard let ruleset = result.ruleset else { throw ExitCode(2) }
            try FileOutput.emit(try render(ruleset), to: output, followSymlinks: followSymlinks)
            Terminal.finish()
        }
    }

    /// The ruleset in the chosen format; exits 2 when it has no exact iptables form.
    private func render(_ ruleset: Ruleset) throws -> String {
        switch format {
        case .nft: return Pipeline.render(ruleset, format: .nft)
        case .json: return Pipeline.render(ruleset, format: .json)
        case .iptables, .ip6tables:
            try IPTablesCommands.reportLimitations(ruleset, strict: input.strict)
            do {
                return try Pipeline.renderIPTables(ruleset, family: format == .iptables ? .v4 : .v6)
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(2)
            }
        }
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// What `compile --format` writes: the nft forms, or one family of the iptables form (the two
/// families are two files because iptables-restore and ip6tables-restore are two programs).
enum CompileFormat: String, CaseIterable, ExpressibleByArgument {
    case nft, json, iptables, ip6tables
}
