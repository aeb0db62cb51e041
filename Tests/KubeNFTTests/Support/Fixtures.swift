import Foundation
import KubeNFT
import Testing

/// A golden case in `fixtures/<name>/`: manifests, node-context arguments, and either the expected
/// ruleset (`expected.nft`, `expected.json`) or the expected diagnostics (`expect-error`).
struct FixtureCase: Sendable, CustomTestStringConvertible {
    var name: String
    var directory: String
    var arguments: [String]

    var testDescription: String { name }
    var manifests: String { directory + "/manifests" }
    var expectsError: Bool { FileManager.default.fileExists(atPath: directory + "/expect-error") }
    /// `--strict` in `case.args`: unknown fields are errors.
    var strict: Bool { arguments.contains("--strict") }

    /// The case's `case.args`, turned into the node options the CLI would build.
    var nodeOptions: NodeOptions { NodeOptions(arguments: arguments, relativeTo: directory) }

    func file(_ name: String) -> String { directory + "/" + name }

    /// Diagnostics as the case directory would print them (paths relative to it).
    func relative(_ text: String) -> String { text.replacingOccurrences(of: directory + "/", with: "") }
}

/// Finds the golden cases and compares or records golden files.
enum Fixtures {
    /// The package root, derived from this file's location.
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let root = packageRoot + "/fixtures"

    /// Set to 1 to rewrite golden files from the current output (then read the diff before committing).
    static let recordVariable = "KUBENFT_RECORD"
    static var recording: Bool { ProcessInfo.processInfo.environment[recordVariable] == "1" }

    static let all: [FixtureCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap { name in
            let directory = root + "/" + name
            guard FileManager.default.fileExists(atPath: directory + "/manifests") else { return nil }
            let args = (try? String(contentsOfFile: directory + "/case.args", encoding: .utf8)) ?? ""
            return FixtureCase(name: name, directory: directory, arguments: args.split(whereSeparator: \.isWhitespace).map(String.init))
        }
    }()

    static var valid: [FixtureCase] { all.filter { !$0.expectsError } }
    static var invalid: [FixtureCase] { all.filter(\.expectsError) }

    enum Comparison: Equatable {
        case matches
        case recorded
        case differs(firstDifference: String)
    }

    /// Compares `actual` with the golden file, writing it only when recording: a missing golden is a
    /// difference, so nothing is written into the source tree unless asked.
    static func compare(_ actual: String, golden path: String) -> Comparison {
        let expected = try? String(contentsOfFile: path, encoding: .utf8)
        if recording {
            try? actual.write(toFile: path, atomically: true, encoding: .utf8)
            return .recorded
        }
        guard let expected else {
            return .differs(firstDifference: "\(path) is missing; record it with \(recordVariable)=1 and read it")
        }
        guard expected != actual else { return .matches }
        let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for index in 0..<max(expectedLines.count, actualLines.count) {
            let want = index < expectedLines.count ? String(expectedLines[index]) : "<end of file>"
            let got = index < actualLines.count ? String(actualLines[index]) : "<end of file>"
            if want != got { return .differs(firstDifference: "line \(index + 1):\n  expected: \(want)\n  actual:   \(got)") }
        }
        return .differs(firstDifference: "trailing bytes differ")
    }
}
