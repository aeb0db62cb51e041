import KubeManifest
import NFTRuleset

/// Compiles Services and their endpoints into map elements and per-service chains, with
/// kube-proxy's semantics (see docs/design.md): ClusterIP, NodePort, externalIPs, LoadBalancer with
/// source ranges, traffic policies, affinity, and weighted backends.
struct ServiceCompiler {
    var context: NodeContext
    var resolver: EndpointResolver
    var shape: ServiceShape

    init(cluster: Cluster, context: NodeContext, shape: ServiceShape = .maps) {
        self.context = context
        self.resolver = EndpointResolver(cluster: cluster)
        self.shape = shape
    }

    func compile(_ services: [Service], into assembly: inout Assembly) {
        for service in services { compile(service, into: &assembly) }
    }

    private func compile(_ service: Service, into assembly: inout Assembly) {
        let name = service.meta.qualifiedName
        let limitKeys = RateLimitSpec.annotations.filter { service.meta.annotations[$0] != nil }
        if !limitKeys.isEmpty, !ServiceFrontends.programsDNAT(service) {
            for key in limitKeys {
                assembly.diagnostics.append(Diagnostic(.warning, at: service.meta.annotationLocations[key] ?? service.meta.location,
                                                       object: "Service \(name)", field: "metadata.annotations[\(key)]",
                                                       reason: "not enforced: kubenft programs no DNAT for this Service"))
            }
        }
        if service.type == .externalName {
            assembly.notes.append("\(name): ExternalName service (\(service.externalName ?? "no name")), no DNAT")
            return
        }
        if service.isHeadless {
            assembly.notes.append("\(name): headless service, no DNAT")
            return
        }
        // kube-proxy only watches Services without these labels (its default service-proxy-name is
        // empty), so another proxy owns the first kind and the second is headless by label.
        if let proxy = service.meta.labels[ServiceLabels.proxyName] {
            assembly.notes.append("\(name): labelled \(ServiceLabels.proxyName)=\(proxy), left to that proxy, no DNAT")
            return
        }
        if service.meta.labels[ServiceLabels.headless] != nil {
            assembly.notes.append("\(name): labelled \(ServiceLabels.headless), no DNAT")
            return
        }
        if service.clusterIPs.isEmpty {
            assembly.notes.append("\(name): no clusterIP allocated, no DNAT")
            return
        }
        var weights: WeightSpec?
        if let text = service.meta.annotations[WeightSpec.annotation] {
            switch WeightSpec.parse(text) {
            case .success(let spec): weights = spec
            case .failure(let error):
                let location = service.meta.annotationLocations[WeightSpec.annotation] ?? service.meta.location
                assembly.diagnostics.append(Diagnostic(at: location, object: "Service \(name)",
                                                       field: "metadata.annotations[\(WeightSpec.annotation)]", reason: error.reason))
                return
            }
        }
        let (limits, limitErrors) = RateLimitSpec.parse(service)
        guard limitErrors.isEmpty else {
            assembly.diagnostics += limitErrors
            return
        }
        var families: [IPFamily] = []
        for address in service.clusterIPs where !families.contains(address.family) { families.append(address.family) }
        for family in families {
            guard let clusterIP = service.clusterIPs.first(where: { $0.family == family }) else { continue }
            assembly.add(SetElement(key: [.address(clusterIP)], comment: name), to: Names.clusterIPs(family))
            for port in service.ports {
                ServicePortCompiler(service: service, port: port, family: family, clusterIP: clusterIP, weights: weights,
                                    limits: limits, context: context, resolver: resolver, shape: shape).compile(into: &assembly)
            }
        }
    }
}

/// One service port in one address family: the unit that owns chains and map elements.
struct ServicePortCompiler {
    var service: Service
    var port: ServicePort
    var family: IPFamily
    var clusterIP: IPAddress
    var weights: WeightSpec?
    var limits: RateLimitSpec?
    var context: NodeContext
    var resolver: EndpointResolver
    var shape: ServiceShape

    private var cascade: CascadeBuilder { CascadeBuilder(service: service, port: port, family: family, limits: limits,
                                                           countLimits: context.observation.counters) }
    private var label: String { Naming.serviceLabel(service, port) }
    private var proto: Value { .proto(port.protocol.nftName) }

    private var externalAddresses: [IPAddress] {
        (service.externalIPs + (service.type == .loadBalancer ? service.loadBalancerIngressIPs : [])).filter { $0.family == family }
    }

    private var nodePort: UInt16? {
        service.type == .nodePort || service.type == .loadBalancer ? port.nodePort : nil
    }

    func compile(into assembly: inout Assembly) {
        let backends = resolver.backends(of: service, port: port, family: family)
        let clusterShares = shares(EndpointResolver.usableForCluster(backends, node: context.nodeName,
                                                                     zone: resolver.zone(ofNode: context.nodeName)), into: &assembly)
        let localShares = shares(EndpointResolver.usable(backends.filter(isLocal)), into: &assembly)
        var clusterChain = cascade.chainName("svc")
        var localChain = cascade.chainName("local")
        let hasCluster = !clusterShares.isEmpty
        let hasLocal = !localShares.isEmpty
        let exposed = !externalAddresses.isEmpty || nodePort != nil
        // The all-endpoints chain serves ClusterIP traffic (unless internalTrafficPolicy is Local) and
        // every kind of external traffic that may use any endpoint.
        let usesCluster = hasCluster && (service.internalTrafficPolicy == .cluster || exposed)
        let wantsLocal = service.internalTrafficPolicy == .local || (exposed && service.externalTrafficPolicy == .local)
        let usesLocal = hasLocal && wantsLocal
        let mapped = shape == .maps && service.sessionAffinityTimeout == nil
            && BackendMaps.equalShares(clusterShares) && BackendMaps.equalShares(localShares)
        if usesCluster {
            if mapped {
                clusterChain = mapTarget(local: false, shares: clusterShares, into: &assembly)
            } else {
                cascade.build(name: clusterChain, purpose: "all endpoints", shares: clusterShares, resolver: resolver, into: &assembly)
            }
        }
        if usesLocal {
            if mapped {
                localChain = mapTarget(local: true, shares: localShares, into: &assembly)
            } else {
                cascade.build(name: localChain, purpose: "node-local endpoints", shares: localShares, resolver: resolver, into: &assembly)
            }
        }
        compileClusterIP(hasCluster: hasCluster, hasLocal: hasLocal, clusterChain: clusterChain, localChain: localChain, into: &assembly)
        if exposed {
            compileExternal(hasCluster: hasCluster, hasLocal: hasLocal, clusterChain: clusterChain, localChain: localChain, into: &assembly)
        }
    }

    /// Map shape: the backends' elements under every entry that reaches this endpoint set, and the
    /// chain those entries go to (the shared `lb` chain, or a per-service chain when rate limits
    /// come first).
    private func mapTarget(local: Bool, shares: [WeightedBackend], into assembly: inout Assembly) -> String {
        let exposedHere = local ? service.externalTrafficPolicy == .local : true
        var entries: [[Value]] = []
        if (service.internalTrafficPolicy == .local) == local { entries.append([.address(clusterIP), proto, .port(port.port)]) }
        if exposedHere {
            entries += externalAddresses.map { [.address($0), proto, .port(port.port)] }
        }
        let nodePorts = exposedHere ? nodePort : nil
        let shared = BackendMaps.use(entries: entries, nodePort: nodePorts.map { [proto, .port($0)] }, backends: shares,
                                     family: family, local: local, into: &assembly)
        for weighted in shares {
            assembly.add(SetElement(key: [.address(weighted.backend.address), .address(weighted.backend.address)]), to: Names.hairpin(family))
        }
        guard limits != nil else { return shared }
        let name = cascade.chainName(local ? "local" : "svc")
        let rules = cascade.limitRules(into: &assembly) + [Rule([.verdict(.goto(shared))], comment: label)]
        assembly.add(Chain(name: name, comment: "\(label) \(local ? "node-local endpoints" : "all endpoints")", rules: rules))
        return name
    }

    private func isLocal(_ backend: Backend) -> Bool {
        guard let node = context.nodeName else { return false }
        return backend.nodeName == node
    }

    private func shares(_ usable: [Backend], into assembly: inout Assembly) -> [WeightedBackend] {
        let result = ShareCalculator.shares(for: usable, weights: weights) { resolver.pod($0.pod)?.meta.labels }
        for backend in result.ungrouped {
            let message = "endpoint \(backend.label) of port \(Naming.portLabel(port)) is in no group of \(WeightSpec.annotation); it gets no traffic"
            let location = service.meta.annotationLocations[WeightSpec.annotation] ?? service.meta.location
            let diagnostic = Diagnostic(.warning, at: location, object: "Service \(service.meta.qualifiedName)",
                                        field: "metadata.annotations[\(WeightSpec.annotation)]", reason: message)
            assembly.diagnostics.append(diagnostic)
        }
        return result.shares
    }

    private func compileClusterIP(hasCluster: Bool, hasLocal: Bool, clusterChain: String, localChain: String, into assembly: inout Assembly) {
        let key: [Value] = [.address(clusterIP), proto, .port(port.port)]
        let local = service.internalTrafficPolicy == .local
        if local ? hasLocal : hasCluster {
            assembly.add(SetElement(key: key, data: .verdict(.goto(local ? localChain : clusterChain)), comment: label), to: Names.serviceIPs(family))
        } else if local && hasCluster {
            assembly.add(SetElement(key: key, data: .verdict(.drop), comment: "\(label) internalTrafficPolicy Local, no local endpoints"),
                         to: Names.noEndpointServices(family))
        } else {
            assembly.add(SetElement(key: key, data: .verdict(.goto(rejectChain(into: &assembly))), comment: "\(label) has no endpoints"),
                         to: Names.noEndpointServices(family))
            assembly.notes.append("\(label) (\(family.rawValue)): no usable endpoints, connections are rejected")
        }
    }

    /// Where a connection to this port with no endpoints goes: the shared reject chain, or with
    /// `--counters` this port's own chain that counts it first.
    private func rejectChain(into assembly: inout Assembly) -> String {
        guard context.observation.counters else { return Names.rejectConnection }
        let counter = DropObservation.serviceCounter(service, port)
        assembly.add(counter)
        assembly.add(Chain(name: counter.name, comment: counter.comment,
                           rules: [Rule([.namedCounter(counter.name), .reject(.default)], comment: counter.comment)]))
        return counter.name
    }

    private func compileExternal(hasCluster: Bool, hasLocal: Bool, clusterChain: String, localChain: String, into assembly: inout Assembly) {
        guard hasCluster else {
            let reject = SetElement.Data.verdict(.goto(rejectChain(into: &assembly)))
            for address in externalAddresses {
                assembly.add(SetElement(key: [.address(address), proto, .port(port.port)], data: reject, comment: "\(label) has no endpoints"),
                             to: Names.noEndpointServices(family))
            }
            // As kube-proxy's firewall check runs before its endpoint check, sources outside
            // loadBalancerSourceRanges are dropped even when there is nothing to reject them for.
            if let firewallChain = firewall(allowed: .return, into: &assembly) {
                for address in loadBalancerAddresses {
                    assembly.add(SetElement(key: [.address(address), proto, .port(port.port)], data: .verdict(.goto(firewallChain)),
                                            comment: "\(label) load balancer, no endpoints"), to: Names.serviceIPs(family))
                }
            }
            if let nodePort {
                assembly.add(SetElement(key: [proto, .port(nodePort)], data: reject, comment: "\(label) has no endpoints"),
                             to: Names.noEndpointNodePorts(family))
            }
            return
        }
        let externalChain = cascade.chainName("ext")
        assembly.add(Chain(name: externalChain, comment: "\(label) external traffic, externalTrafficPolicy \(service.externalTrafficPolicy.rawValue)",
                           rules: externalRules(hasLocal: hasLocal, clusterChain: clusterChain, localChain: localChain)))
        let firewallChain = firewall(allowed: .goto(externalChain), into: &assembly)
        // An address that is both an externalIP and a load-balancer address is still firewalled,
        // as kube-proxy's firewall check keys on the LB address whatever else it is.
        for address in service.externalIPs where address.family == family {
            let target = loadBalancerAddresses.contains(address) ? firewallChain ?? externalChain : externalChain
            assembly.add(SetElement(key: [.address(address), proto, .port(port.port)], data: .verdict(.goto(target)),
                                    comment: "\(label) externalIP"), to: Names.serviceIPs(family))
        }
        for address in loadBalancerAddresses where !service.externalIPs.contains(address) {
            assembly.add(SetElement(key: [.address(address), proto, .port(port.port)], data: .verdict(.goto(firewallChain ?? externalChain)),
                                    comment: "\(label) load balancer"), to: Names.serviceIPs(family))
        }
        if let nodePort {
            assembly.add(SetElement(key: [proto, .port(nodePort)], data: .verdict(.goto(externalChain)), comment: "\(label) NodePort"),
                         to: Names.serviceNodePorts(family))
            warnIfNodePortClosed(nodePort, into: &assembly)
        }
    }

    private func externalRules(hasLocal: Bool, clusterChain: String, localChain: String) -> [Rule] {
        guard service.externalTrafficPolicy == .local else {
            return [Rule([.verdict(.jump(Names.markForMasquerade))], comment: "\(label) external traffic is masqueraded"),
                    Rule([.verdict(.goto(clusterChain))], comment: label)]
        }
        var rules: [Rule] = []
        if let local = context.ifLocal(family) {
            rules.append(Rule([local, .verdict(.goto(clusterChain))], comment: "\(label) pod traffic uses every endpoint"))
        }
        let fromNode = Statement.matches(.fibAddressType(destination: false), .value(.symbol("local")))
        rules.append(Rule([fromNode, .verdict(.jump(Names.markForMasquerade))], comment: "\(label) node traffic is masqueraded"))
        rules.append(Rule([fromNode, .verdict(.goto(clusterChain))], comment: "\(label) node traffic uses every endpoint"))
        if hasLocal {
            rules.append(Rule([.verdict(.goto(localChain))], comment: "\(label) external traffic keeps its source"))
        } else {
            rules.append(Rule([.verdict(.drop)], comment: "\(label) externalTrafficPolicy Local, no local endpoints"))
        }
        return rules
    }

    /// A NodePort with no address to listen on in this family (nodePortAddresses `primary` without a
    /// known node address, or no listed CIDR of the family) is compiled but unreachable: say so.
    private func warnIfNodePortClosed(_ nodePort: UInt16, into assembly: inout Assembly) {
        guard context.nodePortAddressValues(family).isEmpty else { return }
        let why = context.nodePortAddresses == .primary
            ? "the node's primary \(family.rawValue) address is unknown (give --node-ip or a Node object named by --node-name)"
            : "nodePortAddresses lists no \(family.rawValue) CIDR"
        let diagnostic = Diagnostic(.warning, at: service.meta.location, object: "Service \(service.meta.qualifiedName)",
                                    field: "spec.ports",
                                    reason: "port \(Naming.portLabel(port)): NodePort \(nodePort) is open on no address: \(why)")
        assembly.diagnostics.append(diagnostic)
    }

    /// The load-balancer addresses of this family, the ones loadBalancerSourceRanges guard.
    private var loadBalancerAddresses: [IPAddress] {
        guard service.type == .loadBalancer else { return [] }
        var seen = Set<IPAddress>()
        return service.loadBalancerIngressIPs.filter { $0.family == family && seen.insert($0).inserted }
    }

    /// The loadBalancerSourceRanges of this family, as kube-proxy uses them: ranges of the other
    /// family do not apply, and a zero-length prefix allows everyone, like no ranges at all.
    private var familySourceRanges: [CIDR] {
        let ranges = service.loadBalancerSourceRanges.filter { $0.family == family }
        return ranges.contains { $0.prefixLength == 0 } ? [] : ranges
    }

    /// The loadBalancerSourceRanges check for LB addresses, ending in `allowed` for sources inside
    /// them; nil when the service has no ranges of this family.
    private func firewall(allowed verdict: Verdict, into assembly: inout Assembly) -> String? {
        let ranges = familySourceRanges
        guard service.type == .loadBalancer, !ranges.isEmpty, !loadBalancerAddresses.isEmpty else { return nil }
        let name = cascade.chainName("fw")
        var allowed: [Value] = ranges.map { .prefix($0) }
        // As kube-proxy: when the node's primary address is inside the ranges, the LB addresses are
        // allowed as sources too (a VIP held locally loops back with itself as the source).
        let nodeInside = context.nodeIPs(family).first.map { primary in ranges.contains { $0.contains(primary) } } ?? false
        if nodeInside {
            allowed += service.loadBalancerIngressIPs.filter { $0.family == family }.map { .address($0) }
        }
        var rules: [Rule] = []
        if !allowed.isEmpty {
            rules.append(Rule([.matches(family.source, .anonymousSet(allowed.sorted())), .verdict(verdict)],
                              comment: "\(label) loadBalancerSourceRanges"))
        }
        rules.append(Rule([.verdict(.drop)], comment: "\(label) source outside loadBalancerSourceRanges"))
        assembly.add(Chain(name: name, comment: "\(label) load balancer firewall", rules: rules))
        return name
    }
}

/// Labels by which kube-proxy leaves a Service alone.
enum ServiceLabels {
    static let proxyName = "service.kubernetes.io/service-proxy-name"
    static let headless = "service.kubernetes.io/headless"
}
