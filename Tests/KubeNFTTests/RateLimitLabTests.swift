import Foundation
import KubeNFT
import LabKit
import NFTTrace
import Testing

/// Rate limits with real connections: `lab/limited` (10/second burst 5, all clients) and
/// `lab/per-client` (10/second burst 5 per client address) of the `lab-services` fixture.
///
/// A token bucket admits `burst + rate × t` connections in `t` seconds of flooding. Each probe
/// opens connections one after another and reports its wall time, so the expected count is
/// computed from the measured time (a refused or timed-out attempt also lets the bucket refill);
/// the tolerance is ±(25% + 3) connections for scheduling noise on a shared machine.
@Suite("Rate limits with real packets", .enabled(if: Environment.labTestsEnabled))
struct RateLimitLabTests {
    static let rate = 10.0, burst = 5.0

    static func expectAdmitted(_ result: ProbeResult, _ what: String) {
        let seconds = Double(result.elapsedMs) / 1000
        let attempts = Double(result.answered + result.refused + result.timeout + result.unreachable + result.other)
        let expected = min(attempts, burst + rate * seconds)
        let admitted = Double(result.answered)
        #expect(abs(admitted - expected) <= expected * 0.25 + 3,
                "\(what): admitted \(result.answered) in \(result.elapsedMs) ms, expected about \(Int(expected)): \(result)")
        #expect(result.refused > 0 && result.other == 0, "over the limit must be rejected: \(result)")
    }

    @Test("a Service-wide limit admits burst + rate × time of a flood and refuses the rest")
    func serviceWide() async throws {
        try await ServiceLabTests.withServiceLab { lab in
            let flood = try lab.probe(from: "client-pod", to: "10.96.0.60", port: 80, count: 100, timeoutMs: 250)
            #expect(flood.refused > 0, "the flood must hit the limit: \(flood)")
            Self.expectAdmitted(flood, "lab/limited")
        }
    }

    @Test("a per-client limit holds back a flooding client and leaves a second client its own allowance")
    func perClient() async throws {
        try await ServiceLabTests.withServiceLab { lab in
            let flood = try lab.probe(from: "outside", to: ServiceLabTests.nodeV4, port: 30061, count: 100, timeoutMs: 250)
            #expect(flood.refused > 0, "the flood must hit the limit: \(flood)")
            Self.expectAdmitted(flood, "lab/per-client from outside")
            // Right after the flood, another client still gets its whole burst.
            let other = try lab.probe(from: "client-pod", to: "10.96.0.61", port: 80, count: 5, timeoutMs: 1000)
            #expect(other.answered == 5, "the second client was starved: \(other)")
        }
    }

    @Test("with both limits, a client flooding past its own limit leaves the Service-wide allowance to others")
    func perClientBeforeServiceWide() async throws {
        try await ServiceLabTests.withServiceLab { lab in
            // lab/both-limits: 1/minute burst 5 for the Service, 1/minute burst 2 per client. The
            // flood may spend only the 2 tokens its own limit admits; the second client needs 2 more.
            let flood = try lab.probe(from: "outside", to: ServiceLabTests.nodeV4, port: 30062, count: 60, timeoutMs: 250)
            #expect(flood.refused > 0, "the flood must hit the limit: \(flood)")
            let other = try lab.probe(from: "client-pod", to: "10.96.0.62", port: 80, count: 2, timeoutMs: 1000)
            #expect(other.answered == 2, "the flood emptied the Service-wide bucket: \(other)")
        }
    }
}

/// What `trace` shows for rate-limited Services: the connection passes (a traced connection is the
/// first one on an idle host) and a note names the limit that applies.
@Suite("Rate limits in trace")
struct RateLimitTraceTests {
    @Test("trace names the Service-wide and the per-client limit")
    func traceShowsLimits() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "lab-services" })
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        let client = TraceEndpoint.pod(namespace: "lab", name: "client-pod")
        let limited = try Review.trace(TraceQuery(from: client, to: .service(namespace: "lab", name: "limited"), port: 80, transport: .tcp),
                                       in: result).result
        #expect(limited.verdict == .accept, "\(limited)")
        #expect(limited.paths.allSatisfy { $0.notes.contains { $0.contains("rate limit limit rate over 10/second burst 5 packets") } },
                "\(limited.paths.map(\.notes))")
        let perClient = try Review.trace(TraceQuery(from: client, to: .service(namespace: "lab", name: "per-client"), port: 80, transport: .tcp),
                                         in: result).result
        #expect(perClient.paths.allSatisfy { $0.notes.contains { $0.contains("per-client rate limit") && $0.contains("10/second") } },
                "\(perClient.paths.map(\.notes))")
        let both = try Review.trace(TraceQuery(from: client, to: .service(namespace: "lab", name: "both-limits"), port: 80, transport: .tcp),
                                    in: result).result
        for path in both.paths {
            let perClientNote = path.notes.firstIndex { $0.contains("per-client rate limit") }
            let serviceNote = path.notes.firstIndex { $0.contains("rate limit limit rate over 1/minute burst 5") }
            #expect(perClientNote != nil && serviceNote != nil && perClientNote! < serviceNote!,
                    "the per-client limit must come before the Service-wide one: \(path.notes)")
        }
        let unlimited = try Review.trace(TraceQuery(from: client, to: .service(namespace: "lab", name: "web"), port: 80, transport: .tcp),
                                         in: result).result
        #expect(unlimited.paths.allSatisfy { !$0.notes.contains { $0.contains("rate limit") } })
    }
}

/// The kernel's `limit` keeps `(unit in ns / rate) × burst` in 64 bits and refuses a rule whose
/// bucket overflows (EOVERFLOW): compile must refuse exactly those values as input errors instead
/// of producing a ruleset the kernel rejects. 213503 is the largest burst the kernel takes at 1/day.
@Suite("Rate-limit bursts at the kernel's bound", .enabled(if: Environment.labTestsEnabled))
struct RateLimitBoundTests {
    static func compile(_ value: String) throws -> PipelineResult {
        let path = NSTemporaryDirectory() + "kubenft-burst-\(UInt32.random(in: 0...UInt32.max)).yaml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let yaml = """
            apiVersion: v1
            kind: Service
            metadata:
              name: slow
              namespace: shop
              annotations:
                kubenft.io/rate-limit: "\(value)"
                kubenft.io/rate-limit-per-client: "\(value)"
            spec:
              clusterIP: 10.96.0.200
              ports:
              - {name: http, port: 80, protocol: TCP}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: slow-v4
              namespace: shop
              labels: {kubernetes.io/service-name: slow}
            addressType: IPv4
            endpoints:
            - addresses: ["10.244.1.5"]
              conditions: {ready: true}
            ports:
            - {name: http, port: 80, protocol: TCP}

            """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return Pipeline.run(paths: [path], node: NodeOptions(nodeName: "node-1", clusterCIDRs: ["10.244.0.0/16"]))
    }

    @Test("the kernel loads the largest burst at 1/day, and one more is an input error")
    func burstBound() throws {
        let largest = try Self.compile("1/day burst 213503")
        let ruleset = try #require(largest.ruleset, "\(largest.errors)")
        let listed = try Kernel.loadAndList(Pipeline.render(ruleset, format: .nft))
        #expect(listed.contains("burst 213503 packets"), "\(listed)")
        let over = try Self.compile("1/day burst 213504")
        #expect(over.ruleset == nil)
        #expect(over.errors.count == 2 && over.errors.allSatisfy { $0.description.contains("overflows the kernel's token bucket") },
                "\(over.errors)")
    }
}
