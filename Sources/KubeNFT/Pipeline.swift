import IPTablesRuleset
import KubeManifest
import KubeNFTCompiler
@_exported import enum KubeNFTCompiler.ServiceShape
import NFTRuleset
import NetAddress

/// Output formats of `kubenft compile`.
public enum OutputFormat: String, Sendable, CaseIterable {
    case nft
    case json
}

/// What one run of the pipeline produced: the ruleset when everything was valid, and every
/// diagnostic (errors and warnings) in a stable order.
public struct PipelineResult: Sendable {
    public var ruleset: Ruleset?
    public var cluster: Cluster
    public var context: NodeContext
    public var diagnostics: [Diagnostic]

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { diagnostics.filter { $0.severity == .warning } }
}

/// Load → validate → resolve node context → compile. Every command that needs a ruleset goes
/// through here, so `compile`, `apply` and `trace` always agree.
public enum Pipeline {
    /// `compile: false` stops after loading and deriving the cluster (for `kubenft dns`).
    /// `shape` is `.cascade` for outputs that cannot express backend maps (JSON, iptables).
    public static func run(paths: [String], node: NodeOptions, strict: Bool = false, compile: Bool = true,
                           shape: ServiceShape = .maps) -> PipelineResult {
        var diagnostics: [Diagnostic] = []
        var sources: [ManifestSource] = []
        do {
            sources = try ManifestLoader.sources(paths: paths)
        } catch let error as InputErrors {
            diagnostics += error.diagnostics
        } catch {
            diagnostics.append(Diagnostic(at: NodeContextResolver.commandLine, object: nil, field: "-f", reason: "\(error)"))
        }
        var configs: [KubeProxyConfiguration] = []
        if let configPath = node.configPath {
            do {
                let loaded = ManifestLoader.load(try ManifestLoader.sources(paths: [configPath]), options: LoadOptions(strict: strict))
                diagnostics += loaded.diagnostics
                configs += loaded.cluster.proxyConfigurations
                if loaded.cluster.proxyConfigurations.isEmpty && !loaded.hasErrors {
                    diagnostics.append(Diagnostic(at: SourceLocation(file: configPath, line: 1, column: 1), object: nil, field: "--config",
                                                  reason: "no KubeProxyConfiguration found in the file"))
                }
            } catch let error as InputErrors {
                diagnostics += error.diagnostics
            } catch {
                diagnostics.append(Diagnostic(at: NodeContextResolver.commandLine, object: nil, field: "--config", reason: "\(error)"))
            }
        }
        var loaded = ManifestLoader.load(sources, options: LoadOptions(strict: strict))
        diagnostics += loaded.diagnostics
        // Taken out of the load result (already in canonical order) so that deriving changes it in
        // place instead of copying every list while the result still holds the originals.
        var cluster = loaded.cluster
        loaded.cluster = Cluster()
        configs += cluster.proxyConfigurations
        let (context, contextDiagnostics) = NodeContextResolver.resolve(node, cluster: cluster, configs: configs)
        diagnostics += contextDiagnostics
        // What a repository declares (workloads, Services without a clusterIP) becomes the cluster
        // the control plane would make of it; a runtime dump passes through unchanged.
        let placement = DerivationPlacement(nodeName: context.nodeName, podRange: context.clusterCIDRs.first { $0.family == .v4 },
                                            nodeIPs: context.nodeIPs)
        diagnostics += WorkloadDerivation.derive(&cluster, placement: placement)
        if strict { diagnostics = diagnostics.map(\.strict) }
        guard compile, !diagnostics.contains(where: { $0.severity == .error }) else {
            return PipelineResult(ruleset: nil, cluster: cluster, context: context, diagnostics: diagnostics.sorted())
        }
        let compiled = KubeNFTCompiler.compile(cluster, context: context, shape: shape)
        diagnostics += strict ? compiled.diagnostics.map(\.strict) : compiled.diagnostics
        let ruleset = diagnostics.contains(where: { $0.severity == .error }) ? nil : compiled.ruleset
        return PipelineResult(ruleset: ruleset, cluster: cluster, context: context, diagnostics: diagnostics.sorted())
    }

    public static func render(_ ruleset: Ruleset, format: OutputFormat) -> String {
        switch format {
        case .nft: return NFTTextEmitter().emit(ruleset)
        case .json: return NFTJSONEmitter().emit(ruleset)
        }
    }

    /// The same ruleset as `iptables-restore` (IPv4) or `ip6tables-restore` (IPv6) input; throws when
    /// a rule has no exact iptables form, never dropping it (see docs/iptables.md).
    public static func renderIPTables(_ ruleset: Ruleset, family: IPFamily) throws(IPTablesTranslationError) -> String {
        try IPTablesEmitter().emit(ruleset, family: family)
    }
}

extension Diagnostic {
    /// The diagnostic as `--strict` reports it: every warning is an error.
    var strict: Diagnostic {
        var copy = self
        copy.severity = .error
        return copy
    }
}
