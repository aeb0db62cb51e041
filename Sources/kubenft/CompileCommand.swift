import ArgumentParser
import KubeNFT

/// `kubenft compile`: print the ruleset for review or a golden file.
struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Print the nftables ruleset for the given manifests."
    )

    @OptionGroup var input: InputOptions

    @Option(name: .long, help: "Output format: nft (text for nft -f) or json (for nft -j -f).")
    var format: OutputFormat = .nft

    @Option(name: [.customShort("o"), .long], help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    @Flag(name: .customLong("follow-symlinks"), help: "Let -o write through a symbolic link (refused otherwise).")
    var followSymlinks = false

    func run() throws {
        let result = Pipeline.run(paths: input.files, node: input.nodeOptions, strict: input.strict)
        Terminal.report(result.diagnostics)
        guard let ruleset = result.ruleset else { throw ExitCode(2) }
        let text = Pipeline.render(ruleset, format: format)
        if let output {
            do {
                try FileOutput.write(text, to: output, followSymlinks: followSymlinks)
            } catch {
                Terminal.error("cannot write \(output): \(error)")
                throw ExitCode(2)
            }
        } else {
            Terminal.out(text)
        }
        // The ruleset, model and input are freed by the process exit; tearing down hundreds of
        // thousands of small objects one by one would cost a noticeable share of the run.
        Terminal.finish()
    }
}

extension OutputFormat: ExpressibleByArgument {}
