import KubeManifest
import NFTRuleset
import NFTTrace

extension ConnectivityDiffer {
    /// One version: its pods, tracer, per-pod policy chain ids and address-set memberships.
    struct Side {
        enum Direction: Sendable { case ingress, egress, nodeEgress }

        static func mapName(_ direction: Direction, _ family: IPFamily) -> String {
            let name = direction == .ingress ? "ingress" : (direction == .egress ? "egress" : "node-egress")
            return "policy-\(name)-v\(family == .v4 ? 4 : 6)"
        }

        var pods: [String: Pod] = [:]
        var tracer: Tracer
        let result: PipelineResult
        private var dispatch: [String: [IPAddress: String]] = [:]
        private var chainIDs: [String: Int] = [:]
        private var memberships: [String: Int] = [:]
        /// Per pod, the names of the sets holding one of its addresses.
        private var memberLists: [String: [String]] = [:]
        /// Per policy chain, the sets it and the chains it hands over to read.
        private var chainSets: [String: Set<String>] = [:]
        /// Sets read by chains other than the policy chains (the same for every pair of pods).
        private var globalSets = Set<String>()
        /// `memberLists` as interned set names.
        private var memberIDs: [String: [Int]] = [:]
        private var globalIDs = Set<Int>()
        private let interner: Interner

        init(_ result: PipelineResult, interner: Interner) throws {
            self.interner = interner
            self.result = result
            tracer = try Review.tracer(for: result, recordsSteps: false)
            let ruleset = tracer.ruleset
            for pod in Review.reviewedPods(result.cluster) { pods[pod.reviewName] = pod }
            for set in ruleset.sets where set.name.hasPrefix("policy-") {
                var targets: [IPAddress: String] = [:]
                for element in set.elements {
                    if case .verdict(.jump(let chain))? = element.data, case .address(let address)? = element.key.first { targets[address] = chain }
                }
                dispatch[set.name] = targets
            }
            chainIDs = Self.chainIDs(ruleset, interner: interner)
            memberLists = Self.memberLists(ruleset, pods: Array(pods.values))
            memberships = memberLists.mapValues { interner.id($0.joined(separator: ",")) }
            (chainSets, globalSets) = Self.setsRead(ruleset)
            memberIDs = memberLists.mapValues { $0.map(interner.id) }
            globalIDs = Set(globalSets.map(interner.id))
        }

        /// Each policy chain's content (rules, the sets they read, and the chains they hand over to) as an id.
        static func chainIDs(_ ruleset: Ruleset, interner: Interner) -> [String: Int] {
            let setsByName = Dictionary(ruleset.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var own: [String: String] = [:], callees: [String: [String]] = [:]
            for chain in ruleset.chains where chain.name.hasPrefix("np-") {
                var text = chain.rules.map(NFTTextEmitter.rule).joined(separator: "\n")
                for rule in chain.rules {
                    for name in referencedSets(rule) {
                        text += "\n" + name + ":" + (setsByName[name]?.elements.map(NFTTextEmitter.element).joined(separator: ",") ?? "")
                    }
                    callees[chain.name, default: []] += referencedChains(rule)
                }
                own[chain.name] = text
            }
            var ids: [String: Int] = [:]
            for name in own.keys {
                var text = "", pending = [name], seen = Set<String>()
                while let current = pending.popLast() {
                    guard seen.insert(current).inserted, let body = own[current] else { continue }
                    text += "\n" + current + "\n" + body
                    pending += callees[current] ?? []
                }
                ids[name] = interner.id(text)
            }
            return ids
        }

        /// For each pod, the names of the sets whose keys start with one of its addresses.
        static func memberLists(_ ruleset: Ruleset, pods: [Pod]) -> [String: [String]] {
            var lists: [String: [String]] = [:]
            let addresses = pods.flatMap { pod in pod.podIPs.map { (address: $0, name: pod.reviewName) } }
                .sorted { precedes($0.address, $1.address.family, $1.address.numericValue) }
            for set in ruleset.sets {
                guard let first = set.key.first, first == .ipv4Address || first == .ipv6Address else { continue }
                let ranges = AddressRange.union(set.elements.compactMap { element -> AddressRange? in
                    switch element.key.first {
                    case .address(let address)?: return AddressRange(address)
                    case .prefix(let cidr)?: return AddressRange(cidr)
                    case .addressRange(let low, let high)?: return AddressRange(family: low.family, lower: low.numericValue, upper: high.numericValue)
                    default: return nil
                    }
                })
                for range in ranges {
                    // The first address at or above the range's start, then every address inside it.
                    var low = 0, high = addresses.count
                    while low < high {
                        let middle = (low + high) / 2
                        if Self.precedes(addresses[middle].address, range.family, range.lower) { low = middle + 1 } else { high = middle }
                    }
                    while low < addresses.count, addresses[low].address.family == range.family,
                          addresses[low].address.numericValue <= range.upper {
                        let name = addresses[low].name
                        if lists[name]?.last != set.name { lists[name, default: []].append(set.name) }
                        low += 1
                    }
                }
            }
            return lists
        }

        /// Address order: family, then value.
        static func precedes(_ address: IPAddress, _ family: IPFamily, _ value: UInt128) -> Bool {
            address.family != family ? address.family < family : address.numericValue < value
        }

        /// The sets each policy chain reads, with the chains it hands over to; and the sets every
        /// other chain reads.
        static func setsRead(_ ruleset: Ruleset) -> (chains: [String: Set<String>], global: Set<String>) {
            var own: [String: Set<String>] = [:], callees: [String: [String]] = [:], global = Set<String>()
            for chain in ruleset.chains {
                let sets = Set(chain.rules.flatMap(referencedSets))
                if chain.name.hasPrefix("np-") {
                    own[chain.name] = sets
                    callees[chain.name] = chain.rules.flatMap(referencedChains)
                } else {
                    global.formUnion(sets)
                }
            }
            var result: [String: Set<String>] = [:]
            for name in own.keys {
                var sets = Set<String>(), pending = [name], seen = Set<String>()
                while let current = pending.popLast() {
                    guard seen.insert(current).inserted else { continue }
                    sets.formUnion(own[current] ?? [])
                    pending += callees[current] ?? []
                }
                result[name] = sets
            }
            return (result, global)
        }

        static func referencedSets(_ rule: Rule) -> [String] {
            rule.statements.compactMap { statement in
                if case .match(_, _, .setReference(let name)) = statement { return name }
                return nil
            }
        }

        static func referencedChains(_ rule: Rule) -> [String] {
            rule.statements.compactMap { statement in
                if case .verdict(.goto(let name)) = statement { return name }
                if case .verdict(.jump(let name)) = statement { return name }
                return nil
            }
        }

        /// The pod's addresses and the chain each is sent to, as an id; "open" when not isolated.
        func fingerprint(_ name: String, _ direction: Direction) -> Int {
            guard let pod = pods[name] else { return interner.id("absent") }
            var parts: [String] = []
            for address in pod.podIPs {
                let map = Self.mapName(direction, address.family)
                let chain = dispatch[map]?[address]
                parts.append(address.description + "=" + (chain.map { String(chainIDs[$0] ?? -1) + ":" + $0 } ?? "open"))
            }
            return interner.id(parts.joined(separator: "|"))
        }

        /// The chains the pod is sent to, without its addresses: pods alike in this and in their set
        /// memberships get the same verdicts.
        func chainKey(_ name: String, _ direction: Direction) -> Int {
            guard let pod = pods[name] else { return interner.id("absent") }
            var parts: [String] = []
            for address in pod.podIPs {
                let map = Self.mapName(direction, address.family)
                let chain = dispatch[map]?[address]
                parts.append(address.family.rawValue + "=" + (chain.map { String(chainIDs[$0] ?? -1) + ":" + $0 } ?? "open"))
            }
            return interner.id(parts.joined(separator: "|"))
        }

        /// The sets the policy chains the pod is sent to (for the direction) read.
        func setsRead(_ name: String, _ direction: Direction) -> Set<String> {
            guard let pod = pods[name] else { return [] }
            var sets = Set<String>()
            for address in pod.podIPs {
                if let chain = dispatch[Self.mapName(direction, address.family)]?[address] { sets.formUnion(chainSets[chain] ?? []) }
            }
            return sets
        }

        /// Which of `sets` (interned names; with the sets every pair of pods passes) hold the pod's
        /// addresses, and its address families: a peer's behaviour towards chains that read only `sets`.
        func membership(_ name: String, among sets: Set<Int>) -> [Int] {
            guard let pod = pods[name] else { return [-1] }
            var key = (memberIDs[name] ?? []).filter { sets.contains($0) || globalIDs.contains($0) }
            key.append(-2 - pod.podIPs.reduce(0) { $0 * 3 + ($1.family == .v4 ? 1 : 2) })
            return key
        }

        /// Interned set names, comparable between the versions.
        func ids(_ sets: Set<String>) -> Set<Int> { Set(sets.map(interner.id)) }

        /// Which sets hold the pod's addresses (its behaviour as a peer), as an id.
        func membership(_ name: String) -> Int {
            guard let pod = pods[name] else { return interner.id("absent") }
            return interner.id("\(memberships[name] ?? -1)/\(pod.podIPs.map(\.family.rawValue))")
        }

        func allows(_ source: String, _ destination: String, _ port: UInt16, _ transport: L4Protocol) throws -> Bool {
            guard let from = pods[source], let to = pods[destination] else { return false }
            return try Review.allowed(tracer, from: from, to: to, port: port, transport: transport)
        }
    }
}
