import KubeManifest
import KubeNFT
import KubeNFTCompiler
import NFTRuleset
import NFTTrace
import Testing

/// The map shape (nft text, netlink) and the cascade shape (JSON, iptables) must behave alike:
/// every service entry, traced from outside, from a pod and from the node, reaches the same
/// backends with the same probabilities and the same verdicts.
@Suite("Service shapes")
struct ServiceShapeTests {
    @Test("maps and cascade trace to the same backends with the same shares", arguments: Fixtures.valid)
    func sameBehaviour(_ fixture: FixtureCase) throws {
        let maps = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict, shape: .maps)
        let cascade = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict, shape: .cascade)
        let mapped = try #require(maps.ruleset), cascaded = try #require(cascade.ruleset)
        let environment = TraceEnvironment(localAddresses: maps.context.nodeIPs)
        let left = Tracer(ruleset: mapped, environment: environment, recordsSteps: false)
        let right = Tracer(ruleset: cascaded, environment: environment, recordsSteps: false)
        for (packet, origin) in Self.probes(cascaded, cluster: maps.cluster, nodeIPs: maps.context.nodeIPs) {
            let expected = Outcome.summary(try right.trace(packet, origin: origin))
            let actual = Outcome.summary(try left.trace(packet, origin: origin))
            #expect(Outcome.close(actual, expected), "\(fixture.name): \(packet) from \(origin): maps \(actual) cascade \(expected)")
        }
    }

    @Test("an equal-share service has no per-endpoint rules, only map elements")
    func elementsNotRules() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "demo" })
        let maps = try #require(Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, shape: .maps).ruleset)
        let cascade = try #require(Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, shape: .cascade).ruleset)
        let dnatRules = { (ruleset: Ruleset) in
            ruleset.chains.flatMap(\.rules).filter { rule in
                rule.statements.contains { if case .dnat(_, .endpoint) = $0 { return true } else { return false } }
            }
        }
        // The demo's weighted (shop/cart) and ClientIP-affinity (shop/catalog) services keep their own rules.
        let perService = ["shop/cart:", "shop/catalog:"]
        #expect(dnatRules(cascade).contains { rule in !perService.contains { rule.comment?.hasPrefix($0) == true } })
        #expect(dnatRules(maps).allSatisfy { rule in perService.contains { rule.comment?.hasPrefix($0) == true } })
        #expect(maps.sets.contains { $0.name.hasSuffix("-addresses") && !$0.elements.isEmpty })
    }

    @Test("a Service's ports share its address elements unless their endpoints or target ports differ")
    func addressElementsShared() throws {
        let keys = { (ruleset: Ruleset, set: String) in
            (ruleset.set(named: set)?.elements ?? []).compactMap { element -> String? in
                guard case .address(let address)? = element.key.first else { return nil }
                return address.description
            }
        }
        // kube-dns: three ports (53/UDP, 53/TCP, 9153/TCP) over the same two endpoints.
        let demo = try #require(Fixtures.valid.first { $0.name == "demo" })
        let shop = try #require(Pipeline.run(paths: [demo.manifests], node: demo.nodeOptions, shape: .maps).ruleset)
        #expect(keys(shop, "lb4-2-addresses").filter { $0 == "10.96.0.10" }.count == 2)
        #expect(keys(shop, "lb4-2-ports").filter { $0 == "10.96.0.10" }.count == 3)
        // proto/web: named target ports that resolve differently on its pods; lab/split: ports with
        // different endpoints, and its externalIP shared with lab/split-peer.
        for (name, address, count) in [("clusterip-protocols", "10.96.1.12", 3), ("lab-services", "10.96.0.14", 2),
                                       ("lab-services", "203.0.113.30", 1)] {
            let fixture = try #require(Fixtures.valid.first { $0.name == name })
            let ruleset = try #require(Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, shape: .maps).ruleset)
            let all = ruleset.sets.filter { $0.name.hasPrefix("lb4-") }.map(\.name)
            #expect(all.allSatisfy { set in set.hasSuffix("-endpoints") || set.hasSuffix("-nodeports") || !keys(ruleset, set).contains(address) },
                    "\(name): \(address) must have no shared elements")
            #expect(keys(ruleset, "lb4-\(count)-endpoints").contains(address), "\(name): \(address)")
        }
    }

    /// Every address . protocol . port a service answers on, and every node port, from an outside
    /// client, from a pod (when there is one) and from the node itself.
    static func probes(_ ruleset: Ruleset, cluster: Cluster, nodeIPs: [IPAddress]) -> [(TracePacket, TraceOrigin)] {
        var targets: [(IPAddress, String, UInt16)] = []
        for family in ["4", "6"] {
            for name in ["service-ips-v\(family)", "no-endpoint-services-v\(family)"] {
                for element in ruleset.set(named: name)?.elements ?? [] {
                    guard element.key.count == 3, case .address(let address) = element.key[0], case .proto(let proto) = element.key[1],
                          case .port(let port) = element.key[2] else { continue }
                    targets.append((address, proto, port))
                }
            }
            for name in ["service-nodeports-v\(family)", "no-endpoint-nodeports-v\(family)"] {
                for element in ruleset.set(named: name)?.elements ?? [] {
                    guard element.key.count == 2, case .proto(let proto) = element.key[0], case .port(let port) = element.key[1] else { continue }
                    for address in nodeIPs where address.description.contains(":") == (family == "6") {
                        targets.append((address, proto, port))
                    }
                }
            }
        }
        var probes: [(TracePacket, TraceOrigin)] = []
        for (destination, proto, port) in targets {
            let v6 = destination.description.contains(":")
            var sources: [(IPAddress, TraceOrigin)] = [(IPAddress(v6 ? "2001:db8:ffff::9" : "198.51.100.9")!, .network)]
            if let pod = cluster.pods.lazy.flatMap(\.podIPs).first(where: { $0.description.contains(":") == v6 }) {
                sources.append((pod, .network))
            }
            if let node = nodeIPs.first(where: { $0.description.contains(":") == v6 }) { sources.append((node, .node)) }
            for (source, origin) in sources {
                probes.append((TracePacket(source: source, destination: destination, transport: proto, destinationPort: port), origin))
            }
        }
        return probes
    }
}

/// What a trace does, without the rules it went through: verdict, DNAT target, masquerade, with
/// probabilities added up per outcome.
struct Outcome: Hashable, CustomStringConvertible {
    var verdict: TraceVerdict
    var destination: String
    var masqueraded: Bool

    var description: String { "\(verdict) \(destination)\(masqueraded ? " masq" : "")" }

    static func summary(_ result: TraceResult) -> [Outcome: Double] {
        var summary: [Outcome: Double] = [:]
        for path in result.paths {
            let target = path.translatedDestination.map { "\($0):\(path.translatedPort ?? 0)" } ?? "-"
            summary[Outcome(verdict: path.verdict, destination: target, masqueraded: path.masqueraded), default: 0] += path.probability
        }
        return summary
    }

    /// Same outcomes; probabilities equal within the cascade's 1/1,000,000 resolution.
    static func close(_ left: [Outcome: Double], _ right: [Outcome: Double]) -> Bool {
        Set(left.keys) == Set(right.keys) && left.allSatisfy { abs($0.value - (right[$0.key] ?? -1)) < 1e-5 }
    }
}
