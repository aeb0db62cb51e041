import KubeManifest
import NFTRuleset

/// Builds the chain that picks a backend for one service port: a cascade of rules, each taking the
/// packet with the conditional probability that gives every backend its share (the last one takes
/// what is left). With ClientIP affinity, known clients first return to their backend.
struct CascadeBuilder {
    var service: Service
    var port: ServicePort
    var family: IPFamily
    /// Rate limits checked before a backend is picked; this chain only sees new connections.
    var limits: RateLimitSpec? = nil
    /// With `--counters`: limited connections are counted in the port's `svc-limit-…` counter.
    var countLimits = false

    var label: String { Naming.serviceLabel(service, port) }
    var baseComponents: [String] { [service.meta.namespace, service.meta.name, port.protocol.nftName, Naming.portLabel(port)] }

    func chainName(_ prefix: String) -> String {
        Naming.identifier(prefix + Naming.familySuffix(family), baseComponents)
    }

    private func backendComponents(_ backend: Backend) -> [String] {
        let address = backend.address.description.map { $0 == ":" ? "-" : $0 }
        return baseComponents + [String(address), String(backend.port)]
    }

    /// Adds the cascade chain (and affinity sets and endpoint chains when needed) to the assembly.
    func build(name: String, purpose: String, shares allShares: [WeightedBackend], resolver: EndpointResolver, into assembly: inout Assembly) {
        let (shares, dropped) = ShareCalculator.representable(allShares)
        warnUnrepresentable(dropped, purpose: purpose, into: &assembly)
        var rules = limitRules(into: &assembly)
        let affinity = service.sessionAffinityTimeout
        if let timeout = affinity {
            for weighted in shares {
                let setName = Naming.identifier("aff" + Naming.familySuffix(family), backendComponents(weighted.backend))
                assembly.declare(NamedSet(name: setName, key: [family.addressType], flags: [.dynamic, .timeout], timeout: timeout,
                                          comment: "\(label) ClientIP affinity to \(weighted.backend.label)"))
                rules.append(Rule([.matches(family.source, .setReference(setName)),
                                   .verdict(.goto(endpointChain(weighted.backend, affinitySet: setName, resolver: resolver, into: &assembly)))],
                                  comment: "\(label) returning client -> \(weighted.backend.label)"))
            }
        }
        let thresholds = ShareCalculator.thresholds(shares)
        for (weighted, threshold) in zip(shares, thresholds) {
            var statements: [Statement] = []
            if let threshold {
                statements.append(.match(.randomNumber(modulus: ShareCalculator.modulus, offset: 0), .lessThan, .value(.integer(UInt64(threshold)))))
            }
            if affinity != nil {
                let setName = Naming.identifier("aff" + Naming.familySuffix(family), backendComponents(weighted.backend))
                statements.append(.verdict(.goto(endpointChain(weighted.backend, affinitySet: setName, resolver: resolver, into: &assembly))))
            } else {
                statements += dnat(weighted.backend)
            }
            rules.append(Rule(statements, comment: backendComment(weighted, resolver: resolver)))
            assembly.add(SetElement(key: [.address(weighted.backend.address), .address(weighted.backend.address)]), to: Names.hairpin(family))
        }
        assembly.add(Chain(name: name, comment: "\(label) \(purpose)", rules: rules))
    }

    /// One warning per weight group whose share per endpoint is too small for the cascade's
    /// `numgen random mod` resolution: those endpoints were left out and get no traffic.
    private func warnUnrepresentable(_ dropped: [WeightedBackend], purpose: String, into assembly: inout Assembly) {
        var seen: Set<String> = []
        for weighted in dropped where seen.insert(weighted.group ?? "").inserted {
            let share = weighted.fraction
            let group = weighted.group.map { "group \($0)" } ?? "each endpoint"
            let reason = "\(group) (weight \(share.weight) of \(share.total), \(share.members) endpoint\(share.members == 1 ? "" : "s")"
                + " for \(label) \(purpose)) gets a share per endpoint below 1/\(2 * ShareCalculator.modulus), which rounds to"
                + " zero at the 1/\(ShareCalculator.modulus) resolution of the backend choice; its endpoints get no traffic"
            let annotation = WeightSpec.annotation
            let location = service.meta.annotationLocations[annotation] ?? service.meta.location
            let diagnostic = Diagnostic(.warning, at: location, object: "Service \(service.meta.qualifiedName)",
                                        field: "metadata.annotations[\(annotation)]", reason: reason)
            // The message names the chain, so no other cascade repeats it.
            assembly.diagnostics.append(diagnostic)
        }
    }

    /// `update @rl4-… { ip saddr limit rate over … } drop` (per client, in a dynamic set with a
    /// timeout and a size bound), then `limit rate over … drop` (Service-wide). A `limit` spends a
    /// token on every packet it lets through, so the per-client check comes first: a client over its
    /// own limit is dropped before it can empty the Service-wide bucket that other clients share.
    func limitRules(into assembly: inout Assembly) -> [Rule] {
        guard let limits else { return [] }
        var verdict = [limits.verdict]
        if countLimits {
            let counter = RateLimitSpec.counter(service, port)
            assembly.add(counter)
            verdict.insert(.namedCounter(counter.name), at: 0)
        }
        var rules: [Rule] = []
        if let limit = limits.perClient {
            let setName = Naming.identifier("rl" + Naming.familySuffix(family), baseComponents)
            assembly.declare(NamedSet(name: setName, key: [family.addressType], flags: [.dynamic, .timeout],
                                      timeout: RateLimitSpec.clientTimeout(limit), comment: "\(label) per-client rate limit"))
            rules.append(Rule([.updateSetLimitOver(name: setName, key: family.source, limit: limit)] + verdict,
                              comment: "\(label) per-client rate limit"))
        }
        if let limit = limits.service {
            rules.append(Rule([.limitOver(limit)] + verdict, comment: "\(label) rate limit"))
        }
        return rules
    }

    private func dnat(_ backend: Backend) -> [Statement] {
        [.matches(.meta(.l4proto), .value(.proto(port.protocol.nftName))), .dnat(family, .endpoint(backend.address, backend.port))]
    }

    private func endpointChain(_ backend: Backend, affinitySet: String, resolver: EndpointResolver, into assembly: inout Assembly) -> String {
        let name = Naming.identifier("ep" + Naming.familySuffix(family), backendComponents(backend))
        if !assembly.hasChain(name) {
            assembly.add(Chain(name: name, comment: "\(label) endpoint \(backend.label)", rules: [
                Rule([.updateSet(name: affinitySet, key: family.source)]),
                Rule(dnat(backend), comment: "\(label) -> \(backend.label)"),
            ]))
        }
        return name
    }

    private func backendComment(_ weighted: WeightedBackend, resolver: EndpointResolver) -> String {
        var text = "\(label) -> \(weighted.backend.label)"
        if let pod = weighted.backend.pod { text += " \(pod.namespace)/\(pod.name)" }
        return text + " " + Self.percent(weighted.share)
    }

    /// `33.33%`, computed without Foundation so output never depends on locale.
    static func percent(_ share: Double) -> String {
        let hundredths = Int((share * 10_000).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)%"
    }
}
