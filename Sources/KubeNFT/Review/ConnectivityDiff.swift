import KubeManifest
import NFTRuleset
import NFTTrace

/// What a manifest change does: connections that become allowed or blocked, service backends that
/// change, and the compiled objects added, removed or changed.
public struct ChangeReport: Sendable {
    /// One connection on one port: pod to pod, or between a pod and a peer outside the pods (`node`,
    /// `outside:CIDR…`) or an outside client to a service's `nodeport:`/`loadbalancer:`/`externalip:` entry.
    /// Equal when the ends, port and protocol are; `reason` only explains.
    public struct Connection: Sendable, Hashable, Comparable {
        public var from: String
        public var to: String
        public var port: UInt16
        public var transport: L4Protocol
        /// The ports of `transport` that `port` stands for (it is their first), when it is not a
        /// declared container port but the probe of a class of ports no policy port cuts.
        public var portRange: ClosedRange<UInt16>? = nil
        /// Which policy rules decided the connection's verdict in the new version (from the rule
        /// comments of the chains its trace went through).
        public var reason: String = ""

        public static func == (lhs: Connection, rhs: Connection) -> Bool {
            (lhs.from, lhs.to, lhs.port, lhs.transport) == (rhs.from, rhs.to, rhs.port, rhs.transport)
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(from)
            hasher.combine(to)
            hasher.combine(port)
            hasher.combine(transport)
        }

        public static func < (lhs: Connection, rhs: Connection) -> Bool {
            (lhs.to, lhs.from, lhs.transport, lhs.port) < (rhs.to, rhs.from, rhs.transport, rhs.port)
        }
    }

    /// A DNAT target of a service port with its share of connections.
    public struct Backend: Sendable, Hashable, Comparable {
        public var address: IPAddress
        public var port: UInt16
        public var probability: Double

        public static func < (lhs: Backend, rhs: Backend) -> Bool { (lhs.address, lhs.port) < (rhs.address, rhs.port) }
    }

    /// How one service port changed.
    public struct ServiceChange: Sendable, Hashable {
        public var service: String
        public var kind: String
        public var details: [String]
        public var before: [Backend]
        public var after: [Backend]
    }

    /// A compiled object (chain, set or map element) that was added, removed or changed.
    public struct ObjectChange: Sendable, Hashable, Comparable {
        public var kind: String
        public var name: String
        public var source: String

        public static func < (lhs: ObjectChange, rhs: ObjectChange) -> Bool { (lhs.kind, lhs.name) < (rhs.kind, rhs.name) }
    }

    public var allowed: [Connection] = []
    public var blocked: [Connection] = []
    public var services: [ServiceChange] = []
    public var addedObjects: [ObjectChange] = []
    public var removedObjects: [ObjectChange] = []
    public var changedObjects: [ObjectChange] = []
    /// Warnings about the input under review (selectors that select nothing...), for the JSON form.
    public var warnings: [String] = []
    /// Policy changes whose effect lies outside the input (`Review.uncheckedPolicyChanges`): changes
    /// nonetheless, so a report holding only these is not empty.
    public var uncheckedPolicies: [String] = []

    public var isEmpty: Bool {
        allowed.isEmpty && blocked.isEmpty && services.isEmpty && addedObjects.isEmpty && removedObjects.isEmpty && changedObjects.isEmpty
            && uncheckedPolicies.isEmpty
    }
}

/// Computes connectivity changes by tracing both compiled rulesets. A pod-to-pod verdict depends
/// only on the source's egress chain, the destination's ingress chain, and which sets hold each
/// end's address. So only pairs with a changed end are considered, and among those, pods that are
/// alike (same chains, same set memberships, in both versions) are traced once for all of them.
struct ConnectivityDiffer {
    var before: PipelineResult
    var after: PipelineResult

    func connections() throws -> (allowed: [ChangeReport.Connection], blocked: [ChangeReport.Connection]) {
        let interner = Interner()
        let probes = DiffPorts([before, after])
        let oldSide = try Side(before, interner: interner), newSide = try Side(after, interner: interner)
        let names = Set(oldSide.pods.keys).union(newSide.pods.keys).sorted()
        var egress: [String: [Int]] = [:], ingress: [String: [Int]] = [:], peer: [String: [Int]] = [:], ports: [String: [Int]] = [:]
        var egressChains: [String: [Int]] = [:], ingressChains: [String: [Int]] = [:]
        for name in names {
            egress[name] = [oldSide.fingerprint(name, .egress), newSide.fingerprint(name, .egress)]
            ingress[name] = [oldSide.fingerprint(name, .ingress), newSide.fingerprint(name, .ingress)]
            // A source's egress chains and the ports they name; a destination's declared ports and
            // the ports its ingress rules name: what decides which ports a pair is probed on.
            egressChains[name] = [oldSide.chainKey(name, .egress), newSide.chainKey(name, .egress), interner.id(probes.sourceKey(name))]
            ingressChains[name] = [oldSide.chainKey(name, .ingress), newSide.chainKey(name, .ingress)]
            peer[name] = [oldSide.membership(name), newSide.membership(name)]
            ports[name] = [interner.id(probes.destinationKey(name))]
        }
        let changedSources = Set(names.filter { egress[$0]?[0] != egress[$0]?[1] })
        let changedDestinations = Set(names.filter { ingress[$0]?[0] != ingress[$0]?[1] })
        var changes = Changes()
        let reasons = try ReasonTracer(before: before, after: after)
        // Changed pods alike (same chains, same set memberships) are handled as one. A source's
        // membership matters only in the sets the destination's ingress chains read (and a
        // destination's only in those its source's egress chains read), so the other end is grouped
        // by those memberships alone.
        let destinationGroups = Self.group(changedDestinations.sorted()) { (peer[$0] ?? []) + (ingressChains[$0] ?? []) + (ports[$0] ?? []) }
        for destinations in destinationGroups {
            let read = oldSide.ids(oldSide.setsRead(destinations[0], .ingress).union(newSide.setsRead(destinations[0], .ingress)))
            let sources = Self.group(names) { oldSide.membership($0, among: read) + [-1] + newSide.membership($0, among: read) + (egressChains[$0] ?? []) }
            try compare(groups: sources, fixed: destinations, fixedIsDestination: true, Pair(old: oldSide, new: newSide, ports: probes), reasons,
                        into: &changes)
        }
        let unchanged = names.filter { !changedDestinations.contains($0) }
        for sources in Self.group(changedSources.sorted(), key: { (peer[$0] ?? []) + (egressChains[$0] ?? []) }) {
            let read = oldSide.ids(oldSide.setsRead(sources[0], .egress).union(newSide.setsRead(sources[0], .egress)))
            let destinations = Self.group(unchanged) {
                oldSide.membership($0, among: read) + [-1] + newSide.membership($0, among: read) + (ingressChains[$0] ?? []) + (ports[$0] ?? [])
            }
            try compare(groups: destinations, fixed: sources, fixedIsDestination: false, Pair(old: oldSide, new: newSide, ports: probes), reasons,
                        into: &changes)
        }
        try outsideChanges(oldSide, newSide, inbound: probes, reasons: reasons, into: &changes)
        return (changes.allowed.sorted(), changes.blocked.sorted())
    }

    /// Both versions and the ports to probe between their pods.
    struct Pair {
        var old: Side
        var new: Side
        var ports: DiffPorts
    }

    struct Changes {
        var allowed: [ChangeReport.Connection] = []
        var blocked: [ChangeReport.Connection] = []
    }

    /// Members grouped by a key, in name order.
    static func group(_ members: [String], key: (String) -> [Int]) -> [[String]] {
        var groups: [[Int]: [String]] = [:]
        for member in members { groups[key(member), default: []].append(member) }
        return groups.values.sorted { $0[0] < $1[0] }
    }

    /// Traces one pair per group (a member and the first fixed pod) and applies its outcome to every
    /// pair of a member and a fixed pod, except a pod with itself.
    private func compare(groups: [[String]], fixed: [String], fixedIsDestination: Bool, _ sides: Pair, _ reasons: ReasonTracer, into changes: inout Changes) throws {
        let anchor = fixed[0]
        func pair(_ member: String, _ end: String) -> (String, String) { fixedIsDestination ? (member, end) : (end, member) }
        for members in groups {
            if let representative = members.first(where: { $0 != anchor }) {
                let pairs = members.flatMap { member in fixed.filter { $0 != member }.map { pair(member, $0) } }
                try apply(pair(representative, anchor), to: pairs, sides, reasons, into: &changes)
            } else {
                // The group is the anchor alone: its pairs with the other fixed pods are traced one by one.
                for end in fixed.dropFirst() { try apply(pair(anchor, end), to: [pair(anchor, end)], sides, reasons, into: &changes) }
            }
        }
    }

    /// Traces one pair on every port it is probed on (`DiffPorts`) in both versions, and records each
    /// change, with the reason traced once, for all the given pairs.
    private func apply(_ traced: (String, String), to pairs: [(String, String)], _ sides: Pair,
                       _ reasons: ReasonTracer, into changes: inout Changes) throws {
        let (source, destination) = traced
        for probe in sides.ports.ports(from: source, to: destination) {
            let (port, transport) = (probe.port, probe.transport)
            let was = try sides.old.allows(source, destination, port, transport)
            let now = try sides.new.allows(source, destination, port, transport)
            guard was != now else { continue }
            let reason = try reasons.reason(source, destination, port, transport, sides.old, sides.new)
            for (from, to) in pairs {
                let connection = ChangeReport.Connection(from: from, to: to, port: port, transport: transport, portRange: probe.range, reason: reason)
                if now { changes.allowed.append(connection) } else { changes.blocked.append(connection) }
            }
        }
    }

    /// The container ports of the pods (one pod in its versions), TCP 80 when they declare none.
    static func ports(of pods: Pod...) -> [(UInt16, L4Protocol)] { ports(of: pods) }

    static func ports(of pods: [Pod]) -> [(UInt16, L4Protocol)] {
        var seen = Set<String>()
        var result: [(UInt16, L4Protocol)] = []
        for pod in pods {
            for port in pod.containerPorts where seen.insert("\(port.protocol.rawValue)/\(port.port)").inserted {
                result.append((port.port, port.protocol))
            }
        }
        if result.isEmpty { result = [(80, .tcp)] }
        return result.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }
}

/// Gives equal strings equal small numbers, shared by both versions so their ids compare.
final class Interner {
    private var ids: [String: Int] = [:]

    func id(_ text: String) -> Int {
        if let known = ids[text] { return known }
        ids[text] = ids.count
        return ids.count - 1
    }
}
