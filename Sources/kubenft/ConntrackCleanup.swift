import ArgumentParser
import KubeManifest
import KubeNFT
import KubeNFTCompiler
import NFTNetlink
import NFTRuleset
import NetAddress

/// The conntrack step of `kubenft apply`: after the table is committed, UDP entries that still
/// point at an endpoint a Service no longer has, or at a frontend the table no longer programs,
/// are deleted (see docs/apply.md), so the client's next datagram is balanced again.
struct ConntrackCleanup {
    let filter: StaleFlowFilter

    /// The current frontends from the compiled model; the previous ones from the table's frontend
    /// maps as the kernel holds them now (before the apply).
    init(_ compiled: PipelineResult, ruleset: Ruleset, applier: RulesetApplier) throws(NetlinkError) {
        let before = try applier.sets(family: ruleset.family, table: ruleset.name, named: ServiceFrontends.frontendMaps)
        var current: [ConntrackFrontend: Set<IPAddress>] = [:]
        for frontend in ServiceFrontends.of(compiled.cluster, context: compiled.context) {
            current[Self.key(frontend), default: []].formUnion(frontend.endpoints)
        }
        filter = StaleFlowFilter(current: current, previous: Set(ServiceFrontends.programmed(in: before).map(Self.key)),
                                 nodeAddresses: Set(compiled.context.nodeIPs))
    }

    static func key(_ frontend: ServiceFrontend) -> ConntrackFrontend {
        let destination: ConntrackFrontend.Destination
        switch frontend.destination {
        case .address(let address): destination = .address(address)
        case .nodePort(let family): destination = .nodePort(family)
        }
        let proto: UInt8
        switch frontend.proto {
        case .tcp: proto = 6
        case .udp: proto = 17
        case .sctp: proto = 132
        }
        return ConntrackFrontend(destination, proto: proto, port: frontend.port)
    }

    /// Deletes the stale entries (a dry run lists them) and says how many; exit 2 on a failure,
    /// saying that the table itself was applied.
    func run(transport: NetlinkTransport, dryRun: Bool) throws {
        let report: ConntrackCleanupReport
        do {
            report = try ConntrackTable(transport: transport).clean(filter, dryRun: dryRun)
        } catch {
            Terminal.error("error: conntrack cleanup failed: \(error.message); the table was \(dryRun ? "checked" : "applied")"
                           + " (--no-conntrack-cleanup skips this step)")
            throw ExitCode(2)
        }
        let count = report.stale.count
        let entries = "stale UDP conntrack entr\(count == 1 ? "y" : "ies")"
        if dryRun {
            var text = "would remove \(count) \(entries)\n"
            for (flow, reason) in report.stale { text += "  " + DisplayText.escaped("\(flow): \(reason)") + "\n" }
            Terminal.out(text)
        } else {
            let vanished = report.vanished > 0 ? " (\(report.vanished) more had already expired)" : ""
            Terminal.out("removed \(report.removed) \(report.removed == 1 ? "stale UDP conntrack entry" : "stale UDP conntrack entries")\(vanished)\n")
        }
    }
}
