import Foundation
import KubeManifest
import KubeNFT
import LabKit
import Testing

/// The `kubenft` binary as users run it: exit statuses, stdout and stderr, and atomic `-o`.
@Suite("kubenft command line")
struct CLITests {
    /// The `kubenft` executable built beside the test bundle.
    static func binary() throws -> String {
        try AgentLocator.builtProduct("kubenft")
    }

    static func run(_ arguments: [String], stdin: String? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try Command.run([try binary()] + arguments, stdin: stdin)
        return (result.status, result.stdout, result.stderr)
    }

    static func fixture(_ name: String) throws -> FixtureCase {
        try #require(Fixtures.all.first { $0.name == name })
    }

    @Test("compile prints the golden ruleset and exits 0")
    func compileDemo() throws {
        let demo = try Self.fixture("demo")
        let result = try Self.run(["compile", "-f", demo.manifests] + demo.arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (try String(contentsOfFile: demo.file("expected.nft"), encoding: .utf8)))
    }

    @Test("apply names addresses derived from declared workloads, and --strict refuses them before any kernel access")
    func applyDerivedAddresses() throws {
        let shop = try Self.fixture("repo-shop")
        let namespace = "kn-never-created-\(UInt32.random(in: 0...UInt32.max))"
        let strict = try Self.run(["apply", "-f", shop.manifests, "--netns", namespace, "--strict"] + shop.arguments)
        #expect(strict.status == 2)
        #expect(strict.stderr.contains("derived from declared workloads") && strict.stderr.contains("refusing under --strict"), "\(strict.stderr)")
        #expect(!strict.stderr.contains(namespace), "the namespace was used: \(strict.stderr)")
        let lenient = try Self.run(["apply", "-f", shop.manifests, "--netns", namespace, "--dry-run"] + shop.arguments)
        #expect(lenient.stderr.contains("warning:") && lenient.stderr.contains("made-up addresses"), "\(lenient.stderr)")
    }

    @Test("bad input exits 2, prints every error to stderr and nothing to stdout or -o")
    func badInput() throws {
        let bad = try Self.fixture("bad-ip")
        let outputPath = NSTemporaryDirectory() + "kubenft-cli-\(UInt32.random(in: 0...UInt32.max)).nft"
        let result = try Self.run(["compile", "-f", bad.manifests, "-o", outputPath] + bad.arguments)
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        let expected = try String(contentsOfFile: bad.file("expect-error"), encoding: .utf8)
        for line in expected.split(separator: "\n") {
            #expect(result.stderr.contains(bad.directory + "/" + line), "missing: \(line)")
        }
        #expect(!FileManager.default.fileExists(atPath: outputPath))
    }

    @Test("-o writes the file; stdin and JSON work; a bad flag value exits 2")
    func outputStdinAndFlags() throws {
        let demo = try Self.fixture("nodeport")
        let outputPath = NSTemporaryDirectory() + "kubenft-cli-\(UInt32.random(in: 0...UInt32.max)).json"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let written = try Self.run(["compile", "-f", demo.manifests, "--format", "json", "-o", outputPath] + demo.arguments)
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        #expect((try String(contentsOfFile: outputPath, encoding: .utf8)) == (try String(contentsOfFile: demo.file("expected.json"), encoding: .utf8)))
        let files = try FileManager.default.contentsOfDirectory(atPath: demo.manifests).sorted()
        let joined = try files.map { try String(contentsOfFile: demo.manifests + "/" + $0, encoding: .utf8) }.joined(separator: "\n---\n")
        let piped = try Self.run(["compile", "-f", "-"] + demo.arguments, stdin: joined)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdout == (try String(contentsOfFile: demo.file("expected.nft"), encoding: .utf8)))
        let badFlag = try Self.run(["compile", "-f", demo.manifests, "--node-ip", "10.0.0.999"])
        #expect(badFlag.status == 2 && badFlag.stdout.isEmpty)
        #expect(badFlag.stderr.contains("--node-ip: invalid IP address \"10.0.0.999\""), "\(badFlag.stderr)")
    }

    @Test("the same objects in any order and any file split give byte-identical output", arguments: ["demo", "dual-stack", "weights"])
    func orderIndependence(_ name: String) throws {
        let fixture = try Self.fixture(name)
        let files = try FileManager.default.contentsOfDirectory(atPath: fixture.manifests).sorted()
        var documents: [String] = []
        for file in files {
            let text = try String(contentsOfFile: fixture.manifests + "/" + file, encoding: .utf8)
            documents += text.components(separatedBy: "\n---\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        }
        var generator = SeededGenerator(seed: 7)
        let shuffled = documents.shuffled(using: &generator).joined(separator: "\n---\n")
        let result = try Self.run(["compile", "-f", "-"] + fixture.arguments, stdin: shuffled)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (try String(contentsOfFile: fixture.file("expected.nft"), encoding: .utf8)))
    }

    @Test("diff exits 0 without changes, 1 with changes, and --fail-on picks which changes count")
    func diffExitStatus() throws {
        let base = Fixtures.root + "/diff/policy-added"
        let node = ["--node-name", "node-1", "--cluster-cidr", "10.244.0.0/16"]
        let same = try Self.run(["diff", "--from", base + "/before", "--to", base + "/before"] + node)
        #expect(same.status == 0 && same.stdout == "no changes\n", "\(same.stdout)\(same.stderr)")
        let changed = try Self.run(["diff", "--from", base + "/before", "--to", base + "/after"] + node)
        #expect(changed.status == 1)
        #expect(!changed.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
        let onlyAdded = try Self.run(["diff", "--from", base + "/before", "--to", base + "/after", "--fail-on", "added"] + node)
        #expect(onlyAdded.status == 0, "the change only blocks connections")
        let onlyRemoved = try Self.run(["diff", "--from", base + "/before", "--to", base + "/after", "--fail-on", "removed"] + node)
        #expect(onlyRemoved.status == 1)
        let broken = try Self.run(["diff", "--from", base + "/before", "--to", Fixtures.root + "/bad-ip/manifests"] + node)
        #expect(broken.status == 2 && broken.stdout.isEmpty)
    }
}
