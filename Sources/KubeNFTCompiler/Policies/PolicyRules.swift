import KubeManifest
import NFTRuleset

/// Which side of a connection a policy rule constrains.
enum PolicyDirection: String {
    case ingress, egress

    /// The packet field holding the peer's address: the source for ingress, the destination for egress.
    func peerField(_ family: IPFamily) -> Expression { self == .ingress ? family.source : family.destination }
}

/// The peers of one rule: anyone, or a set of addresses. Named ports need the pods behind the
/// addresses: those chosen by selectors are kept, those inside address blocks are found on demand.
enum PeerSpec {
    case any
    case some(ranges: [AddressRange], pods: [Pod], blocks: [AddressRange])
}

/// One way a rule's `ports` can match.
enum PortMatch: Hashable {
    /// Every port of every protocol (no `ports` given).
    case anything
    /// `meta l4proto P`, optionally `th dport N` or `th dport N-M`.
    case numeric(L4Protocol, ClosedRange<UInt16>?)
    /// Egress to a named port: destination address, protocol and port, per destination pod.
    case namedDestination(L4Protocol, String)
}

/// Builds the statements of one NetworkPolicy rule for one group of pods.
struct PolicyRuleBuilder {
    var index: PodIndex
    var policy: NetworkPolicy
    var direction: PolicyDirection
    /// Container ports of the selected pods (they share them: grouping guarantees it).
    var groupPorts: [Pod.ContainerPort]

    func peers(of rule: NetworkPolicy.Rule) -> PeerSpec {
        guard let peers = rule.peers, !peers.isEmpty else { return .any }
        var ranges: [AddressRange] = []
        var blocks: [AddressRange] = []
        var pods: [Pod] = []
        for peer in peers {
            if let block = peer.ipBlock {
                let allowed = AddressRange(block.cidr).subtracting(block.except.map(AddressRange.init))
                ranges += allowed
                blocks += allowed
            } else {
                let selected = index.pods(of: peer, policyNamespace: policy.meta.namespace)
                pods += selected
                ranges += selected.flatMap { $0.podIPs.map(AddressRange.init) }
            }
        }
        return .some(ranges: AddressRange.union(ranges), pods: pods, blocks: AddressRange.union(blocks))
    }

    /// The port alternatives of a rule; empty when `ports` is given but nothing in it can match.
    func ports(of rule: NetworkPolicy.Rule) -> [PortMatch] {
        guard let ports = rule.ports, !ports.isEmpty else { return [.anything] }
        var matches: [PortMatch] = []
        for port in ports {
            switch port.port {
            case nil: matches.append(.numeric(port.protocol, nil))
            case .number(let number)?: matches.append(.numeric(port.protocol, number...(port.endPort ?? number)))
            case .name(let name)?:
                if direction == .egress {
                    matches.append(.namedDestination(port.protocol, name))
                } else {
                    for resolved in groupPorts where resolved.name == name && resolved.protocol == port.protocol {
                        matches.append(.numeric(port.protocol, resolved.port...resolved.port))
                    }
                }
            }
        }
        var seen = Set<PortMatch>()
        return matches.filter { seen.insert($0).inserted }
    }

    static func portStatements(_ match: PortMatch) -> [Statement] {
        guard case .numeric(let proto, let range) = match else { return [] }
        var statements: [Statement] = [.matches(.meta(.l4proto), .value(.proto(proto.nftName)))]
        if let range {
            let value: Value = range.lowerBound == range.upperBound ? .port(range.lowerBound) : .portRange(range.lowerBound, range.upperBound)
            statements.append(.matches(.payload(.thDport), .value(value)))
        }
        return statements
    }
}
