import KubeManifest
import KubeNFTCompiler
import NFTTrace

/// Finds NetworkPolicies that are shadowed: compiled without the policy, the ruleset gives every
/// connection of the pods it selects the same verdict as with it, while the policy allows something.
///
/// "Shadowed" is judged with every tier in place. An AdminNetworkPolicy above that decides (Allow or
/// Deny) every connection a NetworkPolicy allows therefore shadows it; a Pass hands the connection
/// down and does not. A policy that allows nothing (a default deny) only isolates, and is never
/// reported, even when other policies isolate the same pods. Admin and baseline policies are not
/// checked themselves.
///
/// The check is exact over what can differ: every reviewed pod, the node, each outside address
/// class, and one port per interval of the port space that no policy port (number, range end,
/// named port as the pods define it) cuts, for TCP, UDP and SCTP. A candidate must have its pods
/// selected, in each direction it governs, by another NetworkPolicy or an admin policy; without
/// that, removing it would leave a pod unisolated. The work grows with candidates × pods × ports,
/// so above a `Budget` the check is skipped with a warning saying so.
struct ShadowCheck {
    /// The most work the check does: traces (both versions counted) and cluster objects compiled,
    /// summed over the candidates.
    struct Budget: Sendable {
        var traces = 200_000
        var compiledObjects = 100_000
    }

    let result: PipelineResult
    let index: LintIndex
    let pods: [Pod]
    let budget: Budget

    init(_ result: PipelineResult, index: LintIndex, budget: Budget = Budget()) {
        self.result = result
        self.budget = budget
        self.index = index
        pods = Review.reviewedPods(result.cluster)
    }

    /// The peers outside the pods and the probe ports, found once there is something to check.
    struct Probes {
        var classes: [AddressClass]
        var ports: [(UInt16, L4Protocol)]
    }

    /// A policy that may be shadowed: its reviewed pods, and the other policies selecting them.
    struct Candidate {
        var policy: NetworkPolicy
        var selected: [Pod]
        var others: [String]
    }

    func diagnostics() -> [Diagnostic] {
        let candidates = self.candidates()
        guard !candidates.isEmpty else { return [] }
        let cluster = result.cluster
        let objects = cluster.pods.count + cluster.services.count + cluster.endpointSlices.count + cluster.networkPolicies.count
        let compiles = candidates.count * objects
        let probes = compiles > budget.compiledObjects ? Probes(classes: [], ports: []) : Probes(classes: AddressClasses.classes([result]), ports: Self.ports(cluster))
        let peers = pods.count + probes.classes.count + 1
        let traces = candidates.reduce(0) { total, candidate in
            total + 2 * candidate.selected.count * candidate.policy.effectivePolicyTypes.count * peers * max(probes.ports.count, 1)
        }
        if traces > budget.traces || compiles > budget.compiledObjects {
            return [Diagnostic(.warning, at: SourceLocation(file: "<command line>", line: 1, column: 1), object: nil, field: "lint",
                               reason: "shadowed-policy check skipped: \(candidates.count) candidate policies over \(pods.count) pods would take "
                                   + "\(traces) traces (limit \(budget.traces)) and compile \(compiles) objects (limit \(budget.compiledObjects))")]
        }
        var problems: [Diagnostic] = []
        let whole: Tracer
        do {
            whole = try tracer(result.cluster)
        } catch {
            return [Diagnostic(.warning, at: candidates[0].policy.meta.location, object: nil, field: "spec",
                               reason: "shadowed-policy check failed: \(error)")]
        }
        for candidate in candidates {
            let object = "NetworkPolicy \(candidate.policy.meta.qualifiedName)"
            do {
                guard try isShadowed(candidate, whole: whole, probes: probes) else { continue }
                let count = candidate.selected.count
                problems.append(Diagnostic(.warning, at: candidate.policy.meta.location, object: object, field: "spec",
                                           reason: "shadowed by \(candidate.others.joined(separator: ", ")): removing it changes no connection "
                                               + "of the \(count) \(count == 1 ? "pod" : "pods") it selects"))
            } catch {
                problems.append(Diagnostic(.warning, at: candidate.policy.meta.location, object: object, field: "spec",
                                           reason: "shadowed-policy check failed: \(error)"))
            }
        }
        return problems
    }

    /// Policies that allow something and whose pods other policies also select, in each direction.
    /// Each pod is matched against the policies of its namespace once.
    func candidates() -> [Candidate] {
        let policies = result.cluster.networkPolicies
        let types = policies.map(\.effectivePolicyTypes)
        let byNamespace = Dictionary(grouping: policies.indices, by: { policies[$0].meta.namespace })
        var selectedBy = Array(repeating: [Int](), count: policies.count)
        var selecting: [[Int]] = []
        for (number, pod) in pods.enumerated() {
            let matching = (byNamespace[pod.meta.namespace] ?? []).filter { policies[$0].podSelector.matches(pod.meta.labels) }
            for policy in matching { selectedBy[policy].append(number) }
            selecting.append(matching)
        }
        var candidates: [Candidate] = []
        for (number, policy) in policies.enumerated() where !selectedBy[number].isEmpty {
            let allowsSomething = (types[number].contains(.ingress) && !(policy.ingress ?? []).isEmpty)
                || (types[number].contains(.egress) && !(policy.egress ?? []).isEmpty)
            guard allowsSomething else { continue }
            // A peer that selects no pod of the input may select pods outside it (a namespace the
            // repository does not declare): what the policy allows there cannot be traced.
            guard Review.reachesOutside(policy, index) == nil else { continue }
            var others = Set<String>(), covered = true
            for pod in selectedBy[number] where covered {
                let admins = result.cluster.adminPolicies.filter { index.selects($0.subject, pods[pod]) }
                others.formUnion(admins.map(\.label))
                for type in types[number] {
                    let alike = selecting[pod].filter { $0 != number && types[$0].contains(type) }
                    others.formUnion(alike.map { "NetworkPolicy \(policies[$0].meta.qualifiedName)" })
                    if alike.isEmpty && admins.isEmpty { covered = false }
                }
            }
            if covered { candidates.append(Candidate(policy: policy, selected: selectedBy[number].map { pods[$0] }, others: others.sorted())) }
        }
        return candidates
    }

    /// The cluster's rules as a node that enforces every pod's policies: a policy that only pods on
    /// other nodes need still matters.
    func tracer(_ cluster: Cluster) throws -> Tracer {
        var context = result.context
        context.nodeName = nil
        if result.context.nodeName == nil, cluster.networkPolicies.count == result.cluster.networkPolicies.count {
            return try Review.tracer(for: result, recordsSteps: false)
        }
        let compiled = KubeNFTCompiler.compile(cluster, context: context)
        guard !compiled.hasErrors else { throw TraceQueryError(description: "the cluster does not compile for every node") }
        return try Review.tracer(for: PipelineResult(ruleset: compiled.ruleset, cluster: cluster, context: context, diagnostics: []),
                                 recordsSteps: false)
    }

    /// Compiles the cluster without the policy and compares the verdict of every connection of its
    /// pods, in the directions it governs, on every probe port, with `whole` (the cluster's rules).
    func isShadowed(_ candidate: Candidate, whole: Tracer, probes: Probes) throws -> Bool {
        var cluster = result.cluster
        cluster.networkPolicies.removeAll { $0.meta == candidate.policy.meta }
        let reduced = try tracer(cluster)
        let types = candidate.policy.effectivePolicyTypes
        for pod in candidate.selected {
            for packet in packets(for: pod, probes, ingress: types.contains(.ingress), egress: types.contains(.egress)) {
                let before = try whole.trace(packet.packet, origin: packet.origin).acceptProbability > 0.999_999
                let after = try reduced.trace(packet.packet, origin: packet.origin).acceptProbability > 0.999_999
                if before != after { return false }
            }
        }
        return true
    }

    /// The first packets of every connection into (ingress) or out of (egress) the pod.
    func packets(for pod: Pod, _ probes: Probes, ingress: Bool, egress: Bool) -> [(packet: TracePacket, origin: TraceOrigin)] {
        var packets: [(packet: TracePacket, origin: TraceOrigin)] = []
        for (port, transport) in probes.ports {
            for peer in pods where peer.reviewName != pod.reviewName {
                if ingress, let packet = Review.packet(from: peer, to: pod, port: port, transport: transport) { packets.append((packet, .network)) }
                if egress, let packet = Review.packet(from: pod, to: peer, port: port, transport: transport) { packets.append((packet, .network)) }
            }
            for address in pod.podIPs {
                for peer in probes.classes where peer.representative.family == address.family {
                    if ingress { packets.append((packet(peer.representative, address, port, transport), .network)) }
                    if egress { packets.append((packet(address, peer.representative, port, transport), .network)) }
                }
                // Node to pod never passes a policy chain; pod to node passes the admin egress rules.
                if egress, let node = result.context.nodeIPs.first(where: { $0.family == address.family }) {
                    packets.append((packet(address, node, port, transport), .network))
                }
            }
        }
        return packets
    }

    private func packet(_ source: IPAddress, _ destination: IPAddress, _ port: UInt16, _ transport: L4Protocol) -> TracePacket {
        TracePacket(source: source, destination: destination, transport: transport.nftName, destinationPort: port)
    }

    /// One port per protocol and interval of the port space that every policy port treats alike
    /// (`PortCuts`), for TCP, UDP and SCTP.
    static func ports(_ cluster: Cluster) -> [(UInt16, L4Protocol)] {
        PortCuts.everyPolicy([cluster]).representatives([.tcp, .udp, .sctp])
    }
}

extension LintIndex {
    /// True when the admin policy subject selects the pod.
    func selects(_ set: AdminNetworkPolicy.PodSet, _ pod: Pod) -> Bool {
        let labels = namespaceLabels[pod.meta.namespace] ?? [:]
        switch set {
        case .namespaces(let selector): return selector.matches(labels)
        case .pods(let namespaces, let podSelector): return namespaces.matches(labels) && podSelector.matches(pod.meta.labels)
        }
    }
}
