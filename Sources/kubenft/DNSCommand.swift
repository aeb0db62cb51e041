import ArgumentParser
import KubeNFT

/// `kubenft dns`: the cluster's service discovery records as a zone file a DNS server can load.
struct DNSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Print the Kubernetes DNS records of the given manifests as an RFC 1035 zone (or JSON)."
    )

    @OptionGroup var input: InputOptions

    @Option(name: .customLong("cluster-domain"), help: "The cluster domain the zone is for.")
    var clusterDomain = "cluster.local"

    @Option(name: .customLong("reverse"), help: "Print the reverse (PTR) zone of this range instead of the forward zone.")
    var reverse: String?

    @Option(name: .customLong("serial"), help: "The SOA serial (default: derived from the zone's content).")
    var serial: UInt32?

    @Option(name: .customLong("ttl"), help: "The TTL of every record, in seconds.")
    var ttl = 5

    @Option(name: .long, help: "Output format: zone (RFC 1035 master file) or json.")
    var format: DNSOptions.Format = .zone

    @Option(name: [.customShort("o"), .long], help: "Write to this file (atomically) instead of standard output.")
    var output: String?

    @Flag(name: .customLong("follow-symlinks"), help: "Let -o write through a symbolic link (refused otherwise).")
    var followSymlinks = false

    func run() throws {
        let options = DNSOptions(clusterDomain: clusterDomain, ttl: ttl, serial: serial, reverse: reverse, format: format)
        let result = DNSGeneration.run(paths: input.files, node: input.nodeOptions, strict: input.strict, options: options)
        // The loaded model is left to the process exit to free (see CompileCommand.run).
        try withExtendedLifetime(result) {
            Terminal.report(result.diagnostics)
            guard let zone = result.zone else { throw ExitCode(2) }
            let text = DNSGeneration.render(zone, format: format)
            try FileOutput.emit(text, to: output, followSymlinks: followSymlinks)
            Terminal.finish()
        }
    }
}

extension DNSOptions.Format: ExpressibleByArgument {}
