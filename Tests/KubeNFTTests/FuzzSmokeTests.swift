import Foundation
import LabKit
import Testing

/// A short, fixed-seed run of the fuzz harness (`kubenft-fuzz`): every seed of fixtures/fuzz/seeds
/// once, then generated cases, with nft -c checks in a throwaway namespace. Any finding fails the
/// test, so a hostile-input defect that comes back is caught by the ordinary suite.
@Suite("Fuzz harness smoke run", .enabled(if: Environment.labTestsEnabled))
struct FuzzSmokeTests {
    static let seed = "20261130"
    static let iterations = "50"

    @Test("a fixed-seed run finds nothing")
    func fixedSeedRun() throws {
        try Environment.ensureKernelLab()
        let kubenft = try CLITests.binary()
        let harness = URL(fileURLWithPath: kubenft).deletingLastPathComponent().appendingPathComponent("kubenft-fuzz").path
        try #require(FileManager.default.isExecutableFile(atPath: harness), "kubenft-fuzz not built at \(harness)")
        let out = NSTemporaryDirectory() + "kubenft-fuzz-smoke-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try Command.run(
            [harness, "--seed", Self.seed, "--iterations", Self.iterations, "--no-resource", "--kubenft", kubenft,
             "--corpus", Fixtures.root + "/fuzz/seeds", "--out", out],
            timeoutMs: 300_000)
        #expect(result.status == 0, """
            kubenft-fuzz exited \(result.status) (replay: scripts/fuzz.sh --seed \(Self.seed) --iterations \(Self.iterations)):
            \(result.stdout)\(result.stderr)
            """)
    }
}
