import Foundation

/// One input and the name diagnostics use for it: bytes in memory (stdin, tests, generated input)
/// or a file that loading reads itself, in parts, so that a large file is never held whole.
/// Loading works on sources rather than paths so that every input takes the same route.
public struct ManifestSource: Sendable, Hashable {
    public var name: String
    var storage: Storage

    /// Where the bytes are.
    enum Storage: Sendable, Hashable {
        case memory([UInt8])
        /// A regular file of `size` bytes when it was listed.
        case file(path: String, size: Int)
    }

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.storage = .memory(bytes)
    }

    /// A regular file, read only while it is loaded (in bounded parts when it is large).
    public init(name: String, path: String, size: Int) {
        self.name = name
        self.storage = .file(path: path, size: size)
    }

    /// The whole input. For a file this reads it now (empty when it has become unreadable);
    /// loading itself never asks for this on a large file.
    public var bytes: [UInt8] {
        get {
            switch storage {
            case .memory(let bytes): return bytes
            case .file(let path, _): return (try? BoundedReader.read(path: path, limit: ManifestLoader.maximumSourceSize).get()) ?? []
            }
        }
        set { storage = .memory(newValue) }
    }

    /// Size of the input (for a file, when it was listed).
    var byteCount: Int {
        switch storage {
        case .memory(let bytes): return bytes.count
        case .file(_, let size): return size
        }
    }

    /// The same source with its bytes in memory, or why the file could not be read.
    func inMemory() -> Result<ManifestSource, Diagnostic> {
        guard case .file(let path, _) = storage else { return .success(self) }
        switch BoundedReader.read(path: path, limit: ManifestLoader.maximumSourceSize) {
        case .success(let bytes): return .success(ManifestSource(name: name, bytes: bytes))
        case .failure(let problem): return .failure(problem.diagnostic(file: name))
        }
    }

    /// The first bytes of the input, enough to tell JSON from YAML.
    func prefix(_ count: Int) -> [UInt8] {
        switch storage {
        case .memory(let bytes): return Array(bytes.prefix(count))
        case .file(let path, _): return BoundedReader.prefix(path: path, count: count)
        }
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
        switch storage {
        case .memory(let bytes): return Self.startsAsJSON(bytes)
        case .file:
            // Blank bytes before the first value are rare; look further only when they fill the prefix.
            var count = 1 << 16
            while true {
                let head = prefix(count)
                if head.count < count || head.contains(where: { !Self.isBlank($0) }) { return Self.startsAsJSON(head) }
                count *= 4
            }
        }
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
            || byte == 0xEF || byte == 0xBB || byte == 0xBF
    }

    private static func startsAsJSON(_ bytes: [UInt8]) -> Bool {
        for byte in bytes where !isBlank(byte) {
            return byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[")
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
                switch BoundedReader.check(path: file, limit: limit) {
                case .success(let size?): sources.append(ManifestSource(name: file, path: file, size: size))
                case .success(nil):
                    // Not a regular file (a pipe, a device): read now, up to the limit.
                    switch BoundedReader.read(path: file, limit: limit) {
                    case .success(let bytes): sources.append(ManifestSource(name: file, bytes: bytes))
                    case .failure(let problem): problems.append(pathProblem(file, problem.description))
                    }
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

    /// Manifest files below a directory, as `directory/relative/path`, sorted by that path: `.yaml`,
    /// `.yml` and `.json` in any case, so that `web.YAML` is not left out silently.
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
                } else if [".yaml", ".yml", ".json"].contains(where: entry.lowercased().hasSuffix) {
                    result.append(path)
                }
            }
        }
        return result.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
