import KubeManifest

/// One port `diff` probes, and the class of ports it stands for when it is not a declared port.
struct ProbePort: Sendable, Hashable {
    var port: UInt16
    var transport: L4Protocol
    /// The ports (of `transport`) that share this port's verdict; nil for a declared container port.
    var range: ClosedRange<UInt16>?
}

/// The ports `diff` probes towards each destination: its declared container ports (TCP 80 when it
/// declares none), and, for each of their protocols and each protocol a policy port of the pair
/// names, the first port of every class that the policy ports of either version cut and no declared
/// port falls in. Containers listen on ports (and protocols) they do not declare, so a rule opening
/// one must show up.
///
/// A pod-to-pod verdict reads only the source's egress rules, the destination's ingress rules and
/// the admin tiers, so the cuts of one pair are: the ingress ports of the NetworkPolicies selecting
/// the destination, the egress ports of those selecting the source (either version each), and every
/// admin and baseline admin port.
final class DiffPorts {
    private var ingress: [String: PortCuts] = [:]
    private var egress: [String: PortCuts] = [:]
    private var admin = PortCuts()
    private var declared: [String: [ProbePort]] = [:]
    private var cache: [String: [ProbePort]] = [:]

    init(_ results: [PipelineResult]) {
        let names = PortNames(results.flatMap(\.cluster.pods))
        var versions: [String: [Pod]] = [:]
        for result in results {
            let cluster = result.cluster
            admin.add(PortCuts.adminPorts(cluster), names: names)
            let byNamespace = Dictionary(grouping: cluster.networkPolicies, by: \.meta.namespace)
            for pod in Review.reviewedPods(cluster) {
                let name = pod.reviewName
                versions[name, default: []].append(pod)
                for policy in byNamespace[pod.meta.namespace] ?? [] where policy.podSelector.matches(pod.meta.labels) {
                    let types = policy.effectivePolicyTypes
                    if types.contains(.ingress) { ingress[name, default: PortCuts()].add((policy.ingress ?? []).flatMap { $0.ports ?? [] }, names: names) }
                    if types.contains(.egress) { egress[name, default: PortCuts()].add((policy.egress ?? []).flatMap { $0.ports ?? [] }, names: names) }
                }
            }
        }
        declared = versions.mapValues { ConnectivityDiffer.ports(of: $0).map { ProbePort(port: $0.0, transport: $0.1) } }
    }

    /// What makes the destination's probes differ from another's with the same source.
    func destinationKey(_ destination: String) -> String {
        "\(ports(declared[destination] ?? []))|\(Self.text(ingress[destination]))"
    }

    /// What makes the source's probes differ from another's towards the same destination.
    func sourceKey(_ source: String) -> String { Self.text(egress[source]) }

    /// The ports to probe from `source` to `destination`, in protocol and port order.
    func ports(from source: String, to destination: String) -> [ProbePort] {
        let key = "\(destinationKey(destination))|\(Self.text(egress[source]))"
        if let known = cache[key] { return known }
        var cuts = admin
        if let own = ingress[destination] { cuts.formUnion(own) }
        if let own = egress[source] { cuts.formUnion(own) }
        let probes = Self.probes(declared: declared[destination] ?? [ProbePort(port: 80, transport: .tcp)], cuts: cuts)
        cache[key] = probes
        return probes
    }

    /// The ports into the destination from a peer whose egress no NetworkPolicy governs (the node,
    /// the outside address classes).
    func inbound(to destination: String) -> [ProbePort] {
        var cuts = admin
        if let own = ingress[destination] { cuts.formUnion(own) }
        return Self.probes(declared: declared[destination] ?? [ProbePort(port: 80, transport: .tcp)], cuts: cuts)
    }

    /// The declared ports, and the first port of each class that none falls in, for their protocols
    /// and those the policy ports name.
    static func probes(declared: [ProbePort], cuts: PortCuts) -> [ProbePort] {
        var probes = declared
        let named = cuts.protocols
        for transport in [L4Protocol.tcp, .udp, .sctp] where named.contains(transport) || declared.contains(where: { $0.transport == transport }) {
            for range in cuts.classes(transport) where !declared.contains(where: { $0.transport == transport && range.contains($0.port) }) {
                probes.append(ProbePort(port: range.lowerBound, transport: transport, range: range))
            }
        }
        return probes.sorted { ($0.transport, $0.port) < ($1.transport, $1.port) }
    }

    private func ports(_ list: [ProbePort]) -> String { list.map { "\($0.transport.rawValue)/\($0.port)" }.sorted().joined(separator: ",") }

    private static func text(_ cuts: PortCuts?) -> String {
        guard let cuts else { return "" }
        return cuts.protocols.map { transport in
            transport.rawValue + ":" + (cuts.starts[transport] ?? []).sorted().map(String.init).joined(separator: ",")
        }.joined(separator: ";")
    }
}
