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

    public var description: String { "\(file):\(line):\(column)" }

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

    public var description: String {
        var text = "\(location): "
        if severity == .warning { text += "warning: " }
        if let object { text += "\(object): " }
        if !field.isEmpty { text += "\(field): " }
        return text + reason
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
