import KubeManifest
import NFTRuleset

extension PolicyCompiler {
    /// The rules of one policy in a group's chain: every allowed combination of peer and port ends
    /// in `return`, which hands the packet back to the dispatch as allowed in this direction.
    func chainRules(for policy: NetworkPolicy, group: Group, into assembly: inout Assembly) -> [Rule] {
        let direction = group.direction
        let builder = PolicyRuleBuilder(index: index, policy: policy, direction: direction, groupPorts: group.ports)
        var rules: [Rule] = []
        for (position, rule) in ((direction == .ingress ? policy.ingress : policy.egress) ?? []).enumerated() {
            let comment = "\(policy.meta.qualifiedName) \(direction.rawValue)[\(position)]"
            let peers = peerCache.peers("\(policy.meta.qualifiedName)|\(direction.rawValue)|\(position)") { builder.peers(of: rule) }
            for port in builder.ports(of: rule) {
                rules += ruleVariants(peers: peers, port: port, direction: direction, verdict: .return, comment: comment, into: &assembly)
            }
        }
        return rules
    }

    /// The rules allowing (or denying) one peer list on one port alternative, ending in `verdict`.
    func ruleVariants(peers: PeerSpec, port: PortMatch, direction: PolicyDirection, verdict: Verdict, comment: String,
                      into assembly: inout Assembly) -> [Rule] {
        if case .namedDestination(let proto, let name) = port {
            return namedPortRules(peers: peers, proto: proto, name: name, verdict: verdict, comment: comment, into: &assembly)
        }
        let portStatements = PolicyRuleBuilder.portStatements(port)
        guard case .some(let ranges, _, _) = peers else {
            return [Rule(portStatements + [.verdict(verdict)], comment: comment)]
        }
        var rules: [Rule] = []
        for family in IPFamily.allCases {
            let familyRanges = ranges.filter { $0.family == family }
            guard !familyRanges.isEmpty else { continue }
            let set = addressSet(familyRanges, family: family, into: &assembly)
            rules.append(Rule([.matches(direction.peerField(family), .setReference(set))] + portStatements + [.verdict(verdict)],
                              comment: comment))
        }
        return rules
    }

    /// Egress to a named port: the set of destination pod address, protocol and resolved port.
    private func namedPortRules(peers: PeerSpec, proto: L4Protocol, name: String, verdict: Verdict, comment: String,
                                into assembly: inout Assembly) -> [Rule] {
        let candidates: [Pod]
        switch peers {
        case .any: candidates = index.allPods
        case .some(_, let pods, let blocks):
            candidates = pods + (blocks.isEmpty ? [] : index.allPods.filter { pod in
                pod.podIPs.contains { address in blocks.contains { $0.family == address.family && $0.lower <= address.numericValue && address.numericValue <= $0.upper } }
            })
        }
        var rules: [Rule] = []
        for family in IPFamily.allCases {
            var elements: [SetElement] = []
            for pod in candidates {
                for port in pod.containerPorts where port.name == name && port.protocol == proto {
                    for address in pod.podIPs where address.family == family {
                        elements.append(SetElement(key: [.address(address), .proto(proto.nftName), .port(port.port)]))
                    }
                }
            }
            guard !elements.isEmpty else { continue }
            let set = namedSet(prefix: "np-ports\(Naming.familySuffix(family))", key: [family.addressType, .inetProto, .inetService],
                               flags: [], elements: elements, comment: "destinations of named port \(name)/\(proto.nftName)", into: &assembly)
            rules.append(Rule([.matches(.concat([family.destination, .meta(.l4proto), .payload(.thDport)]), .setReference(set)),
                               .verdict(verdict)], comment: comment))
        }
        return rules
    }

    private func addressSet(_ ranges: [AddressRange], family: IPFamily, into assembly: inout Assembly) -> String {
        if let known = peerCache.setNames[ranges] { return known }
        let name = makeAddressSet(ranges, family: family, into: &assembly)
        peerCache.setNames[ranges] = name
        return name
    }

    private func makeAddressSet(_ ranges: [AddressRange], family: IPFamily, into assembly: inout Assembly) -> String {
        var elements: [SetElement] = []
        for range in ranges {
            for cidr in range.prefixes {
                elements.append(SetElement(key: [cidr.prefixLength == cidr.address.bitWidth ? .address(cidr.address) : .prefix(cidr)]))
            }
        }
        return namedSet(prefix: "np-addrs\(Naming.familySuffix(family))", key: [family.addressType], flags: [.interval],
                        elements: elements, comment: "peer addresses, shared by every rule with these peers", into: &assembly)
    }

    /// One named set per distinct content: equal peer lists share a set, whoever uses them. Its
    /// comment describes the content, never a user: a comment naming the first rule that uses it
    /// would change when another rule comes first, and a set's declaration cannot be changed in
    /// place, so an unrelated policy edit would replace the whole table (the rules that reference
    /// the set name their policy in their own comments).
    private func namedSet(prefix: String, key: [DataType], flags: [NamedSet.Flag], elements: [SetElement], comment: String,
                          into assembly: inout Assembly) -> String {
        let sorted = elements.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let digest = Naming.hash(sorted.map { $0.key.map(NFTTextEmitter.value).joined(separator: " . ") }.joined(separator: ","))
        let name = "\(prefix)-\(digest)"
        assembly.declare(NamedSet(name: name, key: key, flags: flags, comment: comment, elements: sorted))
        return name
    }

    /// The input-hook chain and maps for connections from pods to this node's own addresses, which
    /// never pass `forward`: admin and baseline egress rules apply to them (their `nodes` and
    /// `networks` peers cover this node too).
    func declareNodeDispatch(into assembly: inout Assembly) {
        var rules: [Rule] = [
            Rule([.matches(.conntrack(.state), .anonymousSet([.symbol("established"), .symbol("related")])), .verdict(.accept)],
                 comment: "replies of allowed connections"),
        ]
        for family in IPFamily.allCases {
            assembly.declare(NamedSet(name: Names.policyNodeEgress(family), key: [family.addressType], mapping: .verdict,
                                      comment: "pods on this node to their admin egress rules towards this node"))
            rules.append(Rule([.verdictMap(key: family.source, map: Names.policyNodeEgress(family))], comment: "egress of the source pod to this node"))
        }
        assembly.add(Chain(name: "policy-input", hook: .init(type: .filter, point: .input, priority: 0),
                           comment: "AdminNetworkPolicy: pods reaching this node's own addresses", rules: rules))
    }

    /// The hook chain and the per-family dispatch maps.
    /// `hairpin`: ClusterNetworkPolicies exist, so a pod reaching itself through a Service goes
    /// through its hairpin chain (`pod-hairpin-v4/v6`) before the pod-self accept.
    func declareDispatch(into assembly: inout Assembly, hairpin: Bool) {
        var rules: [Rule] = [
            Rule([.matches(.conntrack(.state), .anonymousSet([.symbol("established"), .symbol("related")])), .verdict(.accept)],
                 comment: "replies of allowed connections"),
        ]
        for family in IPFamily.allCases {
            assembly.declare(NamedSet(name: Names.policyIngress(family), key: [family.addressType], mapping: .verdict,
                                      comment: "isolated pods on this node to their ingress chain"))
            assembly.declare(NamedSet(name: Names.policyEgress(family), key: [family.addressType], mapping: .verdict,
                                      comment: "isolated pods on this node to their egress chain"))
            assembly.declare(NamedSet(name: Names.podSelf(family), key: [family.addressType, family.addressType],
                                      comment: "a pod reaching itself"))
            if hairpin {
                assembly.declare(NamedSet(name: Names.podHairpin(family), key: [family.addressType, family.addressType], mapping: .verdict,
                                          comment: "pods on this node to the ClusterNetworkPolicy rules of reaching themselves through a Service"))
                rules.append(Rule([.matches(.conntrack(.status), .value(.symbol("dnat"))),
                                   .verdictMap(key: .concat([family.source, family.destination]), map: Names.podHairpin(family))],
                                  comment: "a pod reaching itself through a Service: ClusterNetworkPolicy applies"))
            }
            rules.append(Rule([.matches(.concat([family.source, family.destination]), .setReference(Names.podSelf(family))), .verdict(.accept)],
                              comment: "a pod may always reach itself"))
        }
        for family in IPFamily.allCases {
            rules.append(Rule([.verdictMap(key: family.source, map: Names.policyEgress(family))], comment: "egress of the source pod"))
        }
        for family in IPFamily.allCases {
            rules.append(Rule([.verdictMap(key: family.destination, map: Names.policyIngress(family))], comment: "ingress of the destination pod"))
        }
        assembly.add(Chain(name: "policy-forward", hook: .init(type: .filter, point: .forward, priority: 0),
                           comment: "NetworkPolicy: both ends must allow a new connection", rules: rules))
    }
}

extension Names {
    /// Pod address to the chain of its admin egress rules towards this node.
    static func policyNodeEgress(_ family: IPFamily) -> String { "policy-node-egress-v\(Naming.familySuffix(family))" }
    /// A pod's address pair to its hairpin chain (ClusterNetworkPolicy rules of reaching itself).
    static func podHairpin(_ family: IPFamily) -> String { "pod-hairpin-v\(Naming.familySuffix(family))" }
}
