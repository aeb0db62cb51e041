/// Where something came from in the input: the file as the user named it, 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(Diagnostic.oneLine(file)):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One problem found in the input, kept as data (where, which object, which field, why) so that
/// callers can sort, count and word it; `description` is the `file:line:column: ns/name: field: reason`
/// form the CLI prints.
public struct Diagnostic: Error, Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var severity: Severity
    public var location: SourceLocation
    /// `Kind ns/name` or `Kind name` of the object the problem is in; nil for document-level problems.
    public var object: String?
    /// Dotted field path such as `spec.ports[0].port`; empty for document-level problems.
    public var field: String
    public var reason: String

    public init(_ severity: Severity = .error, at location: SourceLocation, object: String?, field: String, reason: String) {
        self.severity = severity
        self.location = location
        self.object = object
        self.field = field
        self.reason = reason
    }

    /// Exactly one line: control characters, line separators and bidirectional overrides in any part
    /// (a file or object name, a quoted value in the reason) are shown as `\u{…}` escapes, so input
    /// cannot forge further diagnostic lines or act on the terminal.
    public var description: String {
        var text = "\(location): "
        if severity == .warning { text += "warning: " }
        if let object { text += "\(Self.oneLine(object)): " }
        if !field.isEmpty { text += "\(Self.oneLine(field)): " }
        return text + Self.oneLine(reason)
    }

    /// `text` with every scalar that could end a line or act on a terminal written as `\u{…}`.
    /// Works on Unicode scalars: a `Character` can hold several ("\r\n" is one).
    public static func oneLine(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        if lhs.location != rhs.location { return lhs.location < rhs.location }
        return lhs.description < rhs.description
    }
}

/// The error a failed load or compile throws: every diagnostic found, not just the first.
public struct InputErrors: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics.sorted() }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
