import Foundation
import IPTablesRuleset
import KubeNFT
import LabKit
import NFTRuleset
import NetAddress
import Testing

/// The iptables translation's guarantees that the goldens alone do not show: exact cascade
/// probabilities, loud refusal of what has no iptables form, and `apply` / `verify` / `delete
/// --backend` against real iptables state in a throwaway namespace.
@Suite("iptables backend")
struct IPTablesBackendTests {
    /// Every `numgen random mod M < T` rule of every golden case appears in the iptables form, under
    /// the same comment, with probability T/M (read back from the text as a number).
    @Test("cascade probabilities are the IR's thresholds", arguments: Fixtures.valid)
    func probabilities(_ fixture: FixtureCase) throws {
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict, shape: .cascade)
        let ruleset = try #require(result.ruleset)
        let text = try Pipeline.renderIPTables(ruleset, family: .v4) + (try Pipeline.renderIPTables(ruleset, family: .v6))
        var byComment: [String: [Double]] = [:]
        for line in text.split(separator: "\n") where line.contains("--probability ") {
            let comment = try #require(line.split(separator: "\"").dropFirst().first)
            let value = try #require(Double(line.split(separator: " ").drop { $0 != "--probability" }.dropFirst().first ?? ""))
            byComment[String(comment), default: []].append(value)
        }
        for chain in ruleset.chains {
            for rule in chain.rules {
                for case .match(.randomNumber(let modulus, 0), .lessThan, .value(.integer(let threshold))) in rule.statements {
                    let comment = try #require(rule.comment)
                    let found = byComment[NFTQuoting.comment(comment)] ?? []
                    #expect(found.contains { abs($0 - Double(threshold) / Double(modulus)) < 1e-12 },
                            "\(fixture.name) \(chain.name): \(comment) wants \(threshold)/\(modulus), iptables has \(found)")
                }
            }
        }
    }

    static func ruleset(_ extra: [Chain], sets: [NamedSet] = []) -> Ruleset {
        Ruleset(sets: sets, chains: [Chain(name: "nat-prerouting", hook: .init(type: .nat, point: .prerouting, priority: -100),
                                           rules: [Rule([.verdict(.jump("work"))])])] + extra)
    }

    @Test("a statement without an iptables form stops the compile, naming chain and rule")
    func refusesWhatItCannotExpress() throws {
        let lookup = Self.ruleset([Chain(name: "work", rules: [
            Rule([.dnat(.v4, .lookup(.mapLookup(key: .payload(.ipDaddr), map: "backends")))], comment: "ns/svc:http"),
        ])])
        #expect {
            _ = try IPTablesEmitter().emit(lookup, family: .v4)
        } throws: { error in
            let text = "\(error)"
            return text.contains("work") && text.contains("ns/svc:http") && text.contains("data map")
        }
        let acceptEarly = Ruleset(chains: [
            Chain(name: "early", hook: .init(type: .filter, point: .forward, priority: -10), rules: [Rule([.verdict(.accept)], comment: "ns/p")]),
            Chain(name: "late", hook: .init(type: .filter, point: .forward, priority: 0), rules: [Rule([.verdict(.drop)])]),
        ])
        #expect(throws: IPTablesTranslationError.self) { _ = try IPTablesEmitter().emit(acceptEarly, family: .v4) }
    }

    @Test("a drop in the nat table becomes a mark the filter table drops")
    func natDropBecomesMark() throws {
        let ruleset = Self.ruleset([
            Chain(name: "work", rules: [Rule([.match(.payload(.ipSaddr), .equal, .value(.prefix(CIDR("192.0.2.0/24")!))), .verdict(.drop)], comment: "ns/lb")]),
            Chain(name: "filter-forward", hook: .init(type: .filter, point: .forward, priority: -110), rules: []),
        ])
        let text = try IPTablesEmitter().emit(ruleset, family: .v4)
        let nat = text.components(separatedBy: "*filter")[0], filter = text.components(separatedBy: "*filter")[1]
        #expect(!nat.contains("-j DROP"))
        #expect(nat.contains("-s 192.0.2.0/24 -m comment --comment \"ns/lb\" -j MARK --or-mark 0x8000"))
        #expect(nat.contains("-m comment --comment \"ns/lb\" -m mark --mark 0x8000/0x8000 -j ACCEPT"))
        #expect(filter.contains("-A KUBENFT-FORWARD -m comment --comment \"kubenft drop: dropped by a chain of the nat table\" -m mark --mark 0x8000/0x8000 -j DROP"))
    }

    @Test("a rate limit becomes one hashlimit match, evaluated once, and its nat reject a mark the filter table rejects")
    func rateLimitBecomesHashlimit() throws {
        let limit = RateLimit(rate: 200, unit: .second, burst: 50)
        let ruleset = Self.ruleset([
            Chain(name: "work", rules: [
                Rule([.limitOver(limit), .reject(.default)], comment: "ns/web:http rate limit"),
                Rule([.updateSetLimitOver(name: "rl4-web", key: .payload(.ipSaddr), limit: RateLimit(rate: 20, unit: .minute, burst: 5)),
                      .verdict(.drop)], comment: "ns/web:http per-client rate limit"),
            ]),
            Chain(name: "filter-forward", hook: .init(type: .filter, point: .forward, priority: -110), rules: []),
        ], sets: [NamedSet(name: "rl4-web", key: [.ipv4Address], flags: [.dynamic, .timeout], timeout: 120)])
        let text = try IPTablesEmitter().emit(ruleset, family: .v4)
        let nat = text.components(separatedBy: "*filter")[0], filter = text.components(separatedBy: "*filter")[1]
        let service = nat.split(separator: "\n").filter { $0.contains("ns/web:http rate limit") }
        #expect(service.count == 2 && service.filter { $0.contains("-m hashlimit") }.count == 1, "\(service)")
        #expect(service.first?.contains("--hashlimit-above 200/second --hashlimit-burst 50 --hashlimit-name kn") == true, "\(service)")
        let client = nat.split(separator: "\n").filter { $0.contains("per-client rate limit") }
        #expect(client.first?.contains("--hashlimit-above 20/minute --hashlimit-burst 5 --hashlimit-mode srcip") == true, "\(client)")
        #expect(client.first?.contains("--hashlimit-htable-expire 120000") == true, "\(client)")
        #expect(!nat.contains("-j REJECT") && !nat.contains("-j DROP"))
        #expect(filter.contains("kubenft reject: rejected by a chain of the nat table"))
    }

    @Test("compile --format iptables warns that -m recent bounds affinity, and --strict refuses it")
    func affinityLimitIsNamed() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "lab-services" })
        let lenient = try CLITests.run(["compile", "-f", fixture.manifests, "--format", "iptables"] + fixture.arguments)
        #expect(lenient.status == 0 && lenient.stderr.contains("warning: ClientIP affinity"), "\(lenient.stderr)")
        let strict = try CLITests.run(["compile", "-f", fixture.manifests, "--format", "iptables", "--strict"] + fixture.arguments)
        #expect(strict.status == 2 && strict.stdout.isEmpty && strict.stderr.contains("error: ClientIP affinity"), "\(strict.stderr)")
        let plain = try #require(Fixtures.valid.first { $0.name == "nodeport" })
        let quiet = try CLITests.run(["compile", "-f", plain.manifests, "--format", "iptables"] + plain.arguments)
        #expect(quiet.status == 0 && !quiet.stderr.contains("affinity"), "\(quiet.stderr)")
    }

    @Test("apply, verify and delete --backend iptables-nft / iptables-legacy in a namespace",
          .enabled(if: Environment.labTestsEnabled), arguments: IPTablesBackend.allCases)
    func applyVerifyDelete(_ backend: IPTablesBackend) throws {
        guard try IPTablesTools.available() else { return }
        let first = try #require(Fixtures.valid.first { $0.name == "lab-services" })
        let second = try #require(Fixtures.valid.first { $0.name == "nodeport" })
        try Kernel.withNamespace { namespace in
            let common = ["--backend", backend.description, "--netns", namespace]
            let apply = { (fixture: FixtureCase) in try CLITests.run(["apply", "-f", fixture.manifests] + fixture.arguments + common) }
            let verify = { (fixture: FixtureCase) in try CLITests.run(["verify", "-f", fixture.manifests] + fixture.arguments + common) }
            for _ in 0..<2 {
                let applied = try apply(first)
                #expect(applied.status == 0, "\(applied.stderr)")
            }
            let saved = try backend.save(.v4, in: namespace)
            #expect(saved.components(separatedBy: "kubenft hook").count - 1 == 6, "one hook per built-in chain after two applies:\n\(saved)")
            #expect(try verify(first).status == 0)
            _ = try Command.output(["ip", "netns", "exec", namespace, backend.tool(.v4, "restore").replacingOccurrences(of: "-restore", with: ""),
                                    "-t", "nat", "-A", "KUBENFT-SERVICES", "-j", "ACCEPT"])
            let drifted = try verify(first)
            #expect(drifted.status == 1 && drifted.stdout.contains("KUBENFT-SERVICES"), "\(drifted)")
            #expect(try apply(second).status == 0)
            #expect(try verify(second).status == 0)
            let deleted = try CLITests.run(["delete"] + common)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            for family in IPFamily.allCases {
                #expect(!(try backend.save(family, in: namespace)).contains("KUBENFT"), "\(family) chains left after delete")
            }
            #expect(try verify(second).status == 1)
        }
    }
}
