import KubeManifest
import NFTRuleset

/// How Services pick a backend. The kernel paths (nft text, netlink) use shared maps; forms that
/// cannot express them (nft 1.0.6's JSON, iptables) use the per-service cascade of rules.
public enum ServiceShape: Sendable, Hashable {
    /// Equal-share services choose through one `numgen`-keyed data map per family and purpose, read
    /// by a few shared chains: an endpoint change is a change of map elements only.
    case maps
    /// One rule per backend in a chain per service port (docs/design.md, "Ruleset shape").
    case cascade
}

/// Names and shared objects of the map shape. A service port with N equal backends owns N keys
/// `entry . 0` … `entry . N-1` in a data map giving `address . port`; the entry is the address,
/// protocol and port the packet was sent to (ClusterIP, externalIP, load-balancer address) or, in the
/// node-port maps, the protocol and node port. The chain `lb4-N` (one per backend count) draws
/// `numgen random mod N` and translates through the map, so the number of rules reading a map
/// stays small whatever the number of services: the kernel checks a map's elements once per chain
/// that reads it, not per service.
enum BackendMaps {
    /// Which endpoints a map holds, and whether its entries are node ports.
    struct Purpose: Hashable {
        var local: Bool
        var nodePort: Bool
    }

    static let protocols = ["tcp", "udp", "sctp"]

    static func mapName(_ family: IPFamily, _ purpose: Purpose) -> String {
        (purpose.nodePort ? "nodeport-" : "") + (purpose.local ? "local-" : "") + "backends-v\(Naming.familySuffix(family))"
    }

    /// The shared chain for `count` backends of one family and locality.
    static func chainName(_ family: IPFamily, local: Bool, count: Int) -> String {
        (local ? "local-" : "") + "lb\(Naming.familySuffix(family))-\(count)"
    }

    static func declareMap(_ family: IPFamily, _ purpose: Purpose, into assembly: inout Assembly) {
        let entry: [Expression] = purpose.nodePort ? [.meta(.l4proto), .payload(.thDport)]
            : [family.destination, .meta(.l4proto), .payload(.thDport)]
        let entryTypes: [DataType] = purpose.nodePort ? [.inetProto, .inetService] : [family.addressType, .inetProto, .inetService]
        let what = purpose.local ? "node-local endpoints" : "endpoints"
        let via = purpose.nodePort ? "node port" : "service address"
        assembly.declare(NamedSet(name: mapName(family, purpose), key: entryTypes + [.integer],
                                  mapping: .concatenatedData([family.addressType, .inetService]),
                                  comment: "\(what) of equal-share services by \(via) and bucket",
                                  typeof: NamedSet.Typeof(key: entry + [.randomNumber(modulus: 1, offset: 0)],
                                                          data: [family.destination, .payload(.thDport)])))
    }

    /// One shared chain: its backend count and which maps it reads.
    struct ChainKey: Hashable, Comparable {
        var count: Int
        var family: IPFamily
        var local: Bool
        var nodePorts: Bool

        /// By count first, so that a chain for a count above every other comes last.
        static func < (lhs: ChainKey, rhs: ChainKey) -> Bool {
            (lhs.count, lhs.family == .v4 ? 0 : 1, lhs.local ? 1 : 0, lhs.nodePorts ? 1 : 0)
                < (rhs.count, rhs.family == .v4 ? 0 : 1, rhs.local ? 1 : 0, rhs.nodePorts ? 1 : 0)
        }
    }

    /// Counts up to this always get their chain, used or not, in every kind of chain in use.
    static let preparedCounts = 32

    /// Records the shared chain a service uses; `finish` adds it.
    static func useChain(_ family: IPFamily, local: Bool, count: Int, nodePorts: Bool, into assembly: inout Assembly) -> String {
        assembly.backendChains.insert(ChainKey(count: count, family: family, local: local, nodePorts: nodePorts))
        return chainName(family, local: local, count: count)
    }

    /// Adds the shared chains after every other chain, ordered by count. Each kind in use gets the
    /// chains for every count from 1 to its largest (up to `preparedCounts`), so that an endpoint
    /// change that lowers a service's count finds its chain already there, and one that raises it
    /// past the largest adds a chain at the end: either way the kernel's chain order stays the
    /// order of a fresh load, and the change stays incremental.
    /// A family and locality whose services include node ports reads the node-port map in each of
    /// its chains, after the address map (a packet sent to a service address finds its entry in
    /// the first, one sent to a node port only in the second): one chain per count serves both, so
    /// the kernel checks the address map's elements once per count, not twice.
    static func finish(into assembly: inout Assembly) {
        let withNodePorts = Set(assembly.backendChains.filter(\.nodePorts).map { KindKey(family: $0.family, local: $0.local) })
        var chains = Set(assembly.backendChains.map { key in
            var chain = key
            chain.nodePorts = withNodePorts.contains(KindKey(family: key.family, local: key.local))
            return chain
        })
        var largest: [ChainKey: Int] = [:]
        for key in chains {
            var kind = key
            kind.count = 0
            largest[kind] = max(largest[kind] ?? 0, key.count)
        }
        for (kind, top) in largest where top > 1 {
            for count in 1...min(top, preparedCounts) {
                var key = kind
                key.count = count
                chains.insert(key)
            }
        }
        for key in chains.sorted() {
            addChain(key.family, local: key.local, count: key.count, nodePorts: key.nodePorts, into: &assembly)
        }
    }

    /// A family and locality of shared chains.
    private struct KindKey: Hashable {
        var family: IPFamily
        var local: Bool
    }

    /// Declares the maps the chain reads and adds the chain.
    private static func addChain(_ family: IPFamily, local: Bool, count: Int, nodePorts: Bool, into assembly: inout Assembly) {
        let name = chainName(family, local: local, count: count)
        guard !assembly.hasChain(name) else { return }
        var purposes = [Purpose(local: local, nodePort: false)]
        if nodePorts { purposes.append(Purpose(local: local, nodePort: true)) }
        var rules: [Rule] = []
        for purpose in purposes {
            declareMap(family, purpose, into: &assembly)
            let entry: [Expression] = purpose.nodePort ? [.meta(.l4proto), .payload(.thDport)]
                : [family.destination, .meta(.l4proto), .payload(.thDport)]
            let key = Expression.concat(entry + [.randomNumber(modulus: count, offset: 0)])
            for proto in protocols {
                rules.append(Rule([.matches(.meta(.l4proto), .value(.proto(proto))),
                                   .dnat(family, .lookup(.mapLookup(key: key, map: mapName(family, purpose))))]))
            }
        }
        let what = local ? "node-local endpoint" : "endpoint"
        assembly.add(Chain(name: name, comment: "services with \(count) equal-share \(what)\(count == 1 ? "" : "s")", rules: rules))
    }

    /// The `count` elements of one entry: bucket i goes to backend i.
    static func add(entry: [Value], backends: [WeightedBackend], family: IPFamily, purpose: Purpose, into assembly: inout Assembly) {
        declareMap(family, purpose, into: &assembly)
        let name = mapName(family, purpose)
        for (bucket, weighted) in backends.enumerated() {
            assembly.add(SetElement(key: entry + [.integer(UInt64(bucket))],
                                    data: .values([.address(weighted.backend.address), .port(weighted.backend.port)])), to: name)
        }
    }

    /// True when every backend has the same share, so that one bucket each splits traffic exactly.
    static func equalShares(_ shares: [WeightedBackend]) -> Bool {
        guard let first = shares.first?.fraction else { return true }
        return shares.allSatisfy { share in
            share.fraction == first
        }
    }
}
