import KubeManifest
import NFTRuleset

/// How Services pick a backend. The kernel paths (nft text, netlink) use shared maps; forms that
/// cannot express them (nft 1.0.6's JSON, iptables) use the per-service cascade of rules.
public enum ServiceShape: Sendable, Hashable {
    /// Equal-share services choose through `numgen`-keyed data maps, one set of maps per backend
    /// count read by one shared chain: an endpoint change is a change of map elements only.
    case maps
    /// One rule per backend in a chain per service port (docs/design.md, "Ruleset shape").
    case cascade
}

/// Names and shared objects of the map shape. The chain `lb4-N` (one per backend count, family and
/// locality) draws `numgen random mod N` and translates through maps of its own:
/// - `lb4-N-addresses` holds bucket i of each service address (ClusterIP, externalIP,
///   load-balancer address) as `address . i : backend address`, and `lb4-N-ports` the target port
///   of each `address . protocol . port`: the ports of a Service share its address elements;
/// - `lb4-N-endpoints` holds `address . protocol . port . i : backend address . port` for the
///   addresses whose ports cannot share (their endpoint lists or target ports differ, or another
///   Service uses the address with other endpoints);
/// - `lb4-N-nodeports` holds `protocol . node port . i : backend address . port`.
/// A rule whose lookup finds nothing does not match, so a packet goes through the one rule whose
/// maps hold its entry. The number of rules reading a map stays small whatever the number of
/// services, and each map is read by one chain: the kernel checks a map's elements once per chain
/// that reads it, so every element is checked once.
enum BackendMaps {
    /// The maps of one shared chain.
    enum Purpose: String {
        case addresses, ports, endpoints, nodeports
    }

    /// One entry that reaches equal-share backends: `address . protocol . port`, or with
    /// `nodePort` `protocol . node port`. `finish` turns the entries into map elements.
    struct Entry {
        var family: IPFamily
        var local: Bool
        var nodePort: Bool
        var key: [Value]
        var backends: [Backend]
    }

    static let protocols = ["tcp", "udp", "sctp"]

    /// The shared chain for `count` backends of one family and locality.
    static func chainName(_ family: IPFamily, local: Bool, count: Int) -> String {
        (local ? "local-" : "") + "lb\(Naming.familySuffix(family))-\(count)"
    }

    static func mapName(_ chain: String, _ purpose: Purpose) -> String { "\(chain)-\(purpose.rawValue)" }

    private static func declareMap(_ key: ChainKey, _ purpose: Purpose, into assembly: inout Assembly) {
        let family = key.family
        let address = family.destination
        let bucket = Expression.randomNumber(modulus: 1, offset: 0)
        let what = key.local ? "node-local endpoints" : "endpoints"
        let typeof: NamedSet.Typeof
        let types: [DataType]
        let mapping: NamedSet.Mapping
        let comment: String
        switch purpose {
        case .addresses:
            typeof = .init(key: [address, bucket], data: [address])
            (types, mapping) = ([family.addressType, .integer], .data(family.addressType))
            comment = "\(what) by service address and bucket"
        case .ports:
            typeof = .init(key: [address, .meta(.l4proto), .payload(.thDport)], data: [.payload(.thDport)])
            (types, mapping) = ([family.addressType, .inetProto, .inetService], .data(.inetService))
            comment = "target port by service address, protocol and port"
        case .endpoints:
            typeof = .init(key: [address, .meta(.l4proto), .payload(.thDport), bucket], data: [address, .payload(.thDport)])
            (types, mapping) = ([family.addressType, .inetProto, .inetService, .integer], .concatenatedData([family.addressType, .inetService]))
            comment = "\(what) by service port and bucket, for addresses whose ports differ"
        case .nodeports:
            typeof = .init(key: [.meta(.l4proto), .payload(.thDport), bucket], data: [address, .payload(.thDport)])
            (types, mapping) = ([.inetProto, .inetService, .integer], .concatenatedData([family.addressType, .inetService]))
            comment = "\(what) by node port and bucket"
        }
        let name = mapName(chainName(family, local: key.local, count: key.count), purpose)
        assembly.declare(NamedSet(name: name, key: types, mapping: mapping, comment: comment, typeof: typeof))
        assembly.trailingSets.append(name)
    }

    /// One shared chain: its backend count and which maps it reads.
    struct ChainKey: Hashable, Comparable {
        var count: Int
        var family: IPFamily
        var local: Bool
        var nodePorts = false
        var unshared = false

        /// By count first, so that a chain for a count above every other comes last.
        static func < (lhs: ChainKey, rhs: ChainKey) -> Bool {
            (lhs.count, lhs.family == .v4 ? 0 : 1, lhs.local ? 1 : 0) < (rhs.count, rhs.family == .v4 ? 0 : 1, rhs.local ? 1 : 0)
        }
    }

    /// Counts up to this always get their chain, used or not, in every kind of chain in use.
    static let preparedCounts = 32

    /// Records the entries of one set of backends, and the shared chain they use; `finish` adds
    /// the elements and the chain.
    static func use(entries: [[Value]], nodePort: [Value]?, backends: [WeightedBackend], family: IPFamily, local: Bool,
                    into assembly: inout Assembly) -> String {
        let plain = backends.map(\.backend)
        for key in entries {
            assembly.backendEntries.append(Entry(family: family, local: local, nodePort: false, key: key, backends: plain))
        }
        if let nodePort {
            assembly.backendEntries.append(Entry(family: family, local: local, nodePort: true, key: nodePort, backends: plain))
        }
        assembly.backendChains.insert(ChainKey(count: backends.count, family: family, local: local))
        return chainName(family, local: local, count: backends.count)
    }

    /// Adds the elements and the shared chains after every other chain, ordered by count. Each
    /// kind in use gets the chains for every count from 1 to its largest (up to `preparedCounts`),
    /// so that an endpoint change that lowers a service's count finds its chain already there,
    /// and one that raises it past the largest adds a chain at the end: either way the kernel's
    /// chain order stays the order of a fresh load, and the change stays incremental. A chain
    /// reads the node-port and unshared maps only when its family and locality has such entries.
    static func finish(into assembly: inout Assembly) {
        let entries = assembly.backendEntries
        assembly.backendEntries = []
        let unshared = unsharedAddresses(entries)
        var kinds: [KindKey: ChainKey] = [:]
        var used: [KindKey: Set<Int>] = [:]
        for chain in assembly.backendChains {
            let kind = KindKey(family: chain.family, local: chain.local)
            var largest = kinds[kind] ?? chain
            largest.count = max(largest.count, chain.count)
            kinds[kind] = largest
            used[kind, default: []].insert(chain.count)
        }
        for entry in entries {
            let kind = KindKey(family: entry.family, local: entry.local)
            if entry.nodePort {
                kinds[kind]?.nodePorts = true
            } else if unshared.contains(AddressKey(entry)) {
                kinds[kind]?.unshared = true
            }
        }
        var chains: [ChainKey] = []
        for (kind, largest) in kinds {
            var counts = used[kind] ?? []
            if largest.count > 1 { counts.formUnion(1...min(largest.count, preparedCounts)) }
            for count in counts {
                var key = largest
                key.count = count
                chains.append(key)
            }
        }
        for key in chains.sorted() { addChain(key, into: &assembly) }
        var written: Set<AddressKey> = []
        for entry in entries { addElements(entry, unshared: unshared, written: &written, into: &assembly) }
    }

    /// A family and locality of shared chains.
    private struct KindKey: Hashable {
        var family: IPFamily
        var local: Bool
    }

    /// A service address of one family and locality: the unit whose ports share address elements.
    private struct AddressKey: Hashable {
        var family: IPFamily
        var local: Bool
        var address: Value

        init(_ entry: Entry) {
            family = entry.family
            local = entry.local
            address = entry.key[0]
        }
    }

    /// Addresses whose entries cannot share `address . bucket` elements: their entries differ in
    /// their backends' addresses (or order), or one entry's backends differ in target port.
    private static func unsharedAddresses(_ entries: [Entry]) -> Set<AddressKey> {
        var first: [AddressKey: [IPAddress]] = [:]
        var unshared: Set<AddressKey> = []
        for entry in entries where !entry.nodePort {
            let key = AddressKey(entry)
            let addresses = entry.backends.map(\.address)
            let onePort = entry.backends.allSatisfy { $0.port == entry.backends.first?.port }
            if let seen = first[key] {
                if seen != addresses || !onePort { unshared.insert(key) }
            } else {
                first[key] = addresses
                if !onePort { unshared.insert(key) }
            }
        }
        return unshared
    }

    /// The entry's elements; `written` holds the addresses whose buckets are already in place.
    private static func addElements(_ entry: Entry, unshared: Set<AddressKey>, written: inout Set<AddressKey>,
                                    into assembly: inout Assembly) {
        let chain = chainName(entry.family, local: entry.local, count: entry.backends.count)
        let combined = entry.nodePort || unshared.contains(AddressKey(entry))
        if combined {
            let name = mapName(chain, entry.nodePort ? .nodeports : .endpoints)
            for (bucket, backend) in entry.backends.enumerated() {
                assembly.add(SetElement(key: entry.key + [.integer(UInt64(bucket))],
                                        data: .values([.address(backend.address), .port(backend.port)])), to: name)
            }
            return
        }
        guard let port = entry.backends.first?.port else { return }
        assembly.add(SetElement(key: entry.key, data: .values([.port(port)])), to: mapName(chain, .ports))
        // The address's buckets, once for all its entries.
        guard written.insert(AddressKey(entry)).inserted else { return }
        for (bucket, backend) in entry.backends.enumerated() {
            assembly.add(SetElement(key: [entry.key[0], .integer(UInt64(bucket))], data: .values([.address(backend.address)])),
                         to: mapName(chain, .addresses))
        }
    }

    /// Declares the maps the chain reads and adds the chain.
    private static func addChain(_ key: ChainKey, into assembly: inout Assembly) {
        let name = chainName(key.family, local: key.local, count: key.count)
        guard !assembly.hasChain(name) else { return }
        let family = key.family
        let bucket = Expression.randomNumber(modulus: key.count, offset: 0)
        let entry: [Expression] = [family.destination, .meta(.l4proto), .payload(.thDport)]
        var targets: [(Purpose, DNATTarget)] = [
            (.addresses, .lookups(address: .mapLookup(key: .concat([family.destination, bucket]), map: mapName(name, .addresses)),
                                  port: .mapLookup(key: .concat(entry), map: mapName(name, .ports)))),
        ]
        if key.unshared {
            targets.append((.endpoints, .lookup(.mapLookup(key: .concat(entry + [bucket]), map: mapName(name, .endpoints)))))
        }
        if key.nodePorts {
            let nodePort: [Expression] = [.meta(.l4proto), .payload(.thDport), bucket]
            targets.append((.nodeports, .lookup(.mapLookup(key: .concat(nodePort), map: mapName(name, .nodeports)))))
        }
        var rules: [Rule] = []
        for (purpose, target) in targets {
            declareMap(key, purpose, into: &assembly)
            if purpose == .addresses { declareMap(key, .ports, into: &assembly) }
            for proto in protocols {
                rules.append(Rule([.matches(.meta(.l4proto), .value(.proto(proto))), .dnat(family, target)]))
            }
        }
        let what = key.local ? "node-local endpoint" : "endpoint"
        assembly.add(Chain(name: name, comment: "services with \(key.count) equal-share \(what)\(key.count == 1 ? "" : "s")", rules: rules))
    }

    /// True when every backend has the same share, so that one bucket each splits traffic exactly.
    static func equalShares(_ shares: [WeightedBackend]) -> Bool {
        guard let first = shares.first?.fraction else { return true }
        return shares.allSatisfy { share in
            share.fraction == first
        }
    }
}
