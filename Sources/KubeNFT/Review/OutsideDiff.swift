import KubeManifest
import NFTTrace

extension ConnectivityDiffer {
    /// Connections between pods and the peers outside them (node, address classes, service entry
    /// points) whose verdict differs between the versions. The classes come from the CIDRs of both
    /// versions, so each side traces the same representatives.
    func outsideChanges(_ oldSide: Side, _ newSide: Side, into changes: inout Changes) throws {
        let classes = AddressClasses.classes([before, after])
        let ports = OutsidePeers.egressPorts([before, after])
        // A pod's connections with outside peers depend on its own chain for the direction (and on
        // the classes, the same for both versions): pods whose chain is unchanged are skipped.
        let changed: (String, Side.Direction) -> Bool = { pod, direction in
            oldSide.fingerprint(pod, direction) != newSide.fingerprint(pod, direction)
        }
        let was = try outsideVerdicts(oldSide, classes: classes, ports: ports, including: changed)
        let now = try outsideVerdicts(newSide, classes: classes, ports: ports, including: changed)
        for (connection, allowed) in now where allowed && was[connection] != true { changes.allowed.append(connection) }
        for (connection, allowed) in was where allowed && now[connection] != true { changes.blocked.append(connection) }
    }

    /// Every outside probe of one version and whether it is allowed. Probes whose pod end has the
    /// same policy chains and set memberships as one already traced share its verdict.
    func outsideVerdicts(_ side: Side, classes: [AddressClass], ports: [(UInt16, L4Protocol)],
                         including: (String, Side.Direction) -> Bool) throws -> [ChangeReport.Connection: Bool] {
        var verdicts: [ChangeReport.Connection: Bool] = [:], cache: [String: Bool] = [:], groups: [String: String] = [:]
        for probe in OutsidePeers.probes(side.result, classes: classes, egressPorts: ports, including: including) {
            var key: String?
            if let pod = probe.pod, let direction = probe.direction {
                let peer = probe.connection.from == pod ? probe.connection.to : probe.connection.from
                let groupKey = "\(pod)|\(direction)"
                let group = groups[groupKey] ?? "\(side.chainKey(pod, direction))|\(side.membership(pod))|\(direction)"
                groups[groupKey] = group
                key = "\(group)|\(peer)|\(probe.packet.transport)/\(probe.packet.destinationPort)"
            }
            if let key, let known = cache[key] {
                verdicts[probe.connection] = known
                continue
            }
            let allowed = try side.tracer.trace(probe.packet, origin: probe.origin).acceptProbability > 0.999_999
            if let key { cache[key] = allowed }
            verdicts[probe.connection] = allowed
        }
        return verdicts
    }

    /// Fills in each changed connection's reason, traced rule by rule in the new version (or the
    /// old one when an end is gone).
    func explain(_ changes: inout Changes, _ oldSide: Side, _ newSide: Side) throws {
        guard !changes.allowed.isEmpty || !changes.blocked.isEmpty else { return }
        let classes = AddressClasses.classes([before, after]), ports = OutsidePeers.egressPorts([before, after])
        let pods = Set((changes.allowed + changes.blocked).flatMap { [$0.from, $0.to] })
        let explainers = [try Explainer(newSide, isNew: true, classes: classes, ports: ports, pods: pods),
                          try Explainer(oldSide, isNew: false, classes: classes, ports: ports, pods: pods)]
        func reason(_ connection: ChangeReport.Connection) throws -> String {
            for explainer in explainers {
                if let reason = try explainer.reason(connection) { return explainer.isNew ? reason : "gone from the new version; was: \(reason)" }
            }
            return ""
        }
        for index in changes.allowed.indices { changes.allowed[index].reason = try reason(changes.allowed[index]) }
        for index in changes.blocked.indices { changes.blocked[index].reason = try reason(changes.blocked[index]) }
    }

    /// Traces connections of one version with every rule recorded, to name the deciding rules.
    struct Explainer {
        var side: Side
        var tracer: Tracer
        var probes: [ChangeReport.Connection: OutsideProbe] = [:]
        var isNew: Bool

        /// `pods`: the pods of the connections to explain; only their outside probes are built.
        init(_ side: Side, isNew: Bool, classes: [AddressClass], ports: [(UInt16, L4Protocol)], pods: Set<String>) throws {
            self.side = side
            self.isNew = isNew
            tracer = try Review.tracer(for: side.result, recordsSteps: true)
            for probe in OutsidePeers.probes(side.result, classes: classes, egressPorts: ports, including: { pod, _ in pods.contains(pod) }) {
                probes[probe.connection] = probe
            }
        }

        func reason(_ connection: ChangeReport.Connection) throws -> String? {
            if let source = side.pods[connection.from], let destination = side.pods[connection.to] {
                guard let packet = Review.packet(from: source, to: destination, port: connection.port, transport: connection.transport) else {
                    return "no common address family"
                }
                return Reason.of(try tracer.trace(packet, origin: .network))
            }
            guard let probe = probes[connection] else { return nil }
            return Reason.of(try tracer.trace(probe.packet, origin: probe.origin),
                             sourceIsPod: probe.direction == .egress || probe.direction == .nodeEgress, destinationIsPod: probe.pod == nil || probe.direction == .ingress, toNode: probe.direction == .nodeEgress)
        }
    }
}
