import KubeManifest
import NFTRuleset

/// The fixed part of the table: hooks, dispatch chains, the masquerade and reject helpers, and the
/// table-wide sets they consult. Services only add set elements and their own chains to it.
enum Skeleton {
    static func build(into assembly: inout Assembly, context: NodeContext) {
        for family in IPFamily.allCases { declareSets(family, into: &assembly, context: context) }
        assembly.add(Chain(name: "nat-prerouting", hook: .init(type: .nat, point: .prerouting, priority: -100),
                           rules: [Rule([.verdict(.jump(Names.services))])]))
        assembly.add(Chain(name: "nat-output", hook: .init(type: .nat, point: .output, priority: -100),
                           rules: [Rule([.verdict(.jump(Names.services))])]))
        assembly.add(Chain(name: "nat-postrouting", hook: .init(type: .nat, point: .postrouting, priority: 100),
                           rules: postroutingRules(context: context)))
        let newConnection = Statement.matches(.conntrack(.state), .value(.symbol("new")))
        assembly.add(Chain(name: "filter-input", hook: .init(type: .filter, point: .input, priority: -110), rules: [
            Rule([newConnection, .verdict(.jump(Names.serviceEndpointsCheck))]),
            Rule([newConnection, .verdict(.jump(Names.nodePortEndpointsCheck))]),
        ]))
        assembly.add(Chain(name: "filter-forward", hook: .init(type: .filter, point: .forward, priority: -110), rules: [
            Rule([newConnection, .verdict(.jump(Names.serviceEndpointsCheck))]),
            Rule([newConnection, .verdict(.jump(Names.clusterIPsCheck))]),
        ]))
        assembly.add(Chain(name: "filter-output", hook: .init(type: .filter, point: .output, priority: -110), rules: [
            Rule([newConnection, .verdict(.jump(Names.serviceEndpointsCheck))]),
            Rule([newConnection, .verdict(.jump(Names.nodePortEndpointsCheck))]),
        ]))
        assembly.add(Chain(name: "filter-output-post-dnat", hook: .init(type: .filter, point: .output, priority: -90), rules: [
            Rule([newConnection, .verdict(.jump(Names.clusterIPsCheck))]),
        ]))
        assembly.add(Chain(name: Names.services, rules: IPFamily.allCases.flatMap { servicesRules($0, context: context) }))
        assembly.add(Chain(name: Names.markForMasquerade, rules: [Rule([.setMarkBits(context.masqueradeMark)])]))
        assembly.add(Chain(name: Names.serviceEndpointsCheck, rules: IPFamily.allCases.map { family in
            Rule([.verdictMap(key: .concat([family.destination, .meta(.l4proto), .payload(.thDport)]), map: Names.noEndpointServices(family))])
        }))
        assembly.add(Chain(name: Names.nodePortEndpointsCheck, rules: IPFamily.allCases.map { family in
            Rule(nodePortGuard(family, context: context) + [
                .verdictMap(key: .concat([.meta(.l4proto), .payload(.thDport)]), map: Names.noEndpointNodePorts(family)),
            ])
        }))
        assembly.add(Chain(name: Names.clusterIPsCheck, rules: IPFamily.allCases.flatMap { clusterIPsCheckRules($0, context: context) }))
        assembly.add(Chain(name: Names.rejectConnection, rules: [Rule([.reject(.default)], comment: "service port has no endpoints")]))
    }

    private static func declareSets(_ family: IPFamily, into assembly: inout Assembly, context: NodeContext) {
        let serviceKey: [DataType] = [family.addressType, .inetProto, .inetService]
        let portKey: [DataType] = [.inetProto, .inetService]
        assembly.declare(NamedSet(name: Names.serviceIPs(family), key: serviceKey, mapping: .verdict,
                                  comment: "service address, protocol, port to the service's chain"))
        assembly.declare(NamedSet(name: Names.serviceNodePorts(family), key: portKey, mapping: .verdict,
                                  comment: "NodePorts to the service's external chain"))
        assembly.declare(NamedSet(name: Names.noEndpointServices(family), key: serviceKey, mapping: .verdict,
                                  comment: "service ports without usable endpoints"))
        assembly.declare(NamedSet(name: Names.noEndpointNodePorts(family), key: portKey, mapping: .verdict,
                                  comment: "NodePorts without usable endpoints"))
        assembly.declare(NamedSet(name: Names.clusterIPs(family), key: [family.addressType], comment: "every ClusterIP"))
        assembly.declare(NamedSet(name: Names.hairpin(family), key: [family.addressType, family.addressType],
                                  comment: "endpoint reaching itself through a service"))
        let cidrs = context.clusterCIDRs(family)
        if !cidrs.isEmpty {
            assembly.declare(NamedSet(name: Names.clusterCIDRs(family), key: [family.addressType], flags: [.interval],
                                      comment: "pod network", elements: cidrs.map { SetElement(key: [.prefix($0)]) }))
        }
        let serviceCIDRs = context.serviceCIDRs(family)
        if !serviceCIDRs.isEmpty {
            assembly.declare(NamedSet(name: Names.serviceCIDRs(family), key: [family.addressType], flags: [.interval],
                                      comment: "ServiceCIDRs", elements: serviceCIDRs.map { SetElement(key: [.prefix($0)]) }))
        }
        let nodePortComment = context.nodePortAddresses == .primary ? "nodePortAddresses primary: the first node address of the family" : "nodePortAddresses"
        assembly.declare(NamedSet(name: Names.nodePortAddresses(family), key: [family.addressType], flags: [.interval],
                                  comment: nodePortComment,
                                  elements: context.nodePortAddressValues(family).map { SetElement(key: [$0]) }))
    }

    /// Local destination addresses that accept NodePorts: those in nodePortAddresses (by default the
    /// node's primary address), never loopback — nftables mode has no localhost NodePorts.
    static func nodePortGuard(_ family: IPFamily, context: NodeContext) -> [Statement] {
        [.matches(.fibAddressType(destination: true), .value(.symbol("local"))),
         .differs(family.destination, .value(family.loopback)),
         .matches(family.destination, .setReference(Names.nodePortAddresses(family)))]
    }

    /// A ClusterIP on a port no Service defines is rejected; an address in a ServiceCIDR that no
    /// Service holds is dropped, as kube-proxy's nftables mode does.
    private static func clusterIPsCheckRules(_ family: IPFamily, context: NodeContext) -> [Rule] {
        var rules = [Rule([.matches(family.destination, .setReference(Names.clusterIPs(family))), .reject(.default)],
                          comment: "ClusterIP on a port no service defines")]
        if !context.serviceCIDRs(family).isEmpty {
            rules.append(Rule([.matches(family.destination, .setReference(Names.serviceCIDRs(family))), .verdict(.drop)],
                              comment: "unallocated address in a ServiceCIDR"))
        }
        return rules
    }

    private static func servicesRules(_ family: IPFamily, context: NodeContext) -> [Rule] {
        var rules: [Rule] = []
        let toClusterIP = Statement.matches(family.destination, .setReference(Names.clusterIPs(family)))
        if context.masqueradeAll {
            rules.append(Rule([toClusterIP, .verdict(.jump(Names.markForMasquerade))], comment: "masqueradeAll"))
        } else if let notLocal = context.ifNotLocal(family) {
            let comment: String
            switch context.localDetector {
            case .clusterCIDR: comment = "off-cluster source to a ClusterIP"
            case .nodeCIDR: comment = "source outside the node's pod CIDR, to a ClusterIP"
            case .bridgeInterface, .interfaceNamePrefix: comment = "not from a local pod interface, to a ClusterIP"
            }
            rules.append(Rule([toClusterIP, notLocal, .verdict(.jump(Names.markForMasquerade))], comment: comment))
        }
        rules.append(Rule([.verdictMap(key: .concat([family.destination, .meta(.l4proto), .payload(.thDport)]), map: Names.serviceIPs(family))]))
        rules.append(Rule(nodePortGuard(family, context: context) + [
            .verdictMap(key: .concat([.meta(.l4proto), .payload(.thDport)]), map: Names.serviceNodePorts(family)),
        ]))
        return rules
    }

    private static func postroutingRules(context: NodeContext) -> [Rule] {
        let mark = context.masqueradeMark
        var rules = [Rule([.match(.bitwiseAnd(.meta(.mark), .hex(mark)), .equal, .value(.hex(mark))),
                           .masquerade], comment: "marked by a service chain")]
        for family in IPFamily.allCases {
            rules.append(Rule([.matches(.concat([family.source, family.destination]), .setReference(Names.hairpin(family))), .masquerade],
                              comment: "hairpin: endpoint reached itself through its service"))
        }
        return rules
    }
}
