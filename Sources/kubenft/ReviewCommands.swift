import ArgumentParser
import KubeManifest
import KubeNFT

/// Output forms of the review commands.
enum ReviewOutput: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// `kubenft trace`: follow one packet through the compiled rules.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Follow one packet through the compiled ruleset and print every rule it passes."
    )

    @OptionGroup var input: InputOptions

    @Option(help: "Source: ns/pod, ns/name[Kind] (a workload's derived pod), an IP, svc/ns/name, node, or external:IP.")
    var from: String

    @Option(help: "Destination: ns/pod, ns/name[Kind], an IP, svc/ns/name, node, or external:IP.")
    var to: String

    @Option(help: "Destination port (default: the service's first port, else 80).")
    var port: UInt16?

    @Option(name: .customLong("protocol"), help: "tcp, udp or sctp (default tcp, or the service port's protocol).")
    var transport: String?

    @Option(help: "text or json.")
    var output: ReviewOutput = .text

    func run() throws {
        guard let source = TraceEndpoint(from) else { throw ValidationError("cannot read --from \(from)") }
        guard let destination = TraceEndpoint(to) else { throw ValidationError("cannot read --to \(to)") }
        let transport = try parseProtocol(self.transport)
        let result = Pipeline.run(paths: input.files, node: input.nodeOptions, strict: input.strict)
        Terminal.report(result.diagnostics)
        guard result.ruleset != nil else { throw ExitCode(2) }
        do {
            let report = try Review.trace(TraceQuery(from: source, to: destination, port: port, transport: transport), in: result)
            Terminal.out(output == .json ? report.json : report.text)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(2)
        }
    }
}

/// `kubenft matrix`: the pod × pod truth table, computed by tracing.
struct MatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matrix",
        abstract: "Print which pods can connect to which, per port and protocol (. allowed, X blocked)."
    )

    @OptionGroup var input: InputOptions

    @Option(help: "Comma-separated ports (default 80,81; without it a note lists the port classes the policies cut).")
    var ports: String?

    @Option(help: "Comma-separated protocols: tcp, udp, sctp.")
    var protocols: String = "tcp"

    /// Output forms of `matrix`.
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, csv, dot }

    @Option(help: "text, json, csv (one row per cell) or dot (Graphviz: allowed connections as edges).")
    var output: Format = .text

    @Flag(help: "List the policy rules that decided each cell (always in json and csv).")
    var explain = false

    @Flag(name: .customLong("pods-only"), help: "Leave out the node, outside address classes and service entry points.")
    var podsOnly = false

    func run() throws {
        var portList: [UInt16] = []
        for item in (ports ?? "80,81").split(separator: ",") {
            guard let port = UInt16(item), port > 0 else { throw ValidationError("invalid port \(item) in --ports") }
            portList.append(port)
        }
        let protocolList = try protocols.split(separator: ",").map { try parseProtocol(String($0)) ?? .tcp }
        let result = Pipeline.run(paths: input.files, node: input.nodeOptions, strict: input.strict)
        let coverage = result.ruleset == nil ? [] : Review.coverage(result, input: "-f", strict: input.strict) + Review.lint(result, strict: input.strict)
        Terminal.report(result.diagnostics + coverage)
        guard result.ruleset != nil, !coverage.contains(where: { $0.severity == .error }) else { throw ExitCode(2) }
        if ports == nil {
            let classes = Review.portClasses(result)
            if !classes.isEmpty {
                Terminal.error("note: only ports 80,81 are probed (no --ports); the policies cut the port space into "
                    + classes.joined(separator: ", ") + " (give --ports with a port of each, or use diff, which probes them all)")
            }
        }
        do {
            let matrix = try Review.matrix(ports: portList, protocols: protocolList, in: result, outside: !podsOnly)
            switch output {
            case .text: Terminal.out(matrix.text(explain: explain))
            case .json: Terminal.out(matrix.json(warnings: coverage.map(\.description)))
            case .csv: Terminal.out(matrix.csv)
            case .dot: Terminal.out(matrix.dot)
            }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(2)
        }
    }
}

func parseProtocol(_ text: String?) throws -> L4Protocol? {
    guard let text else { return nil }
    guard let value = L4Protocol(rawValue: text.uppercased()) else { throw ValidationError("unknown protocol \(text); use tcp, udp or sctp") }
    return value
}
