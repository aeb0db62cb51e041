import ArgumentParser
import KubeNFT

/// The `kubenft` command line.
@main
struct KubeNFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubenft",
        abstract: "Compile Kubernetes Services and NetworkPolicies into one nftables table.",
        subcommands: [CompileCommand.self, TraceCommand.self, MatrixCommand.self, DiffCommand.self,
                      ApplyCommand.self, DeleteCommand.self, ShowCommand.self, VerifyCommand.self, DNSCommand.self]
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

    var nodeOptions: NodeOptions {
        NodeOptions(nodeName: nodeName, nodeIPs: nodeIPs, clusterCIDRs: clusterCIDRs, configPath: config, serviceCIDRs: serviceCIDRs)
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
