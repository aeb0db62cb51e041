import Foundation
import KubeNFT
import NFTRuleset
import Testing

/// A golden case under fixtures/ with an expected ruleset.
struct GoldenCase: Sendable, CustomTestStringConvertible {
    var name: String
    var directory: String
    var arguments: [String]

    var testDescription: String { name }
    var expectedText: String { (try? String(contentsOfFile: directory + "/expected.nft", encoding: .utf8)) ?? "" }

    var nodeOptions: NodeOptions { NodeOptions(arguments: arguments, relativeTo: directory) }

    /// The compiled ruleset of the case.
    func compile() throws -> Ruleset {
        let result = Pipeline.run(paths: [directory + "/manifests"], node: nodeOptions)
        guard let ruleset = result.ruleset else {
            throw Namespaces.Failure(description: "\(name) does not compile: \(result.errors.map(\.description))")
        }
        return ruleset
    }
}

enum GoldenCases {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path + "/fixtures"
    }()

    static let all: [GoldenCase] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap { name in
            let directory = root + "/" + name
            guard FileManager.default.fileExists(atPath: directory + "/expected.nft") else { return nil }
            let args = (try? String(contentsOfFile: directory + "/case.args", encoding: .utf8)) ?? ""
            return GoldenCase(name: name, directory: directory, arguments: args.split(whereSeparator: \.isWhitespace).map(String.init))
        }
    }()

    static func named(_ name: String) -> GoldenCase? { all.first { $0.name == name } }
}
