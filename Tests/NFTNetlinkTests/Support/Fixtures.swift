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

    var nodeOptions: NodeOptions {
        var options = NodeOptions()
        var index = 0
        while index + 1 < arguments.count {
            let value = arguments[index + 1]
            switch arguments[index] {
            case "--node-name": options.nodeName = value
            case "--node-ip": options.nodeIPs.append(value)
            case "--cluster-cidr": options.clusterCIDRs.append(value)
            case "--config": options.configPath = directory + "/" + value
            default: break
            }
            index += 2
        }
        return options
    }

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
