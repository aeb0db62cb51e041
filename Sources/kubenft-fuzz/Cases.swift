import Foundation

/// One input the harness runs: manifest files, node flags (`@DIR@` stands for the directory the
/// case is written to), extra files such as a KubeProxyConfiguration, and what must happen.
struct FuzzCase: Sendable {
    enum Expectation: Sendable {
        /// Only the generic oracles apply.
        case anyOutcome
        /// The API server would refuse this input: kubenft must exit 2.
        case mustReject(String)
        /// A generated cluster: kubenft's matrix must agree with the reference model.
        case matrix(PolicyWorld)
    }

    var origin: String
    var log: [String] = []
    var manifests: [(name: String, text: String)]
    var flags: [String] = []
    var extraFiles: [(name: String, text: String)] = []
    var expectation: Expectation = .anyOutcome
    /// Seconds kubenft gets per command before it counts as a hang.
    var timeout: Double = 20
}

/// A seed from the corpus: a directory of manifests with an optional `case.args` (node flags, as
/// golden fixtures keep them) and an optional `expect-reject` file (the reason the API server
/// would refuse it).
struct Seed: Sendable {
    var name: String
    var files: [(name: String, text: String)]
    var flags: [String]
    var rejectReason: String?
    var documents: [[Value]]

    static func load(corpus roots: [String]) -> [Seed] {
        var seeds: [Seed] = []
        let manager = FileManager.default
        for root in roots {
            guard let entries = try? manager.contentsOfDirectory(atPath: root) else { continue }
            for entry in entries.sorted() {
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: root + "/" + entry, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                if let seed = Seed(directory: root + "/" + entry, name: entry) { seeds.append(seed) }
            }
        }
        return seeds
    }

    init?(directory: String, name: String) {
        let manager = FileManager.default
        let manifestRoot = manager.fileExists(atPath: directory + "/manifests") ? directory + "/manifests" : directory
        var files: [(String, String)] = []
        let listing = (manager.enumerator(atPath: manifestRoot)?.allObjects as? [String] ?? []).sorted()
        for path in listing where [".yaml", ".yml", ".json"].contains(where: { path.hasSuffix($0) }) {
            guard let data = manager.contents(atPath: manifestRoot + "/" + path) else { continue }
            files.append((path, String(decoding: data, as: UTF8.self)))
        }
        guard !files.isEmpty else { return nil }
        self.name = name
        self.files = files
        let args = (try? String(contentsOfFile: directory + "/case.args", encoding: .utf8)) ?? ""
        flags = Seed.flags(args, directory: directory)
        rejectReason = (try? String(contentsOfFile: directory + "/expect-reject", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        documents = files.map { (try? YAMLParse.documents($0.1)) ?? [] }
    }

    /// `case.args` words as `--flag=value`, with `--config` made absolute.
    private static func flags(_ text: String, directory: String) -> [String] {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        var out: [String] = []
        var index = 0
        while index < words.count {
            if index + 1 < words.count, words[index].hasPrefix("--"), !words[index].contains("="), words[index] != "--strict" {
                let value = words[index] == "--config" ? directory + "/" + words[index + 1] : words[index + 1]
                out.append(words[index] + "=" + value)
                index += 2
            } else {
                out.append(words[index])
                index += 1
            }
        }
        return out
    }

    /// The seed run as it is.
    var asCase: FuzzCase {
        FuzzCase(origin: "seed \(name)", manifests: files, flags: flags,
                 expectation: rejectReason.map { .mustReject($0) } ?? .anyOutcome)
    }
}
