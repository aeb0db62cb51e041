import KubeManifest
import KubeNFTCompiler

/// The node-context flags of `compile`, `apply` and friends, before validation.
public struct NodeOptions: Sendable, Hashable {
    public var nodeName: String?
    public var nodeIPs: [String]
    public var clusterCIDRs: [String]
    /// A KubeProxyConfiguration file, read like any manifest.
    public var configPath: String?
    /// `--service-cidr`: ranges ClusterIPs come from, besides ServiceCIDR objects.
    public var serviceCIDRs: [String]
    /// `--counters`: named counters on policy drops and service rejects.
    public var counters = false
    /// `--log-drops[=RATE]`: the rate text, `""` for the default rate; nil: no drop logging.
    public var logDrops: String?
    /// `--log-group N`: the nflog group of drop logging.
    public var logGroup: UInt16?

    public init(nodeName: String? = nil, nodeIPs: [String] = [], clusterCIDRs: [String] = [], configPath: String? = nil,
                serviceCIDRs: [String] = []) {
        self.nodeName = nodeName
        self.nodeIPs = nodeIPs
        self.clusterCIDRs = clusterCIDRs
        self.configPath = configPath
        self.serviceCIDRs = serviceCIDRs
    }

    /// The node flags as written on a command line (`--node-name n --node-ip a ...`), as golden cases
    /// keep them in `case.args`; `--config` is read relative to `directory`. Other words are skipped.
    public init(arguments: [String], relativeTo directory: String) {
        self.init()
        var index = 0
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "--node-name": nodeName = value
            case "--node-ip": nodeIPs.append(value)
            case "--cluster-cidr": clusterCIDRs.append(value)
            case "--service-cidr": serviceCIDRs.append(value)
            case "--config": configPath = directory + "/" + value
            case "--log-group": logGroup = UInt16(value)
            default:
                let word = arguments[index]
                if word == "--counters" { counters = true }
                if word == "--log-drops" { logDrops = "" }
                if word.hasPrefix("--log-drops=") { logDrops = String(word.dropFirst("--log-drops=".count)) }
                index += 1
                continue
            }
            index += 2
        }
        if let last = arguments.last, index == arguments.count - 1 {
            if last == "--counters" { counters = true }
            if last == "--log-drops" { logDrops = "" }
            if last.hasPrefix("--log-drops=") { logDrops = String(last.dropFirst("--log-drops=".count)) }
        }
    }
}

/// Merges flags, the KubeProxyConfiguration and the lab node's Node object into the compiler's
/// `NodeContext`, reporting bad flag values the same way as bad manifests.
enum NodeContextResolver {
    static let commandLine = SourceLocation(file: "<command line>", line: 1, column: 1)

    static func resolve(_ options: NodeOptions, cluster: Cluster, configs: [KubeProxyConfiguration]) -> (NodeContext, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var context = NodeContext()
        if configs.count > 1, let second = configs.dropFirst().first {
            diagnostics.append(Diagnostic(at: second.location, object: "KubeProxyConfiguration", field: "",
                                          reason: "more than one KubeProxyConfiguration given (first at \(configs[0].location))"))
        }
        let config = configs.first
        context.nodeName = options.nodeName ?? config?.hostnameOverride
        context.observation = observation(options, diagnostics: &diagnostics)
        for text in options.nodeIPs {
            if let address = IPAddress(text) { context.nodeIPs.append(address) } else {
                diagnostics.append(Diagnostic(at: commandLine, object: nil, field: "--node-ip", reason: "invalid IP address \"\(text)\""))
            }
        }
        context.clusterCIDRs = cidrFlags(options.clusterCIDRs, flag: "--cluster-cidr", into: &diagnostics)
        context.serviceCIDRs = cidrFlags(options.serviceCIDRs, flag: "--service-cidr", into: &diagnostics)
            + cluster.serviceCIDRs.flatMap(\.cidrs)
        let node = context.nodeName.flatMap { name in cluster.nodes.first { $0.meta.name == name } }
        if let node { context.nodeIPs += node.addresses }
        if let config {
            context.clusterCIDRs += config.clusterCIDRs
            context.nodePortAddresses = config.nodePortAddresses
            context.masqueradeAll = config.masqueradeAll
            context.masqueradeBit = config.masqueradeBit
            if let detector = localDetector(config, node: node, into: &diagnostics) { context.localDetector = detector }
        }
        context.nodeIPs = unique(context.nodeIPs)
        context.clusterCIDRs = unique(context.clusterCIDRs)
        context.serviceCIDRs = unique(context.serviceCIDRs)
        return (context, diagnostics)
    }

    private static func cidrFlags(_ texts: [String], flag: String, into diagnostics: inout [Diagnostic]) -> [CIDR] {
        texts.compactMap { text in
            switch exactCIDR(text) {
            case .success(let cidr): return cidr
            case .failure(let problem):
                diagnostics.append(Diagnostic(at: commandLine, object: nil, field: flag, reason: problem.reason))
                return nil
            }
        }
    }

    /// kube-proxy's local traffic detector for `detectLocalMode`. NodeCIDR needs the node's
    /// `spec.podCIDRs` (kube-proxy waits for them): without them it is refused rather than
    /// compiled with no idea of which traffic comes from pods.
    private static func localDetector(_ config: KubeProxyConfiguration, node: Node?,
                                      into diagnostics: inout [Diagnostic]) -> NodeContext.LocalTrafficDetector? {
        let problem: String
        switch config.detectLocalMode {
        case .clusterCIDR: return .clusterCIDR
        case .nodeCIDR:
            if let node, !node.podCIDRs.isEmpty { return .nodeCIDR(node.podCIDRs) }
            problem = node == nil
                ? "NodeCIDR needs the node's Node object (name it with --node-name or hostnameOverride) for spec.podCIDRs"
                : "NodeCIDR needs spec.podCIDRs on Node \(node?.meta.name ?? "")"
        case .bridgeInterface: return .bridgeInterface(config.bridgeInterface)
        case .interfaceNamePrefix: return .interfaceNamePrefix(config.interfaceNamePrefix)
        }
        diagnostics.append(Diagnostic(at: config.location, object: "KubeProxyConfiguration", field: "detectLocalMode", reason: problem))
        return nil
    }

    /// Why a CIDR flag value was refused.
    struct CIDRProblem: Error {
        var reason: String
    }

    /// `addr/len` with no host bits set: `10.0.0.1/8` is refused rather than silently read as
    /// `10.0.0.0/8`, since it usually means a mistyped address or length.
    static func exactCIDR(_ text: String) -> Result<CIDR, CIDRProblem> {
        guard let cidr = CIDR(text) else { return .failure(CIDRProblem(reason: "invalid CIDR \"\(text)\"")) }
        let written = text.split(separator: "/", maxSplits: 1).first.flatMap { IPAddress($0) }
        guard written == cidr.address else {
            return .failure(CIDRProblem(reason: "\"\(text)\" has host bits set (the prefix is \(cidr))"))
        }
        return .success(cidr)
    }

    private static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>()
        return values.filter { seen.insert($0).inserted }
    }

    /// `--counters`, `--log-drops[=RATE]` and `--log-group` as the compiler takes them.
    static func observation(_ options: NodeOptions, diagnostics: inout [Diagnostic]) -> DropObservation {
        var observation = DropObservation(counters: options.counters, logGroup: options.logGroup ?? DropObservation.defaultLogGroup)
        guard let text = options.logDrops else { return observation }
        if text.isEmpty {
            observation.logRate = DropObservation.defaultLogRate
            return observation
        }
        let (rate, reason) = DropObservation.parseRate(text)
        observation.logRate = rate
        if let reason { diagnostics.append(Diagnostic(at: commandLine, object: nil, field: "--log-drops", reason: reason)) }
        return observation
    }
}
