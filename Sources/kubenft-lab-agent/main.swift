#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// A tiny network agent for the kernel lab: `serve` answers with its name on
// TCP, UDP and SCTP ports; `probe` connects repeatedly and tallies who answered;
// `probe-many` tries many destinations at once under one deadline.

let usage = """
usage:
  kubenft-lab-agent serve --name NAME [--tcp P,..] [--udp P,..] [--sctp P,..] [--bind ADDR ...]
  kubenft-lab-agent probe --to ADDR --port N --proto tcp|udp|sctp [--count K] [--timeout-ms T] [--source ADDR]
  kubenft-lab-agent probe-many [--timeout-ms T] [--target ADDR,PORT,PROTO[,LABEL] ...]   (no --target: read targets from stdin)

"""

func runAgent(_ argv: [String]) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    guard argv.count >= 2 else {
        warn("missing subcommand\n" + usage)
        return 2
    }
    let parsed = Options.parse(argv.dropFirst(2))
    do {
        let options = try parsed.get()
        switch argv[1] {
        case "serve": return try Server.run(options)
        case "probe": return try Prober.run(options)
        case "probe-many": return try ProbeMany.run(options)
        default: throw UsageError("unknown subcommand '\(argv[1])'")
        }
    } catch let error as UsageError {
        warn(error.message + "\n" + usage)
        return 2
    } catch {
        warn("\(error)")
        return 1
    }
}

exit(runAgent(CommandLine.arguments))
