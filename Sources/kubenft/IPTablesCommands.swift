import ArgumentParser
import IPTablesRuleset
import KubeNFT
import NetAddress
import NFTRuleset

/// `--backend` of `apply`, `verify` and `delete`: nftables over netlink (the default), or the
/// iptables form through `iptables-restore` (`iptables` uses whichever implementation the system's
/// alternatives select; `iptables-nft` and `iptables-legacy` name one).
struct BackendOptions: ParsableArguments {
    enum Backend: String, ExpressibleByArgument, CaseIterable {
        case nftables, iptables
        case iptablesNFT = "iptables-nft"
        case iptablesLegacy = "iptables-legacy"
    }

    @Option(name: .long, help: "nftables (default), iptables, iptables-nft or iptables-legacy.")
    var backend: Backend = .nftables

    /// The iptables tools to drive, or nil for nftables.
    func iptables(namespace: String?) -> IPTablesKernel? {
        switch backend {
        case .nftables: return nil
        case .iptables: return IPTablesKernel(variant: .system, namespace: namespace)
        case .iptablesNFT: return IPTablesKernel(variant: .nft, namespace: namespace)
        case .iptablesLegacy: return IPTablesKernel(variant: .legacy, namespace: namespace)
        }
    }
}

/// apply / verify / delete for the iptables backend: IPv4 and IPv6, one restore per family.
enum IPTablesCommands {
    /// Warns about what the iptables form does not honour exactly; under `--strict` refuses (exit 2).
    static func reportLimitations(_ ruleset: Ruleset, strict: Bool) throws {
        for line in IPTablesEmitter.limitations(of: ruleset) {
            Terminal.error((strict ? "error: " : "warning: ") + line + (strict ? "; refusing under --strict" : ""))
        }
        if strict && !IPTablesEmitter.limitations(of: ruleset).isEmpty { throw ExitCode(2) }
    }

    static func apply(_ ruleset: Ruleset, with kernel: IPTablesKernel, strict: Bool) throws {
        try reportLimitations(ruleset, strict: strict)
        for family in IPFamily.allCases {
            do {
                Terminal.out("applied " + (try kernel.apply(ruleset, family: family)) + "\n")
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(2)
            }
        }
    }

    static func verify(_ ruleset: Ruleset, with kernel: IPTablesKernel) throws {
        var differences: [String] = []
        for family in IPFamily.allCases {
            do {
                differences += try kernel.differences(ruleset, family: family).map { "\(family == .v4 ? "iptables" : "ip6tables"): \($0)" }
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(2)
            }
        }
        try VerifyCommand.report(differences, of: "the kubenft iptables chains", matches: "match", differs: "differ")
    }

    static func delete(with kernel: IPTablesKernel) throws {
        for family in IPFamily.allCases {
            let tool = family == .v4 ? "iptables" : "ip6tables"
            do {
                Terminal.out(try kernel.delete(family: family) ? "deleted the kubenft \(tool) chains\n" : "no kubenft \(tool) chains\n")
            } catch {
                Terminal.error("\(error)")
                throw ExitCode(2)
            }
        }
    }
}
