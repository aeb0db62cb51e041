@testable import KubeNFTCompiler
import KubeNFT
import KubeManifest
import NFTRuleset
import Testing

/// The arithmetic and naming under the Service compiler, checked against independent computations.
@Suite("Service compiler pieces")
struct ServiceCompilerUnitTests {
    static let here = SourceLocation(file: "test", line: 1, column: 1)

    static func backend(_ last: UInt8, labels: [String: String]? = nil) -> Backend {
        Backend(address: IPAddress(bytes: [10, 0, 0, last])!, port: 80, nodeName: nil,
                pod: ObjectReference(kind: "Pod", namespace: "ns", name: "p\(last)"), ready: true, serving: true, terminating: false)
    }

    /// The probability that the cascade picks rule i: it is reached with the product of the earlier
    /// rules' miss probabilities and taken with its own threshold (the last rule always takes it).
    static func effectiveProbabilities(_ thresholds: [Int?]) -> [Double] {
        var reach = 1.0
        return thresholds.map { threshold in
            let take = threshold.map { Double($0) / Double(ShareCalculator.modulus) } ?? 1.0
            defer { reach *= 1 - take }
            return reach * take
        }
    }

    @Test("the cascade gives every backend its share within one percentage point", arguments: 1...40)
    func cascadeMatchesShares(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        let count = Int.random(in: 1...30, using: &generator)
        let weights = (0..<count).map { _ in Double(Int.random(in: 1...100, using: &generator)) }
        let total = weights.reduce(0, +)
        let shares = weights.enumerated().map { WeightedBackend(backend: Self.backend(UInt8($0.offset)), share: $0.element / total) }
        let effective = Self.effectiveProbabilities(ShareCalculator.thresholds(shares))
        #expect(effective.count == shares.count)
        for (share, probability) in zip(shares, effective) {
            #expect(abs(share.share - probability) < 0.01, "share \(share.share) became \(probability)")
        }
        #expect(abs(effective.reduce(0, +) - 1) < 1e-9)
    }

    @Test("group weights are shared inside a group; empty groups give their weight away; ungrouped get nothing")
    func weightedShares() throws {
        let spec = try WeightSpec.parse("track=stable:90,track=canary:10,track=shadow:50").get()
        let stable = (1...3).map { Self.backend($0, labels: ["track": "stable"]) }
        let canary = Self.backend(4, labels: ["track": "canary"])
        let stray = Self.backend(5, labels: ["track": "debug"])
        let labels: [ObjectReference: [String: String]] = Dictionary(uniqueKeysWithValues: (stable + [canary, stray]).map {
            ($0.pod!, $0 == stray ? ["track": "debug"] : ($0 == canary ? ["track": "canary"] : ["track": "stable"]))
        })
        let result = ShareCalculator.shares(for: stable + [canary, stray], weights: spec) { labels[$0.pod!] }
        // shadow has no member, so 90:10 over the groups present: 30% per stable pod, 10% for the canary.
        let byAddress = Dictionary(uniqueKeysWithValues: result.shares.map { ($0.backend.address.bytes[3], $0.share) })
        #expect(abs((byAddress[1] ?? 0) - 0.3) < 1e-9)
        #expect(abs((byAddress[4] ?? 0) - 0.1) < 1e-9)
        #expect(byAddress[5] == nil)
        #expect(result.ungrouped == [stray])
    }

    @Test("invalid weight annotations are refused with a reason", arguments: [
        "track=stable:abc", "track=stable:0,track=canary:0", "track-canary:20", "=x:1", "a=b:1,a=b:2", "a=b:-5", "",
    ])
    func invalidWeights(_ text: String) {
        if case .success = WeightSpec.parse(text) { Issue.record("\"\(text)\" must be refused") }
    }

    @Test("derived identifiers are always safe, bounded and distinct", arguments: [
        ["ns", "name", "tcp", "http"], ["a-b", "c", "tcp", "80"], ["a", "b-c", "tcp", "80"], ["fw\"d", "x y", "tcp", "{}"],
        [String(repeating: "n", count: 300), "svc", "udp", "dns"], ["", "svc", "tcp", "80"], ["filter", "nat", "sctp", "accept"],
    ])
    func identifiers(_ components: [String]) {
        let name = Naming.identifier("svc4", components)
        #expect(name.utf8.count <= 200)
        #expect(name.hasPrefix("svc4-"))
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-./_")
        #expect(name.allSatisfy { allowed.contains($0) }, "\(name)")
    }

    @Test("compiling Services on two threads gives the same ruleset and diagnostics as one", arguments: ["demo", "weights", "dual-stack", "session-affinity"])
    func parallelCompileIsIdentical(_ name: String) throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == name })
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        let split = KubeNFTCompiler.compile(result.cluster, context: result.context, parallelServices: 2)
        let whole = KubeNFTCompiler.compile(result.cluster, context: result.context, parallelServices: Int.max)
        #expect(result.cluster.services.count >= 2)
        #expect(NFTTextEmitter().emit(split.ruleset) == NFTTextEmitter().emit(whole.ruleset))
        #expect(split.diagnostics == whole.diagnostics)
    }

    @Test("identifiers of different objects never collide")
    func identifiersAreDistinct() {
        let inputs = [["a-b", "c"], ["a", "b-c"], ["a/b", "c"], ["a", "b/c"], ["a_b", "c"], ["a b", "c"], ["A", "c"], ["a", "c"]]
        let names = inputs.map { Naming.identifier("svc4", $0) }
        #expect(Set(names).count == names.count, "\(names)")
    }
}

/// A small deterministic random generator (SplitMix64) so property tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
