import Foundation
import KubeNFT
import LabKit
import Testing

/// `--counters` and `--log-drops` with real packets: the `counters-log-drops` fixture (the
/// admin-policies cluster and a Service without endpoints) applied with `kubenft apply` into a lab
/// node with the nine np-model pods; connections the policies refuse are made, and `kubenft stats`
/// must show each one in exactly the counter of the policy (or Service) that refused it, and
/// `kubenft stats --follow` must print a log line naming that policy.
///
/// Which rule refuses which connection is read from the policies (fixtures/admin-policies/README.md),
/// never from the compiled ruleset.
@Suite("Drop counters and drop logging with real packets", .enabled(if: Environment.labTestsEnabled), .serialized)
struct DropCounterLabTests {
    /// One refused connection kind and the counter the policies make responsible for it.
    struct Refusal: Sendable, CustomStringConvertible {
        var from: String
        var to: String
        var port: Int
        var proto: LabProtocol
        var counter: String
        var description: String { "\(from) -> \(to) \(proto.rawValue)/\(port)" }
    }

    static let refusals: [Refusal] = [
        // deny-all-to-x denies every namespace into x; pass-y only passes y.
        Refusal(from: "z/a", to: "10.244.1.11", port: 80, proto: .udp, counter: "anp-deny-in-deny-all-to-x/deny-everyone"),
        // Nothing admin applies to y's ingress; y/allow-from-x-in-y isolates y and allows only x.
        Refusal(from: "z/a", to: "10.244.1.21", port: 80, proto: .udp, counter: "np-drop-in-y/allow-from-x-in-y"),
        // No NetworkPolicy isolates z; the baseline denies every pod's ingress.
        Refusal(from: "y/a", to: "10.244.1.32", port: 81, proto: .udp, counter: "banp-deny-in-default/deny-all-pods"),
        // x-not-to-z-web denies x's egress to z's addresses on TCP 80.
        Refusal(from: "x/a", to: "10.244.1.31", port: 80, proto: .tcp, counter: "anp-deny-out-x-not-to-z-web/deny-z-tcp-80"),
        // x/unserved has no endpoints: its ClusterIP port rejects.
        Refusal(from: "y/a", to: "10.96.7.7", port: 80, proto: .tcp, counter: "svc-reject-x/unserved/tcp/http"),
    ]

    /// Bytes of one probe datagram over IPv4 as the forward hook counts it: IPv4 header (20), UDP
    /// header (8) and the agent's payload `probe\n` (6).
    static let probeDatagramBytes: UInt64 = 20 + 8 + 6

    static func fixture() throws -> FixtureCase { try #require(Fixtures.valid.first { $0.name == "counters-log-drops" }) }

    /// `kubenft stats --format json` as counter name → (packets, bytes).
    static func stats(_ netns: String) throws -> [String: (packets: UInt64, bytes: UInt64)] {
        let result = try CLITests.run(["stats", "--netns", netns, "--format", "json"])
        guard result.status == 0 else { throw Kernel.Failure(description: "stats failed: \(result.stderr)") }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let counters = try #require(object?["counters"] as? [[String: Any]], "\(result.stdout)")
        var values: [String: (packets: UInt64, bytes: UInt64)] = [:]
        for counter in counters {
            let name = try #require(counter["counter"] as? String)
            let packets = try #require((counter["packets"] as? NSNumber)?.uint64Value)
            let bytes = try #require((counter["bytes"] as? NSNumber)?.uint64Value)
            values[name] = (packets, bytes)
        }
        return values
    }

    static func withAppliedLab(_ tag: String, _ body: (Lab, String) throws -> Void) async throws {
        let fixture = try fixture()
        try await withLab(tag: tag) { lab in
            try NetworkPolicyLabTests.buildModel(lab, sctp: false)
            let netns = try #require(lab.namespaceName(of: Lab.node))
            let applied = try CLITests.run(["apply", "-f", fixture.manifests, "--netns", netns] + fixture.arguments)
            #expect(applied.status == 0, "\(applied.stderr)")
            try body(lab, netns)
        }
    }

    @Test("each refused connection counts in exactly the counter of the policy or Service that refused it")
    func countersAttributeDrops() async throws {
        try await Self.withAppliedLab("counters") { lab, netns in
            var before = try Self.stats(netns)
            #expect(Set(before.keys).isSuperset(of: Self.refusals.map(\.counter)), "\(before.keys.sorted())")
            #expect(before.values.allSatisfy { $0.packets == 0 }, "fresh counters must be zero")
            let attempts = 3
            for refusal in Self.refusals {
                let probe = try lab.probe(from: refusal.from, to: refusal.to, port: refusal.port, proto: refusal.proto,
                                          count: attempts, timeoutMs: 400)
                #expect(probe.answered == 0, "\(refusal) must be refused: \(probe)")
                let after = try Self.stats(netns)
                let changed = after.keys.filter { after[$0]?.packets != before[$0]?.packets }.sorted()
                #expect(changed == [refusal.counter], "\(refusal): counters that moved: \(changed)")
                let added = (after[refusal.counter]?.packets ?? 0) - (before[refusal.counter]?.packets ?? 0)
                // One packet per attempt: a datagram, or a SYN (no retransmission within 400 ms).
                #expect(added == UInt64(attempts), "\(refusal): \(added) packets counted for \(attempts) attempts")
                if refusal.proto == .udp {
                    let bytes = (after[refusal.counter]?.bytes ?? 0) - (before[refusal.counter]?.bytes ?? 0)
                    #expect(bytes == UInt64(attempts) * Self.probeDatagramBytes, "\(refusal): \(bytes) bytes")
                }
                before = after
            }
            // Counter values are state, not configuration: the table still verifies.
            let fixture = try Self.fixture()
            let verify = try CLITests.run(["verify", "-f", fixture.manifests, "--netns", netns] + fixture.arguments)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        }
    }

    @Test("connections over a Service's rate limit count in its svc-limit counter and nowhere else")
    func rateLimitCounted() async throws {
        try await Self.withAppliedLab("limitcount") { lab, netns in
            let counter = "svc-limit-y/limited/tcp/http"
            let before = try Self.stats(netns)
            #expect(before[counter]?.packets == 0, "\(before.keys.sorted())")
            // y/limited: 1/minute burst 1, reject; x may reach y (allow-from-x-in-y).
            let probe = try lab.probe(from: "x/a", to: "10.96.7.8", port: 80, count: 4, timeoutMs: 400)
            #expect(probe.answered == 1 && probe.refused == 3, "\(probe)")
            let after = try Self.stats(netns)
            let changed = after.keys.filter { after[$0]?.packets != before[$0]?.packets }.sorted()
            #expect(changed == [counter], "counters that moved: \(changed)")
            #expect(after[counter]?.packets == UInt64(probe.refused), "\(after[counter].map { "\($0)" } ?? "missing")")
        }
    }

    @Test("a dropped connection's log line, read from the nflog group by stats --follow, names the policy")
    func logNamesPolicy() async throws {
        try await Self.withAppliedLab("logdrops") { lab, netns in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try CLITests.binary())
            process.arguments = ["stats", "--netns", netns, "--follow", "--log-group", "7", "--count", "1", "--format", "json"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.standardError
            try process.run()
            // SIGKILL: the test runner's threads may block SIGTERM, which the child then inherits.
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            // The listener binds its group right after starting: probe until it has printed a line.
            var tries = 0
            while process.isRunning && tries < 20 {
                _ = try lab.probe(from: "z/a", to: "10.244.1.21", port: 80, proto: .udp, count: 1, timeoutMs: 300)
                tries += 1
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let line = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
            #expect(line["prefix"] as? String == "kubenft np-drop-in-y/allow-from-x-in-y ", "\(text)")
            #expect(line["source"] as? String == "10.244.1.31" && line["destination"] as? String == "10.244.1.21", "\(text)")
            #expect(line["protocol"] as? String == "udp" && line["destinationPort"] as? Int == 80, "\(text)")
        }
    }
}
