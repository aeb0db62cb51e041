import KubeManifest
import NFTRuleset
import NFTTrace

/// What a manifest change does: connections that become allowed or blocked, service backends that
/// change, and the compiled objects added, removed or changed.
public struct ChangeReport: Sendable {
    /// One pod-to-pod connection on one port.
    public struct Connection: Sendable, Hashable, Comparable {
        public var from: String
        public var to: String
        public var port: UInt16
        public var transport: L4Protocol

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

    public var isEmpty: Bool {
        allowed.isEmpty && blocked.isEmpty && services.isEmpty && addedObjects.isEmpty && removedObjects.isEmpty && changedObjects.isEmpty
    }
}

/// Computes connectivity changes by tracing both compiled rulesets. Only pairs whose verdict can have
/// changed are traced: a pair's verdict depends on the source's egress chain and the destination's
/// ingress chain (with the sets they use), so pairs where neither fingerprint moved are skipped.
struct ConnectivityDiffer {
    var before: PipelineResult
    var after: PipelineResult

    func connections() throws -> (allowed: [ChangeReport.Connection], blocked: [ChangeReport.Connection]) {
        let oldSide = try Side(before), newSide = try Side(after)
        let names = Set(oldSide.pods.keys).union(newSide.pods.keys).sorted()
        var changedSources = Set<String>(), changedDestinations = Set<String>()
        for name in names {
            if oldSide.fingerprint(name, .egress) != newSide.fingerprint(name, .egress) { changedSources.insert(name) }
            if oldSide.fingerprint(name, .ingress) != newSide.fingerprint(name, .ingress) { changedDestinations.insert(name) }
        }
        var allowed: [ChangeReport.Connection] = [], blocked: [ChangeReport.Connection] = []
        // Only pairs with a changed end: changed sources × every pod, every pod × changed destinations.
        var pairs = Set<Pair>()
        for source in changedSources { for destination in names where destination != source { pairs.insert(Pair(source, destination)) } }
        for destination in changedDestinations { for source in names where source != destination { pairs.insert(Pair(source, destination)) } }
        for pair in pairs {
            for (port, transport) in Self.ports(of: pair.destination, oldSide, newSide) {
                let was = try oldSide.allows(pair.source, pair.destination, port, transport)
                let now = try newSide.allows(pair.source, pair.destination, port, transport)
                guard was != now else { continue }
                let connection = ChangeReport.Connection(from: pair.source, to: pair.destination, port: port, transport: transport)
                if now { allowed.append(connection) } else { blocked.append(connection) }
            }
        }
        return (allowed.sorted(), blocked.sorted())
    }

    struct Pair: Hashable {
        var source: String
        var destination: String
        init(_ source: String, _ destination: String) {
            self.source = source
            self.destination = destination
        }
    }

    /// The destination's container ports in either version (TCP 80 when it declares none).
    static func ports(of pod: String, _ sides: Side...) -> [(UInt16, L4Protocol)] {
        var seen = Set<String>()
        var result: [(UInt16, L4Protocol)] = []
        for side in sides {
            for port in side.pods[pod]?.containerPorts ?? [] where seen.insert("\(port.protocol.rawValue)/\(port.port)").inserted {
                result.append((port.port, port.protocol))
            }
        }
        if result.isEmpty { result = [(80, .tcp)] }
        return result.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    /// One version: its pods, tracer and per-pod policy fingerprints.
    struct Side {
        var pods: [String: Pod] = [:]
        var tracer: Tracer
        var ruleset: Ruleset
        private var dispatch: [String: [String: String]] = [:]
        private var chainFingerprints: [String: String] = [:]

        init(_ result: PipelineResult) throws {
            tracer = try Review.tracer(for: result, recordsSteps: false)
            ruleset = tracer.ruleset
            for pod in result.cluster.pods where !pod.hostNetwork && !pod.podIPs.isEmpty { pods[pod.meta.qualifiedName] = pod }
            for set in ruleset.sets where set.name.hasPrefix("policy-") {
                var targets: [String: String] = [:]
                for element in set.elements {
                    if case .verdict(.jump(let chain))? = element.data, case .address(let address)? = element.key.first {
                        targets[address.description] = chain
                    }
                }
                dispatch[set.name] = targets
            }
            let setsByName = Dictionary(ruleset.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var own: [String: String] = [:]
            var callees: [String: [String]] = [:]
            for chain in ruleset.chains where chain.name.hasPrefix("np-") {
                var text = chain.rules.map(NFTTextEmitter.rule).joined(separator: "\n")
                for rule in chain.rules {
                    for name in Self.referencedSets(rule) { text += "\n" + (setsByName[name].map { "\($0.elements)" } ?? "") }
                    callees[chain.name, default: []] += Self.referencedChains(rule)
                }
                own[chain.name] = text
            }
            // A tier chain hands over to the next tier with goto: its verdicts depend on that chain too.
            for name in own.keys {
                var text = "", pending = [name], seen = Set<String>()
                while let current = pending.popLast() {
                    guard seen.insert(current).inserted, let body = own[current] else { continue }
                    text += "\n" + current + "\n" + body
                    pending += callees[current] ?? []
                }
                chainFingerprints[name] = text
            }
        }

        static func referencedChains(_ rule: Rule) -> [String] {
            rule.statements.compactMap { statement in
                if case .verdict(.goto(let name)) = statement { return name }
                if case .verdict(.jump(let name)) = statement { return name }
                return nil
            }
        }

        static func referencedSets(_ rule: Rule) -> [String] {
            rule.statements.compactMap { statement in
                if case .match(_, _, .setReference(let name)) = statement { return name }
                return nil
            }
        }

        /// The pod's address, the chain it is sent to and that chain's content; "open" when not isolated.
        enum Direction { case ingress, egress }

        func fingerprint(_ name: String, _ direction: Direction) -> String {
            guard let pod = pods[name] else { return "absent" }
            var parts: [String] = []
            for address in pod.podIPs {
                let map = "policy-\(direction == .ingress ? "ingress" : "egress")-v\(address.family == .v4 ? 4 : 6)"
                let chain = dispatch[map]?[address.description]
                parts.append(address.description + "=" + (chain.map { chainFingerprints[$0] ?? $0 } ?? "open"))
            }
            return parts.joined(separator: "|")
        }

        func allows(_ source: String, _ destination: String, _ port: UInt16, _ transport: L4Protocol) throws -> Bool {
            guard let from = pods[source], let to = pods[destination] else { return false }
            return try Review.allowed(tracer, from: from, to: to, port: port, transport: transport)
        }
    }
}
