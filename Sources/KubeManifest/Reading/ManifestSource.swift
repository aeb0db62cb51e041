import Foundation

/// The raw bytes of one input, with the name diagnostics use for it. Loading works on sources
/// rather than paths so that tests, stdin and generated input all take the same route.
public struct ManifestSource: Sendable, Hashable {
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    /// The source read into a tree. JSON when the first non-blank byte opens an object or array
    /// (as kubectl sniffs JSON by its first non-space byte), YAML otherwise; but a source not named
    /// `.json` that is not valid JSON is read again as YAML, since a flow-style YAML document such
    /// as `{kind: Service, ...}` starts the same way. When both readers fail, the JSON reader's
    /// error is the one reported.
    func readTree() -> NodeTree {
        guard isJSON else { return YAMLReader.read(self) }
        let json = JSONReader.read(self)
        guard !json.diagnostics.isEmpty, !name.hasSuffix(".json") else { return json }
        let yaml = YAMLReader.read(self)
        return yaml.diagnostics.isEmpty ? yaml : json
    }

    /// JSON when the first non-blank byte opens an object or array; YAML otherwise.
    var isJSON: Bool {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"), 0xEF, 0xBB, 0xBF:
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                return true
            default:
                return false
            }
        }
        return false
    }
}

extension ManifestLoader {
    /// Expands command-line paths into sources: files as given, directories recursively (files
    /// ending `.yaml`, `.yml` or `.json`, hidden entries skipped, sorted by path), and `-` for
    /// standard input, named `<stdin>`. Throws every unreadable path at once.
    public static func sources(paths: [String]) throws -> [ManifestSource] {
        try sources(paths: paths, readStandardInput: { BoundedReader.read(descriptor: STDIN_FILENO, limit: $0) })
    }

    /// `sources(paths:)` with standard input supplied by the caller.
    static func sources(paths: [String], standardInput: () -> [UInt8]) throws -> [ManifestSource] {
        try sources(paths: paths, readStandardInput: { limit in
            let bytes = standardInput()
            return bytes.count > limit ? .failure(.tooLarge(limit: limit)) : .success(bytes)
        })
    }

    /// `sources(paths:)` with standard input read by the caller, at most `limit` bytes of it.
    static func sources(paths: [String], limit: Int = maximumSourceSize,
                        readStandardInput: (Int) -> Result<[UInt8], BoundedReader.Problem>) throws -> [ManifestSource] {
        var sources: [ManifestSource] = []
        var problems: [Diagnostic] = []
        for path in paths {
            if path == "-" {
                switch readStandardInput(limit) {
                case .success(let bytes): sources.append(ManifestSource(name: "<stdin>", bytes: bytes))
                case .failure(let problem): problems.append(pathProblem("<stdin>", problem.description))
                }
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                problems.append(pathProblem(path, "no such file or directory"))
                continue
            }
            let files = isDirectory.boolValue ? manifestFiles(under: path) : [path]
            for file in files {
                switch BoundedReader.read(path: file, limit: limit) {
                case .success(let bytes): sources.append(ManifestSource(name: file, bytes: bytes))
                case .failure(let problem): problems.append(pathProblem(file, problem.description))
                }
            }
        }
        if !problems.isEmpty { throw InputErrors(problems) }
        return sources
    }

    private static func pathProblem(_ path: String, _ reason: String) -> Diagnostic {
        Diagnostic(at: SourceLocation(file: path, line: 0, column: 0), object: nil, field: "", reason: reason)
    }

    /// Manifest files below a directory, as `directory/relative/path`, sorted by that path.
    static func manifestFiles(under directory: String) -> [String] {
        var result: [String] = []
        var pending = [directory]
        var visited: Set<String> = []
        while let current = pending.popLast() {
            // Symlinked directories could loop; visit each real directory once.
            guard visited.insert(URL(fileURLWithPath: current).resolvingSymlinksInPath().path).inserted else { continue }
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: current) else { continue }
            for entry in entries where !entry.hasPrefix(".") {
                let path = current.hasSuffix("/") ? current + entry : current + "/" + entry
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
                if isDirectory.boolValue {
                    pending.append(path)
                } else if entry.hasSuffix(".yaml") || entry.hasSuffix(".yml") || entry.hasSuffix(".json") {
                    result.append(path)
                }
            }
        }
        return result.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
