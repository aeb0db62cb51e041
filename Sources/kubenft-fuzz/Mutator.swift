/// Structure-aware mutation of seed manifests: picks a node of a document tree and replaces or
/// reshapes it the way a hostile or careless writer would. Each edit is described in words so a
/// saved finding says what was done.
struct Mutator {
    var rng: SeededRandom

    /// Strings that have broken parsers, emitters and terminals: line breaks followed by nft
    /// commands, NUL, Unicode line separators, quotes, comment and statement separators.
    static let hostileStrings: [String] = [
        "x\r\nadd table ip evil #", "x\nadd table ip evil", "x\rflush ruleset", "x\u{0}y", "x\u{2028}y", "x\u{85}y",
        "a\"b", "a'b", "a\\b", "a#b", "a;b", "a;flush ruleset", "}\ntable ip evil {", "\u{1b}[31mred",
        "x\n10.0.0.1:1:1: forged diagnostic", "", " ", "-", "..", "a b", String(repeating: "a", count: 300),
        "ÄÖÜ", "\u{202e}evil", "$(reboot)", "x\tab", "0.0.0.0/0", "::/0", "127.0.0.1", "169.254.1.1", "224.0.0.1",
        "255.255.255.255", "10.0.0.0/8\n", "1.2.3.4/33", "fe80::1", "ff02::1", "::1",
    ]

    static let hostileNumbers: [Value] = [
        .int(0), .int(-1), .int(65536), .int(Int64.max), .int(Int64.min), .raw("1e400"), .raw("99999999999999999999999"),
        .raw("0x50"), .raw("0o120"), .raw("80.0"), .raw(".inf"), .raw(".nan"), .string("80"),
    ]

    /// Applies 1–3 edits to the documents, returning them and a description of each edit.
    mutating func mutate(_ documents: [Value]) -> ([Value], [String]) {
        var docs = documents
        var log: [String] = []
        for _ in 0..<(1 + rng.below(3)) where !docs.isEmpty {
            let index = rng.below(docs.count)
            let paths = Mutator.paths(docs[index], prefix: "")
            guard let path = paths.isEmpty ? nil : rng.pick(paths) else { continue }
            if rng.chance(0.1) {
                docs[index] = Mutator.remove(docs[index], path)
                log.append("doc \(index) \(path.map(\.description).joined(separator: ".")): removed")
                continue
            }
            let (replacement, what) = edit(Mutator.get(docs[index], path) ?? .null)
            docs[index] = Mutator.set(docs[index], path, replacement)
            log.append("doc \(index) \(path.map(\.description).joined(separator: ".")): \(what)")
        }
        if rng.chance(0.1), let first = docs.first {
            docs.append(first)
            log.append("duplicated document 0")
        }
        return (docs, log)
    }

    private mutating func edit(_ old: Value) -> (Value, String) {
        switch rng.below(12) {
        case 0: return (.null, "null")
        case 1: return (.string(""), "empty string")
        case 2: return (.list([]), "empty list")
        case 3: return (.map([]), "empty map")
        case 4: return (.list([old]), "wrapped in a list")
        case 5: return (.list([.null]), "[null]")
        case 6:
            let text = rng.pick(Mutator.hostileStrings)
            return (.string(text), "hostile string \(Printer.jsonQuoted(text))")
        case 7:
            let number = rng.pick(Mutator.hostileNumbers)
            return (number, "number \(Printer.json(number))")
        case 8: return (.bool(rng.chance(0.5)), "boolean")
        case 9: return (appendNull(old), "null appended")
        case 10: return (duplicateKey(old), "duplicate key")
        default: return (.map([("x", old)]), "wrapped in a map")
        }
    }

    private func appendNull(_ value: Value) -> Value {
        switch value {
        case .list(let items): return .list(items + [.null])
        case .map(let pairs): return .map(pairs + [(pairs.first?.0 ?? "x", .null)])
        default: return .list([value, .null])
        }
    }

    private mutating func duplicateKey(_ value: Value) -> Value {
        guard case .map(let pairs) = value, !pairs.isEmpty else { return value }
        let pair = rng.pick(pairs)
        return .map(pairs + [(pair.0, .string(rng.pick(Mutator.hostileStrings)))])
    }

    /// A step into a document: a map key or a list index.
    enum Step: CustomStringConvertible, Sendable {
        case key(String), index(Int)
        var description: String {
            switch self {
            case .key(let key): return key
            case .index(let index): return "[\(index)]"
            }
        }
    }

    static func paths(_ value: Value, prefix: String) -> [[Step]] {
        var out: [[Step]] = []
        switch value {
        case .map(let pairs):
            for (key, child) in pairs {
                out.append([.key(key)])
                out += paths(child, prefix: key).map { [.key(key)] + $0 }
            }
        case .list(let items):
            for (index, child) in items.enumerated() {
                out.append([.index(index)])
                out += paths(child, prefix: prefix).map { [.index(index)] + $0 }
            }
        default: break
        }
        return out
    }

    static func get(_ value: Value, _ path: [Step]) -> Value? {
        guard let step = path.first else { return value }
        switch (step, value) {
        case let (.key(key), .map(pairs)): return pairs.first { $0.0 == key }.flatMap { get($0.1, Array(path.dropFirst())) }
        case let (.index(index), .list(items)) where index < items.count: return get(items[index], Array(path.dropFirst()))
        default: return nil
        }
    }

    static func remove(_ value: Value, _ path: [Step]) -> Value {
        guard path.count > 1 else {
            switch (path.first, value) {
            case let (.key(key)?, .map(pairs)): return .map(pairs.filter { $0.0 != key })
            case let (.index(index)?, .list(items)) where index < items.count:
                var copy = items
                copy.remove(at: index)
                return .list(copy)
            default: return value
            }
        }
        guard let parent = get(value, Array(path.dropLast())) else { return value }
        return set(value, Array(path.dropLast()), remove(parent, [path[path.count - 1]]))
    }

    static func set(_ value: Value, _ path: [Step], _ replacement: Value) -> Value {
        guard let step = path.first else { return replacement }
        let rest = Array(path.dropFirst())
        switch (step, value) {
        case let (.key(key), .map(pairs)):
            guard let position = pairs.firstIndex(where: { $0.0 == key }) else { return value }
            var copy = pairs
            copy[position].1 = set(pairs[position].1, rest, replacement)
            return .map(copy)
        case let (.index(index), .list(items)) where index < items.count:
            var copy = items
            copy[index] = set(items[index], rest, replacement)
            return .list(copy)
        default: return value
        }
    }
}
