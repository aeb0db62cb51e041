import KubeManifest
import KubeNFT
import NFTTrace
import Testing

/// What `kubenft trace` shows for the node-context features: ServiceCIDR drops, and which sources
/// each detectLocalMode masquerades. The fixtures have no pods, so the tests add the pods they trace
/// from (pods do not change the Service rules).
@Suite("Tracing ServiceCIDRs and detectLocal modes")
struct ProxyTraceTests {
    static func compiled(_ name: String) throws -> PipelineResult {
        let fixture = try #require(Fixtures.valid.first { $0.name == name })
        var result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        #expect(result.errors.isEmpty, "\(result.errors)")
        result.cluster.pods.append(Pod(meta: ObjectMeta(name: "here", namespace: "dl", location: SourceLocation(file: "-", line: 1, column: 1)),
                                       nodeName: "node-1", podIPs: [ip("10.244.1.30")]))
        result.cluster.pods.append(Pod(meta: ObjectMeta(name: "there", namespace: "dl", location: SourceLocation(file: "-", line: 1, column: 1)),
                                       nodeName: "node-2", podIPs: [ip("10.244.2.30")]))
        return result
    }

    static func trace(_ result: PipelineResult, from: TraceEndpoint, to: TraceEndpoint, port: UInt16) throws -> TraceResult {
        try Review.trace(TraceQuery(from: from, to: to, port: port, transport: .tcp), in: result).result
    }

    @Test("an unallocated address in a ServiceCIDR is dropped; allocated ClusterIPs reach endpoints; an undefined port is rejected")
    func serviceCIDRDrop() throws {
        let result = try Self.compiled("service-cidr")
        let pod = TraceEndpoint.pod(namespace: "dl", name: "here")
        for unallocated in ["10.96.20.99", "10.97.0.5", "10.98.0.200"] {
            let dropped = try Self.trace(result, from: pod, to: .address(ip(unallocated)), port: 80)
            #expect(dropped.verdict == .drop, "\(unallocated): \(dropped)")
            #expect(dropped.paths.contains { $0.steps.contains { $0.chain == "cluster-ips-check" && $0.text.contains("@service-cidrs-v4") } })
        }
        let fromNode = try Self.trace(result, from: .node, to: .address(ip("10.96.20.99")), port: 80)
        #expect(fromNode.verdict == .drop)
        let allocated = try Self.trace(result, from: pod, to: .service(namespace: "dl", name: "web"), port: 80)
        #expect(allocated.verdict == .accept && allocated.paths.allSatisfy { $0.translatedDestination != nil })
        let undefinedPort = try Self.trace(result, from: pod, to: .address(ip("10.96.20.10")), port: 81)
        #expect(undefinedPort.verdict == .reject)
        let outside = try Self.trace(result, from: pod, to: .address(ip("10.200.0.1")), port: 80)
        #expect(outside.verdict == .accept, "addresses outside every ServiceCIDR are not touched")
    }

    /// Whether a connection from `source` to dl/web is masqueraded on every path.
    static func masqueraded(_ result: PipelineResult, from source: TraceEndpoint) throws -> Bool {
        let traced = try trace(result, from: source, to: .service(namespace: "dl", name: "web"), port: 80)
        #expect(traced.verdict == .accept)
        let flags = Set(traced.paths.map(\.masqueraded))
        #expect(flags.count == 1, "paths disagree: \(traced)")
        return flags.first ?? false
    }

    @Test("each detectLocalMode masquerades exactly the sources it does not count as local pods",
          arguments: ["detect-local-nodecidr", "detect-local-bridge", "detect-local-prefix"])
    func detectLocal(_ name: String) throws {
        let result = try Self.compiled(name)
        #expect(try !Self.masqueraded(result, from: .pod(namespace: "dl", name: "here")), "a pod on this node keeps its source")
        #expect(try Self.masqueraded(result, from: .external(ip("198.51.100.7"))), "an outside client is masqueraded")
        // A pod on another node is local only by cluster CIDR; NodeCIDR and interface modes masquerade it.
        #expect(try Self.masqueraded(result, from: .pod(namespace: "dl", name: "there")))
    }
}
