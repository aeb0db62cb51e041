/// Parsed `--key value` options; repeated keys accumulate, commas split lists.
struct Options {
    private var values: [String: [String]] = [:]

    /// Parses `--key value` pairs; returns an error message on malformed input.
    static func parse(_ args: ArraySlice<String>) -> Result<Options, UsageError> {
        var options = Options()
        var iterator = args.makeIterator()
        while let arg = iterator.next() {
            guard arg.hasPrefix("--"), arg.count > 2 else {
                return .failure(UsageError("unexpected argument '\(arg)'"))
            }
            guard let value = iterator.next() else {
                return .failure(UsageError("missing value for \(arg)"))
            }
            options.values[String(arg.dropFirst(2)), default: []].append(value)
        }
        return .success(options)
    }

    /// The last value given for `key`.
    func string(_ key: String) -> String? { values[key]?.last }

    /// All values given for `key`, exactly as written (no comma splitting).
    func raw(_ key: String) -> [String] { values[key] ?? [] }

    /// All values given for `key`, comma lists split, empty items dropped.
    func list(_ key: String) -> [String] {
        (values[key] ?? []).flatMap { $0.split(separator: ",").map(String.init) }
    }

    /// An integer option, `nil` when absent; throws on a malformed number.
    func int(_ key: String) throws(UsageError) -> Int? {
        guard let text = string(key) else { return nil }
        guard let value = Int(text) else { throw UsageError("--\(key) expects a number, got '\(text)'") }
        return value
    }

    /// A list of port numbers.
    func ports(_ key: String) throws(UsageError) -> [UInt16] {
        try list(key).map { (text: String) throws(UsageError) -> UInt16 in
            guard let port = UInt16(text), port > 0 else {
                throw UsageError("--\(key) expects ports 1-65535, got '\(text)'")
            }
            return port
        }
    }

    /// Keys not in `known`, for error reporting.
    func unknownKeys(_ known: Set<String>) -> [String] {
        values.keys.filter { !known.contains($0) }.sorted()
    }
}

/// A command-line usage problem.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
