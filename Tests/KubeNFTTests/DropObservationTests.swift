import Foundation
import KubeNFT
import NFTRuleset
import NFTTrace
import Testing

/// `--counters` and `--log-drops` without a kernel: option errors, the tracer, and that the
/// options change nothing else.
@Suite("Drop counters and logging, compiled")
struct DropObservationTests {
    static func fixture() throws -> FixtureCase { try #require(Fixtures.valid.first { $0.name == "counters-log-drops" }) }

    @Test("a bad --log-drops rate is an input error naming the option, and nothing is written")
    func badRate() throws {
        let fixture = try Self.fixture()
        for rate in ["fast", "0/second", "10/fortnight", "10/second burst"] {
            let result = try CLITests.run(["compile", "-f", fixture.manifests, "--log-drops=\(rate)"])
            #expect(result.status == 2, "\(rate): \(result.stderr)")
            #expect(result.stdout.isEmpty, "\(rate)")
            #expect(result.stderr.contains("<command line>:1:1") && result.stderr.contains("--log-drops"), "\(rate): \(result.stderr)")
        }
    }

    @Test("a bare --log-drops takes the default rate and does not swallow the next argument")
    func bareLogDrops() throws {
        let fixture = try Self.fixture()
        let result = try CLITests.run(["compile", "--log-drops", "-f", fixture.manifests, "--node-name", "node-1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("limit rate 10/second burst 5 packets log prefix \"kubenft np-drop-in-"), "default rate")
        #expect(result.stdout.contains(" group 100 "), "default group")
    }

    @Test("without --counters and --log-drops the ruleset is the one compiled before they existed")
    func offByDefault() throws {
        let fixture = try Self.fixture()
        var plain = fixture.nodeOptions
        plain.counters = false
        plain.logDrops = nil
        let with = try #require(Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions).ruleset)
        let without = try #require(Pipeline.run(paths: [fixture.manifests], node: plain).ruleset)
        #expect(without.counters.isEmpty)
        let text = Pipeline.render(without, format: .nft)
        #expect(!text.contains("counter") && !text.contains(" log ") && !text.contains("svc-reject"))
        // The observed ruleset is the plain one plus log rules and counter statements only.
        let stripped = with.chains.compactMap { chain -> Chain? in
            guard !chain.name.hasPrefix("svc-reject-") else { return nil }
            var copy = chain
            copy.rules = chain.rules.filter { !$0.statements.contains { if case .log = $0 { true } else { false } } }.map { rule in
                var rule = rule
                rule.statements.removeAll { if case .namedCounter = $0 { true } else { false } }
                return rule
            }
            return copy
        }
        #expect(stripped.map(\.name) == without.chains.map(\.name))
        #expect(stripped == without.chains, "only the counters and log rules may differ")
    }

    @Test("trace shows the log statement of a dropped connection and still drops it")
    func traceShowsLog() throws {
        let fixture = try Self.fixture()
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        let trace = try Review.trace(TraceQuery(from: .pod(namespace: "z", name: "a"), to: .pod(namespace: "y", name: "a"), port: 80,
                                                transport: .udp), in: result).result
        #expect(trace.verdict == .drop, "\(trace)")
        #expect(trace.paths.allSatisfy { $0.notes.contains { $0.contains("nflog group 7") && $0.contains("kubenft np-drop-in-y/allow-from-x-in-y") } },
                "\(trace.paths.map(\.notes))")
    }
}
