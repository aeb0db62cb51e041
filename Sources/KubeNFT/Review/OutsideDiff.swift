import KubeManifest
import NFTTrace

extension ConnectivityDiffer {
    /// Connections between pods and the peers outside them (node, address classes, service entry
    /// points) whose verdict differs between the versions. The classes come from the CIDRs of both
    /// versions, so each side traces the same representatives.
    func outsideChanges(_ oldSide: Side, _ newSide: Side, inbound: DiffPorts, reasons: ReasonTracer, into changes: inout Changes) throws {
        let classes = AddressClasses.classes([before, after])
        let ports = OutsidePeers.egressPorts([before, after])
        // A pod's connections with outside peers depend on its own chain for the direction (and on
        // the classes, the same for both versions): pods whose chain is unchanged are skipped.
        let changed: (String, Side.Direction) -> Bool = { pod, direction in
            oldSide.fingerprint(pod, direction) != newSide.fingerprint(pod, direction)
        }
        let was = try outsideVerdicts(oldSide, classes: classes, ports: ports, inbound: inbound, including: changed)
        let now = try outsideVerdicts(newSide, classes: classes, ports: ports, inbound: inbound, including: changed)
        for (connection, verdict) in now where verdict.allowed && was[connection]?.allowed != true {
            var explained = connection
            explained.reason = try reasons.reason(verdict, isNew: true)
            changes.allowed.append(explained)
        }
        for (connection, verdict) in was where verdict.allowed && now[connection]?.allowed != true {
            var explained = connection
            explained.reason = try now[connection].map { try reasons.reason($0, isNew: true) } ?? reasons.reason(verdict, isNew: false)
            changes.blocked.append(explained)
        }
    }

    /// The verdict of one outside probe, and the group of alike probes it stands for.
    struct OutsideVerdict {
        var probe: OutsideProbe
        var allowed: Bool
        /// Probes with the same key get the same verdict and the same reason.
        var key: String?
    }

    /// Every outside probe of one version and whether it is allowed. Probes whose pod end has the
    /// same policy chains and set memberships as one already traced share its verdict.
    func outsideVerdicts(_ side: Side, classes: [AddressClass], ports: [(UInt16, L4Protocol)], inbound: DiffPorts,
                         including: (String, Side.Direction) -> Bool) throws -> [ChangeReport.Connection: OutsideVerdict] {
        var verdicts: [ChangeReport.Connection: OutsideVerdict] = [:], cache: [String: Bool] = [:], groups: [String: String] = [:]
        for probe in OutsidePeers.probes(side.result, classes: classes, egressPorts: ports,
                                             inbound: { inbound.inbound(to: $0.reviewName) }, including: including) {
            var key: String?
            if let pod = probe.pod, let direction = probe.direction {
                let peer = probe.connection.from == pod ? probe.connection.to : probe.connection.from
                let groupKey = "\(pod)|\(direction)"
                let group = groups[groupKey] ?? "\(side.chainKey(pod, direction))|\(side.membership(pod))|\(direction)"
                groups[groupKey] = group
                key = "\(group)|\(peer)|\(probe.packet.transport)/\(probe.packet.destinationPort)"
            }
            if let key, let known = cache[key] {
                verdicts[probe.connection] = OutsideVerdict(probe: probe, allowed: known, key: key)
                continue
            }
            let allowed = try side.tracer.trace(probe.packet, origin: probe.origin).acceptProbability > 0.999_999
            if let key { cache[key] = allowed }
            verdicts[probe.connection] = OutsideVerdict(probe: probe, allowed: allowed, key: key)
        }
        return verdicts
    }
}

/// Names the rules that decided changed connections, tracing rule by rule once per group of alike
/// connections (the verdict-only tracers of the diff skip the steps for speed).
final class ReasonTracer {
    private let old: Tracer
    private let new: Tracer
    private var cache: [String: String] = [:]

    init(before: PipelineResult, after: PipelineResult) throws {
        old = try Review.tracer(for: before, recordsSteps: true)
        new = try Review.tracer(for: after, recordsSteps: true)
    }

    /// The reason for a pod pair in the new version, or in the old one when an end is gone.
    func reason(_ source: String, _ destination: String, _ port: UInt16, _ transport: L4Protocol,
                _ oldSide: ConnectivityDiffer.Side, _ newSide: ConnectivityDiffer.Side) throws -> String {
        for (side, tracer, isNew) in [(newSide, new, true), (oldSide, old, false)] {
            guard let from = side.pods[source], let to = side.pods[destination] else { continue }
            guard let packet = Review.packet(from: from, to: to, port: port, transport: transport) else { return "no common address family" }
            let reason = Reason.of(try tracer.trace(packet, origin: .network))
            return isNew ? reason : "gone from the new version; was: \(reason)"
        }
        return ""
    }

    /// The reason for an outside probe in one version, shared by the probes of its group.
    func reason(_ verdict: ConnectivityDiffer.OutsideVerdict, isNew: Bool) throws -> String {
        let key = verdict.key.map { "\(isNew)|\($0)" }
        if let key, let known = cache[key] { return known }
        let probe = verdict.probe
        var reason = Reason.of(try (isNew ? new : old).trace(probe.packet, origin: probe.origin),
                               sourceIsPod: probe.direction == .egress || probe.direction == .nodeEgress,
                               destinationIsPod: probe.pod == nil || probe.direction == .ingress, toNode: probe.direction == .nodeEgress)
        if !isNew { reason = "gone from the new version; was: \(reason)" }
        if let key { cache[key] = reason }
        return reason
    }
}
