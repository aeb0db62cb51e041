import ArgumentParser
import KubeNFT

/// The `kubenft` command line.
@main
struct KubeNFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubenft",
        abstract: "Compile Kubernetes Services and NetworkPolicies into one nftables table.",
        subcommands: [CompileCommand.self, TraceCommand.self, MatrixCommand.self, DiffCommand.self,
                      ApplyCommand.self, DeleteCommand.self, ShowCommand.self, VerifyCommand.self, DNSCommand.self, StatsCommand.self]
    )
}

/// Node-context flags shared by every command that compiles manifests.
struct NodeFlags: ParsableArguments {
    @Option(name: .customLong("node-name"), help: "The node to compile for (decides which endpoints are local).")
    var nodeName: String?

    @Option(name: .customLong("node-ip"), help: "An address of the node (repeatable).")
    var nodeIPs: [String] = []

    @Option(name: .customLong("cluster-cidr"), help: "The pod network (repeatable, one per family).")
    var clusterCIDRs: [String] = []

    @Option(name: .customLong("service-cidr"), help: "A range ClusterIPs are allocated from (repeatable); unallocated addresses in it are dropped.")
    var serviceCIDRs: [String] = []

    @Option(name: .customLong("config"), help: "A KubeProxyConfiguration file.")
    var config: String?

    @Flag(name: .customLong("strict"), help: "Treat every warning as an error (unknown fields in known kinds included).")
    var strict = false

    @Flag(name: .customLong("counters"), help: "Count every policy drop and service reject in named counters (read them with kubenft stats).")
    var counters = false

    @Option(name: .customLong("log-drops"), help: ArgumentHelp("Log policy drops to an nflog group, at most RATE per drop rule (default 10/second burst 5).",
                                                               valueName: "RATE"))
    var logDrops: String?

    @Option(name: .customLong("log-group"), help: "The nflog group of --log-drops (default 100).")
    var logGroup: UInt16?

    var nodeOptions: NodeOptions {
        var options = NodeOptions(nodeName: nodeName, nodeIPs: nodeIPs, clusterCIDRs: clusterCIDRs, configPath: config, serviceCIDRs: serviceCIDRs)
        options.counters = counters
        options.logDrops = logDrops.map { $0 == Self.defaultRateWord ? "" : $0 }
        options.logGroup = logGroup
        return options
    }

    /// A bare `--log-drops` is passed on as `--log-drops=default` (ArgumentParser has no option
    /// with an optional value).
    static let defaultRateWord = "default"
}

extension KubeNFTCommand {
    static func main() {
        let given = Array(CommandLine.arguments.dropFirst())
        var arguments: [String] = []
        for (index, word) in given.enumerated() {
            let next = index + 1 < given.count ? given[index + 1] : nil
            switch word {
            case "--log-drops": arguments.append("--log-drops=\(NodeFlags.defaultRateWord)")
            case "--watch" where next.map({ UInt32($0) == nil }) ?? true: arguments.append("--watch=\(StatsCommand.defaultWatchSeconds)")
            default: arguments.append(word)
            }
        }
        main(arguments)
    }
}

/// Manifests plus node context: the input of `compile`, `trace`, `matrix`, `apply`, `verify`.
struct InputOptions: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("filename")], help: "Manifest file or directory (repeatable; - for stdin).")
    var files: [String] = []

    @OptionGroup var node: NodeFlags

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one manifest with -f PATH") }
    }

    var nodeOptions: NodeOptions { node.nodeOptions }
    var strict: Bool { node.strict }
}
