import Foundation

/// A YAML/JSON document as the harness builds and mutates it: ordered maps (duplicate keys
/// allowed, so a mutation can add one), lists, scalars and null. Scalars keep whether they were
/// written as strings, so a printer can quote them or not.
indirect enum Value: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case string(String)
    /// A scalar printed exactly as given (a number too big for Int64, `1e400`, `0x10`).
    case raw(String)
    case list([Value])
    case map([(String, Value)])

    static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.string(a), .string(b)), let (.raw(a), .raw(b)): return a == b
        case let (.list(a), .list(b)): return a == b
        case let (.map(a), .map(b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    subscript(key: String) -> Value? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}

/// How a document is printed; every style is meant to read back to the same value.
struct PrintStyle: Sendable {
    enum Syntax: Sendable { case block, flow, json }
    var syntax: Syntax = .block
    /// Quote every string scalar (double quotes) even where plain would do.
    var quoteAll = false
    /// Use single quotes where a quoted string can be single-quoted.
    var singleQuotes = false

    static func random(_ rng: inout SeededRandom) -> PrintStyle {
        let syntax: Syntax = [.block, .block, .flow, .json][rng.below(4)]
        return PrintStyle(syntax: syntax, quoteAll: rng.chance(0.3), singleQuotes: rng.chance(0.3))
    }
}

/// Prints `Value`s as block YAML, flow YAML or JSON.
enum Printer {
    static func documents(_ values: [Value], style: PrintStyle) -> String {
        if style.syntax == .json, values.count == 1 { return json(values[0]) + "\n" }
        if style.syntax == .json {
            return json(.map([("apiVersion", .string("v1")), ("kind", .string("List")), ("items", .list(values))])) + "\n"
        }
        if style.syntax == .flow {
            // A file starting with `{` is read as JSON (as kubectl does), so each flow document gets
            // an explicit `---` marker in front.
            return values.map { "--- " + flow($0, style: style) + "\n" }.joined()
        }
        return values.map { document($0, style: style) }.joined(separator: "---\n")
    }

    static func document(_ value: Value, style: PrintStyle) -> String {
        switch style.syntax {
        case .json: return json(value) + "\n"
        case .flow: return flow(value, style: style) + "\n"
        case .block: return block(value, indent: 0, style: style)
        }
    }

    static func json(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .raw(let text): return text
        case .string(let text): return jsonQuoted(text)
        case .list(let items): return "[" + items.map(json).joined(separator: ",") + "]"
        case .map(let pairs): return "{" + pairs.map { jsonQuoted($0.0) + ":" + json($0.1) }.joined(separator: ",") + "}"
        }
    }

    static func flow(_ value: Value, style: PrintStyle) -> String {
        switch value {
        case .list(let items): return "[" + items.map { flow($0, style: style) }.joined(separator: ", ") + "]"
        case .map(let pairs):
            return "{" + pairs.map { scalar($0.0, style: style, inFlow: true) + ": " + flow($0.1, style: style) }
                .joined(separator: ", ") + "}"
        default: return scalarText(value, style: style, inFlow: true)
        }
    }

    /// Block YAML for a map or list at `indent`, ending in a newline; a scalar on one line.
    static func block(_ value: Value, indent: Int, style: PrintStyle) -> String {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .map(let pairs) where !pairs.isEmpty:
            var out = ""
            for (key, item) in pairs {
                out += pad + scalar(key, style: style, inFlow: false) + ":"
                out += nested(item, indent: indent + 2, style: style)
            }
            return out
        case .list(let items) where !items.isEmpty:
            var out = ""
            for item in items {
                out += pad + "-"
                out += nested(item, indent: indent + 2, style: style)
            }
            return out
        default:
            return pad + scalarText(value, style: style, inFlow: false) + "\n"
        }
    }

    private static func nested(_ item: Value, indent: Int, style: PrintStyle) -> String {
        switch item {
        case .map(let pairs) where !pairs.isEmpty: return "\n" + block(item, indent: indent, style: style)
        case .list(let items) where !items.isEmpty: return "\n" + block(item, indent: indent, style: style)
        case .map, .list: return " " + flow(item, style: style) + "\n"
        default: return " " + scalarText(item, style: style, inFlow: false) + "\n"
        }
    }

    private static func scalarText(_ value: Value, style: PrintStyle, inFlow: Bool) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .raw(let text): return text
        case .string(let text): return scalar(text, style: style, inFlow: inFlow)
        case .list, .map: return flow(value, style: style)
        }
    }

    /// A string scalar, plain when that reads back as the same string, else quoted.
    static func scalar(_ text: String, style: PrintStyle, inFlow: Bool) -> String {
        if !style.quoteAll, isSafePlain(text, inFlow: inFlow) { return text }
        let printable = text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7f }
        if style.singleQuotes, printable { return "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
        return jsonQuoted(text)
    }

    private static let reservedPlain: Set<String> = [
        "", "~", "null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE",
        "yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
    ]

    private static func isSafePlain(_ text: String, inFlow: Bool) -> Bool {
        if reservedPlain.contains(text) { return false }
        guard let first = text.unicodeScalars.first else { return false }
        if "0123456789+-.".unicodeScalars.contains(first) { return false }
        let allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./"
        return text.unicodeScalars.allSatisfy { allowed.unicodeScalars.contains($0) }
    }

    /// A JSON string literal, which is also a valid double-quoted YAML scalar.
    static func jsonQuoted(_ text: String) -> String {
        var out = "\""
        for unit in text.unicodeScalars {
            switch unit {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if unit.value < 0x20 || unit.value == 0x7f || unit.value == 0x2028 || unit.value == 0x2029 || unit.value == 0x85 {
                    out += "\\u" + hex4(unit.value)
                } else {
                    out.unicodeScalars.append(unit)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
