import KubeManifest

/// Where the ports that policies name cut the port space of each protocol. Every policy port match
/// (a number, a range, a named port as the pods define it) gives one answer for all the ports of a
/// class, so one port, the class's first, stands for the class. The shadowed-policy check and
/// `diff` probe the same representatives through this one type.
struct PortCuts: Sendable, Equatable {
    /// Per protocol, the first port of each class other than the first class (which starts at 1).
    /// A protocol is a key once any policy port names it, even with no cut (`{protocol: UDP}`).
    private(set) var starts: [L4Protocol: Set<Int>] = [:]

    /// The protocols that some policy port names.
    var protocols: [L4Protocol] { [L4Protocol.tcp, .udp, .sctp].filter { starts[$0] != nil } }

    /// Records that a policy port names the protocol, without cutting its ports.
    mutating func name(_ transport: L4Protocol) {
        if starts[transport] == nil { starts[transport] = [] }
    }

    /// Cuts before `low` and after `high`.
    mutating func cut(_ transport: L4Protocol, _ low: UInt16, _ high: UInt16) {
        starts[transport, default: []].formUnion([Int(low), Int(max(low, high)) + 1])
    }

    mutating func formUnion(_ other: PortCuts) {
        for (transport, cuts) in other.starts { starts[transport, default: []].formUnion(cuts) }
    }

    /// Cuts where the ports of NetworkPolicy rules match.
    mutating func add(_ ports: [NetworkPolicy.Port], names: PortNames) {
        for port in ports {
            switch port.port {
            case .number(let number)?: cut(port.protocol, number, max(number, port.endPort ?? number))
            case .name(let name)?: for defined in names.ports(name, port.protocol) { cut(defined.protocol, defined.port, defined.port) }
            case nil: name(port.protocol)
            }
        }
    }

    /// Cuts where the ports of admin (and baseline admin) policy rules match.
    mutating func add(_ ports: [AdminNetworkPolicy.Port], names: PortNames) {
        for port in ports {
            switch port {
            case .number(let transport, let number): cut(transport, number, number)
            case .range(let transport, let low, let high): cut(transport, low, max(low, high))
            case .named(let name): for defined in names.ports(name, nil) { cut(defined.protocol, defined.port, defined.port) }
            }
        }
    }

    /// Cuts of every port that any policy of the clusters names, in either direction.
    static func everyPolicy(_ clusters: [Cluster]) -> PortCuts {
        var cuts = PortCuts()
        let names = PortNames(clusters.flatMap(\.pods))
        for cluster in clusters {
            for policy in cluster.networkPolicies {
                cuts.add(((policy.ingress ?? []) + (policy.egress ?? [])).flatMap { $0.ports ?? [] }, names: names)
            }
            cuts.add(adminPorts(cluster), names: names)
        }
        return cuts
    }

    /// The ports of every admin and baseline admin rule of the cluster.
    static func adminPorts(_ cluster: Cluster) -> [AdminNetworkPolicy.Port] {
        cluster.adminPolicies.flatMap { ($0.ingress + $0.egress).flatMap { $0.ports ?? [] } }
    }

    /// The classes of one protocol, in order, covering 1...65535.
    func classes(_ transport: L4Protocol) -> [ClosedRange<UInt16>] {
        let firsts = (starts[transport, default: []].union([1])).filter { $0 >= 1 && $0 <= 65535 }.sorted()
        return firsts.indices.map { index in
            let last = index + 1 < firsts.count ? firsts[index + 1] - 1 : 65535
            return UInt16(firsts[index])...UInt16(last)
        }
    }

    /// One port per class (its first), for each protocol.
    func representatives(_ protocols: [L4Protocol]) -> [(UInt16, L4Protocol)] {
        protocols.flatMap { transport in classes(transport).map { ($0.lowerBound, transport) } }
    }
}

/// The container ports the pods define, by name, to resolve named policy ports.
struct PortNames: Sendable {
    private var byName: [String: [Pod.ContainerPort]] = [:]

    init(_ pods: [Pod]) {
        for pod in pods {
            for port in pod.containerPorts where !port.name.isEmpty && !(byName[port.name]?.contains(port) ?? false) {
                byName[port.name, default: []].append(port)
            }
        }
    }

    /// The ports defined under the name, of the protocol when one is given.
    func ports(_ name: String, _ transport: L4Protocol?) -> [Pod.ContainerPort] {
        (byName[name] ?? []).filter { transport == nil || $0.protocol == transport }
    }
}

extension Review {
    /// The port classes that the ports of every policy cut, per protocol that a policy names a port
    /// of, as `tcp/1-79`, `tcp/80`, `tcp/81-65535`: what `matrix` can be asked for with `--ports`.
    public static func portClasses(_ result: PipelineResult) -> [String] {
        let cuts = PortCuts.everyPolicy([result.cluster])
        return [L4Protocol.tcp, .udp, .sctp].filter { cuts.starts[$0] != nil }.flatMap { transport in
            cuts.classes(transport).map { range in
                "\(transport.nftName)/" + (range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)")
            }
        }
    }
}
