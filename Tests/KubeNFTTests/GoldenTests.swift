import Foundation
import KubeNFT
import LabKit
import Testing

/// Golden cases: every fixture's compiled ruleset (text and JSON) or its diagnostics must match the
/// committed files. Regenerate with `KUBENFT_RECORD=1 swift test --filter Golden` and read the diff.
@Suite("Golden rulesets")
struct GoldenTests {
    @Test("compiled output matches the golden files", arguments: Fixtures.valid)
    func goldenOutput(_ fixture: FixtureCase) throws {
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict)
        #expect(result.errors.isEmpty, "unexpected errors:\n\(result.errors.map(\.description).joined(separator: "\n"))")
        let ruleset = try #require(result.ruleset)
        // JSON (nft 1.0.6) cannot express backend maps: `compile --format json` uses the cascade shape.
        let cascade = try #require(Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict,
                                                shape: .cascade).ruleset)
        for (format, file, shaped) in [(OutputFormat.nft, "expected.nft", ruleset), (.json, "expected.json", cascade)] {
            let outcome = Fixtures.compare(Pipeline.render(shaped, format: format), golden: fixture.file(file))
            switch outcome {
            case .matches: break
            case .recorded: Issue.record("recorded \(fixture.name)/\(file); run again without \(Fixtures.recordVariable)")
            case .differs(let difference): Issue.record("\(fixture.name)/\(file) differs at \(difference)")
            }
        }
        let warnings = result.warnings.map { fixture.relative($0.description) }.joined(separator: "\n")
        let warningsFile = fixture.file("expected.warnings")
        if !warnings.isEmpty || FileManager.default.fileExists(atPath: warningsFile) {
            if case .differs(let difference) = Fixtures.compare(warnings + "\n", golden: warningsFile) {
                Issue.record("\(fixture.name)/expected.warnings differs at \(difference)")
            }
        }
    }

    @Test("bad input is reported with file, line, object and field", arguments: Fixtures.invalid)
    func goldenErrors(_ fixture: FixtureCase) throws {
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict)
        #expect(result.ruleset == nil, "a case with errors must not produce a ruleset")
        let actual = result.errors.map { fixture.relative($0.description) }.joined(separator: "\n") + "\n"
        let expected = try String(contentsOfFile: fixture.file("expect-error"), encoding: .utf8)
        #expect(actual == expected)
    }

    @Test("every golden ruleset loads in the kernel, text and JSON alike",
          .enabled(if: Environment.labTestsEnabled), arguments: Fixtures.valid)
    func goldenLoadsInKernel(_ fixture: FixtureCase) throws {
        let text = try String(contentsOfFile: fixture.file("expected.nft"), encoding: .utf8)
        let json = try String(contentsOfFile: fixture.file("expected.json"), encoding: .utf8)
        let fromText = try Kernel.loadAndList(text)
        #expect(fromText.contains("table inet kubenft"))
        let fromJSON = try Kernel.loadAndList(json, json: true)
        #expect(fromJSON.contains("table inet kubenft"))
        // Listings agree where the shapes do: when no Service uses backend maps (behaviour is compared
        // by tracing both shapes in ServiceShapeTests).
        if !text.contains("-addresses {") {
            #expect(Kernel.withoutObjectComments(fromText) == Kernel.withoutObjectComments(fromJSON))
        }
    }

    @Test("loading the text again replaces the table and leaves other tables alone",
          .enabled(if: Environment.labTestsEnabled))
    func reloadIsIdempotent() throws {
        let demo = try #require(Fixtures.valid.first { $0.name == "demo" })
        let other = try #require(Fixtures.valid.first { $0.name == "nodeport" })
        let text = try String(contentsOfFile: demo.file("expected.nft"), encoding: .utf8)
        let otherText = try String(contentsOfFile: other.file("expected.nft"), encoding: .utf8)
        let foreign = "table ip other {\n\tchain c {\n\t\ttype filter hook input priority 0; policy accept;\n\t\tcounter\n\t}\n}\n"
        try Kernel.withNamespace { namespace in
            try Kernel.load(foreign, in: namespace)
            try Kernel.load(text, in: namespace)
            let once = try Kernel.list(in: namespace)
            try Kernel.load(otherText, in: namespace)
            try Kernel.load(text, in: namespace)
            let again = try Kernel.list(in: namespace)
            #expect(once == again, "reloading after another ruleset must give the same table")
            #expect(again.contains("table ip other"))
            #expect(again.components(separatedBy: "table inet kubenft").count == 2, "exactly one kubenft table")
        }
    }
}
