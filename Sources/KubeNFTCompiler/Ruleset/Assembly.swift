import KubeManifest
import NFTRuleset

/// Collects the pieces of the table while compilers add to it, then lays them out in a fixed order:
/// named sets sorted by name with sorted elements (the shared backend chains' maps last, in the
/// order of their chains), the skeleton chains first, then object chains in the order they were
/// added (which follows the sorted model).
struct Assembly {
    private(set) var sets: [String: NamedSet] = [:]
    private(set) var chains: [Chain] = []
    /// Named counter objects (`--counters`), by name.
    private(set) var counters: [String: CounterObject] = [:]
    private var chainNames: Set<String> = []
    var notes: [String] = []
    var diagnostics: [Diagnostic] = []
    /// Shared backend chains the services use; added last by `BackendMaps.finish`.
    var backendChains: Set<BackendMaps.ChainKey> = []
    /// What reaches the shared chains' backends; made into map elements by `BackendMaps.finish`.
    var backendEntries: [BackendMaps.Entry] = []
    /// Sets laid out after all others, in this order: the maps of the shared backend chains, so
    /// that a chain added for a new count adds its maps at the end too, as the kernel lists them.
    var trailingSets: [String] = []

    mutating func declare(_ set: NamedSet) {
        if sets[set.name] == nil { sets[set.name] = set }
    }

    /// Adds an element to a declared set. A set that was never declared is a compiler bug; it is
    /// reported as an error (so nothing is emitted or applied) rather than dropping the element,
    /// which could leave out an allow or a drop without a trace.
    mutating func add(_ element: SetElement, to name: String) {
        // One lookup, and the element appended in place.
        guard let position = sets.index(forKey: name) else {
            let what = element.comment.map { " (\($0))" } ?? ""
            diagnostics.append(Diagnostic(at: SourceLocation(file: "<compiler>", line: 0, column: 0), object: nil, field: "",
                                          reason: "internal error: an element\(what) was added to set \(name), which was never declared"))
            return
        }
        sets.values[position].elements.append(element)
    }

    mutating func add(_ counter: CounterObject) {
        if counters[counter.name] == nil { counters[counter.name] = counter }
    }

    func hasChain(_ name: String) -> Bool { chainNames.contains(name) }

    mutating func add(_ chain: Chain) {
        guard chainNames.insert(chain.name).inserted else { return }
        chains.append(chain)
    }

    /// The same set declarations without elements, chains or notes: a place for one worker to
    /// compile part of the objects into.
    func emptyCopy() -> Assembly {
        var copy = Assembly()
        copy.sets = sets.mapValues { set in
            var empty = set
            empty.elements = []
            return empty
        }
        return copy
    }

    /// Appends what a worker compiled, in order: elements to their sets, chains, notes, diagnostics.
    mutating func merge(_ part: Assembly) {
        for (name, set) in part.sets {
            if sets[name] == nil {
                sets[name] = set
            } else {
                sets[name]?.elements += set.elements
            }
        }
        for chain in part.chains { add(chain) }
        for counter in part.counters.values { add(counter) }
        notes += part.notes
        diagnostics += part.diagnostics
        backendChains.formUnion(part.backendChains)
        backendEntries += part.backendEntries
    }

    func ruleset(comment: String) -> Ruleset {
        let trailing = Dictionary(trailingSets.enumerated().map { ($1, $0) }, uniquingKeysWith: min)
        let orderedSets = sets.values.sorted { left, right in
            switch (trailing[left.name], trailing[right.name]) {
            case (nil, nil): return left.name < right.name
            case (nil, _?): return true
            case (_?, nil): return false
            case (let l?, let r?): return l < r
            }
        }.map { set -> NamedSet in
            var sorted = set
            // The one place every compiled set passes: interval sets leave it without overlaps.
            sorted.elements = Self.sortedUnique(set.withDisjointIntervals().elements)
            sorted.size = Self.declaredSize(sorted)
            return sorted
        }
        let orderedCounters = counters.values.sorted { $0.name < $1.name }
        return Ruleset(comment: comment, notes: notes, counters: orderedCounters, sets: orderedSets, chains: chains)
    }
}

extension Assembly {
    /// Sets of at least this many elements are declared with a size.
    static let sizedFrom = 4_096

    /// The size a large set is declared with: the kernel then makes the set's hash table that
    /// large at once, instead of growing it again and again while a load fills it (a full load of
    /// the 10k×10 cluster spent about a tenth of its time in `rhashtable_insert_slow`). A declared
    /// size is also the most elements the kernel accepts, and the table a rule binding the set
    /// walks bucket by bucket, so it is the first power of two with a quarter of room to spare:
    /// when a set outgrows it, its declaration changes and the table is replaced whole. Interval
    /// and dynamic sets, and sets declared with a size already, keep theirs.
    static func declaredSize(_ set: NamedSet) -> Int? {
        guard set.size == nil, set.elements.count >= sizedFrom, set.timeout == nil,
              !set.flags.contains(.interval), !set.flags.contains(.dynamic) else { return set.size }
        var size = sizedFrom
        while size < set.elements.count + set.elements.count / 4 { size <<= 1 }
        return size
    }

    /// Elements in key order, the first of equal keys kept; each sort key is computed once.
    static func sortedUnique(_ elements: [SetElement]) -> [SetElement] {
        guard let order = ElementSortKeys(elements).sortedUniqueOrder() else { return elements }
        return order.map { elements[$0] }
    }
}

/// Names of the table-wide sets, maps and chains.
enum Names {
    static func serviceIPs(_ family: IPFamily) -> String { "service-ips-v\(Naming.familySuffix(family))" }
    static func serviceNodePorts(_ family: IPFamily) -> String { "service-nodeports-v\(Naming.familySuffix(family))" }
    static func noEndpointServices(_ family: IPFamily) -> String { "no-endpoint-services-v\(Naming.familySuffix(family))" }
    static func noEndpointNodePorts(_ family: IPFamily) -> String { "no-endpoint-nodeports-v\(Naming.familySuffix(family))" }
    static func clusterIPs(_ family: IPFamily) -> String { "cluster-ips-v\(Naming.familySuffix(family))" }
    static func clusterCIDRs(_ family: IPFamily) -> String { "cluster-cidrs-v\(Naming.familySuffix(family))" }
    static func nodePortAddresses(_ family: IPFamily) -> String { "nodeport-addresses-v\(Naming.familySuffix(family))" }
    static func serviceCIDRs(_ family: IPFamily) -> String { "service-cidrs-v\(Naming.familySuffix(family))" }
    static func hairpin(_ family: IPFamily) -> String { "hairpin-v\(Naming.familySuffix(family))" }

    static func policyIngress(_ family: IPFamily) -> String { "policy-ingress-v\(Naming.familySuffix(family))" }
    static func policyEgress(_ family: IPFamily) -> String { "policy-egress-v\(Naming.familySuffix(family))" }
    static func podSelf(_ family: IPFamily) -> String { "pod-self-v\(Naming.familySuffix(family))" }

    static let services = "services"
    static let markForMasquerade = "mark-for-masquerade"
    static let serviceEndpointsCheck = "service-endpoints-check"
    static let nodePortEndpointsCheck = "nodeport-endpoints-check"
    static let clusterIPsCheck = "cluster-ips-check"
    static let rejectConnection = "reject-connection"
}

extension IPFamily {
    var addressType: DataType { self == .v4 ? .ipv4Address : .ipv6Address }
    var source: Expression { .payload(self == .v4 ? .ipSaddr : .ip6Saddr) }
    var destination: Expression { .payload(self == .v4 ? .ipDaddr : .ip6Daddr) }
    var loopback: Value {
        self == .v4 ? .prefix(CIDR("127.0.0.0/8")!) : .address(IPAddress("::1")!)
    }
}
