import Dispatch
import KubeManifest
import NFTKernel
import NFTRuleset
import NFTTrace
import Synchronization

/// Builds a `ChangeReport` from two pipeline results.
public enum ChangeAnalysis {
    /// The connections are traced on one thread while the service backends and the compiled objects
    /// are compared on another: the parts share nothing but the two (immutable) results.
    public static func compare(_ before: PipelineResult, _ after: PipelineResult) throws -> ChangeReport {
        let connections = Mutex<Result<(allowed: [ChangeReport.Connection], blocked: [ChangeReport.Connection]), Error>?>(nil)
        let rest = Mutex<Result<ChangeReport, Error>?>(nil)
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            if part == 0 {
                let traced = Result { try ConnectivityDiffer(before: before, after: after).connections() }
                connections.withLock { $0 = traced }
            } else {
                let compared = Result { () throws -> ChangeReport in
                    var report = ChangeReport()
                    report.services = try serviceChanges(before, after)
                    if let old = before.ruleset, let new = after.ruleset { objectChanges(old, new, into: &report) }
                    return report
                }
                rest.withLock { $0 = compared }
            }
        }
        guard let tracedConnections = connections.withLock({ $0 }), let compared = rest.withLock({ $0 }) else {
            throw TraceQueryError(description: "the comparison did not finish")
        }
        var report = try compared.get()
        let found = try tracedConnections.get()
        report.allowed = found.allowed
        report.blocked = found.blocked
        return report
    }

    /// Per service port: added, removed, or changed (type, node port, backends and their shares).
    static func serviceChanges(_ before: PipelineResult, _ after: PipelineResult) throws -> [ChangeReport.ServiceChange] {
        let oldPorts = try servicePorts(before), newPorts = try servicePorts(after)
        var changes: [ChangeReport.ServiceChange] = []
        for key in Set(oldPorts.keys).union(newPorts.keys).sorted() {
            let old = oldPorts[key], new = newPorts[key]
            switch (old, new) {
            case (nil, let added?):
                changes.append(.init(service: key, kind: "added", details: [added.summary], before: [], after: added.backends))
            case (let removed?, nil):
                changes.append(.init(service: key, kind: "removed", details: [removed.summary], before: removed.backends, after: []))
            case (let old?, let new?):
                var details: [String] = []
                if old.summary != new.summary { details.append("\(old.summary) -> \(new.summary)") }
                details += backendDetails(old.backends, new.backends)
                if !details.isEmpty {
                    changes.append(.init(service: key, kind: "changed", details: details, before: old.backends, after: new.backends))
                }
            case (nil, nil): break
            }
        }
        return changes
    }

    struct PortState {
        var summary: String
        var backends: [ChangeReport.Backend]
    }

    /// Every service port with its type summary and its backends, traced from outside the cluster.
    /// Each ClusterIP is followed: the first under `ns/name:port`, the other family of a dual-stack
    /// Service under `ns/name:port (IPv6)` (or IPv4), so a change on either side is reported.
    static func servicePorts(_ result: PipelineResult) throws -> [String: PortState] {
        let tracer = try Review.tracer(for: result, recordsSteps: false)
        var ports: [String: PortState] = [:]
        for service in result.cluster.services {
            for port in service.ports {
                let key = "\(service.meta.qualifiedName):\(port.name.isEmpty ? String(port.port) : port.name)"
                var summary = "\(service.type.rawValue) \(port.protocol.rawValue)/\(port.port)"
                if let nodePort = port.nodePort { summary += " nodePort \(nodePort)" }
                if service.isHeadless { summary += " headless" }
                let addresses = service.clusterIPs.enumerated().filter { index, address in
                    !service.clusterIPs[..<index].contains { $0.family == address.family }
                }.map(\.element)
                guard let first = addresses.first else {
                    ports[key] = PortState(summary: summary, backends: [])
                    continue
                }
                for clusterIP in addresses {
                    let name = clusterIP == first ? key : key + " (\(clusterIP.family == .v4 ? "IPv4" : "IPv6"))"
                    ports[name] = PortState(summary: summary, backends: try backends(tracer, clusterIP, port))
                }
            }
        }
        return ports
    }

    /// The DNAT targets of a connection from outside to one ClusterIP and port, merged over paths.
    static func backends(_ tracer: Tracer, _ clusterIP: IPAddress, _ port: ServicePort) throws -> [ChangeReport.Backend] {
        let source = IPAddress(clusterIP.family == .v4 ? "198.51.100.250" : "2001:db8::250")!
        let packet = TracePacket(source: source, destination: clusterIP, transport: port.protocol.nftName, destinationPort: port.port)
        var merged: [String: ChangeReport.Backend] = [:]
        for path in try tracer.trace(packet, origin: .network).paths {
            guard let address = path.translatedDestination, let target = path.translatedPort else { continue }
            merged["\(address)|\(target)", default: .init(address: address, port: target, probability: 0)].probability += path.probability
        }
        return merged.values.sorted()
    }

    static func backendDetails(_ old: [ChangeReport.Backend], _ new: [ChangeReport.Backend]) -> [String] {
        var details: [String] = []
        func key(_ backend: ChangeReport.Backend) -> String {
            backend.address.family == .v6 ? "[\(backend.address)]:\(backend.port)" : "\(backend.address):\(backend.port)"
        }
        let oldByKey = Dictionary(old.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let newByKey = Dictionary(new.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        for key in Set(oldByKey.keys).union(newByKey.keys).sorted() {
            switch (oldByKey[key], newByKey[key]) {
            case (nil, let added?): details.append("backend \(key) added (\(TraceReport.percent(added.probability)))")
            case (let removed?, nil): details.append("backend \(key) removed (was \(TraceReport.percent(removed.probability)))")
            case (let was?, let now?) where abs(was.probability - now.probability) > 0.0005:
                details.append("backend \(key) weight \(TraceReport.percent(was.probability)) -> \(TraceReport.percent(now.probability))")
            default: break
            }
        }
        return details
    }

    /// Chains by rules and hook, sets and maps by elements (`RulesetDelta` of the two rulesets);
    /// each change named by the object it came from, in name order.
    static func objectChanges(_ old: Ruleset, _ new: Ruleset, into report: inout ChangeReport) {
        let delta = RulesetDelta(from: old, to: new)
        var added: [ChangeReport.ObjectChange] = [], removed: [ChangeReport.ObjectChange] = [], changed: [ChangeReport.ObjectChange] = []
        for index in delta.chains.added { added.append(.init(kind: "chain", name: new.chains[index].name, source: new.chains[index].comment ?? "")) }
        for index in delta.chains.removed { removed.append(.init(kind: "chain", name: old.chains[index].name, source: old.chains[index].comment ?? "")) }
        for change in delta.chains.changed where change.rulesChanged || change.old.hook != change.new.hook {
            changed.append(.init(kind: "chain", name: change.new.name, source: change.new.comment ?? ""))
        }
        report.addedObjects += added.sorted { $0.name < $1.name }
        report.removedObjects += removed.sorted { $0.name < $1.name }
        report.changedObjects += changed.sorted { $0.name < $1.name }
        var setsAdded: [(String, [ChangeReport.ObjectChange])] = [], setsRemoved: [(String, [ChangeReport.ObjectChange])] = []
        func kind(_ set: NamedSet) -> String { set.isMap ? "map" : "set" }
        for index in delta.sets.added {
            let set = new.sets[index]
            setsAdded.append((set.name, [.init(kind: kind(set), name: set.name, source: set.comment ?? "")]))
        }
        for index in delta.sets.removed {
            let set = old.sets[index]
            setsRemoved.append((set.name, [.init(kind: kind(set), name: set.name, source: set.comment ?? "")]))
        }
        for change in delta.sets.changed {
            guard let elements = change.elements else { continue }
            func objects(_ list: [SetElement]) -> [ChangeReport.ObjectChange] {
                list.sorted(by: elementOrder).map {
                    .init(kind: "\(kind(change.new)) element", name: "\(change.new.name) \(elementText($0))", source: $0.comment ?? "")
                }
            }
            setsAdded.append((change.new.name, objects(elements.added)))
            setsRemoved.append((change.new.name, objects(elements.removed)))
        }
        report.addedObjects += setsAdded.sorted { $0.0 < $1.0 }.flatMap(\.1)
        report.removedObjects += setsRemoved.sorted { $0.0 < $1.0 }.flatMap(\.1)
    }

    static func elementOrder(_ lhs: SetElement, _ rhs: SetElement) -> Bool { lhs.key.lexicographicallyPrecedes(rhs.key) }

    static func elementText(_ element: SetElement) -> String {
        var text = element.key.map(NFTTextEmitter.value).joined(separator: " . ")
        switch element.data {
        case .verdict(let verdict)?: text += " : " + NFTTextEmitter.verdict(verdict)
        case .values(let values)?: text += " : " + values.map(NFTTextEmitter.value).joined(separator: " . ")
        case nil: break
        }
        return text
    }
}
