#if canImport(Glibc)
import Glibc
#endif

/// A generic Kubernetes object as `kubectl` prints it: mappings (keys printed sorted), sequences
/// and scalars. The generator builds one per object and serializes it straight to a file.
indirect enum Document {
    case map([(String, Document)])
    case list([Document])
    case string(String)
    case int(Int)
    case bool(Bool)
    case null

    var isScalar: Bool {
        switch self {
        case .map, .list: return false
        default: return true
        }
    }
}

/// A buffered writer to a file descriptor, so multi-hundred-megabyte inputs never sit in memory.
final class ByteSink {
    private var buffer: [UInt8] = []
    private let fd: Int32
    private(set) var bytesWritten = 0
    private(set) var failed = false

    init?(path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return nil }
        self.fd = fd
        buffer.reserveCapacity(1 << 20)
    }

    deinit { close(fd) }

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { flush() }
    }

    func write(byte: UInt8) { buffer.append(byte) }

    func spaces(_ count: Int) {
        for _ in 0..<count { buffer.append(0x20) }
    }

    func flush() {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress.map { $0 + offset }, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                failed = true
                break
            }
            offset += written
        }
        bytesWritten += offset
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Serializes documents the way `kubectl get -o yaml` does: sorted keys, sequences at the indent
/// of their key, strings quoted only where a plain scalar would read as something else.
enum YAMLWriter {
    static func document(_ doc: Document, to sink: ByteSink) {
        sink.write("---\n")
        if case .map(let entries) = doc { mapping(entries, indent: 0, inlineFirst: false, to: sink) }
    }

    static func mapping(_ entries: [(String, Document)], indent: Int, inlineFirst: Bool, to sink: ByteSink) {
        for (offset, (key, value)) in entries.sorted(by: { $0.0 < $1.0 }).enumerated() {
            if offset > 0 || !inlineFirst { sink.spaces(indent) }
            sink.write(key)
            switch value {
            case .map(let inner) where inner.isEmpty:
                sink.write(": {}\n")
            case .map(let inner):
                sink.write(":\n")
                mapping(inner, indent: indent + 2, inlineFirst: false, to: sink)
            case .list(let items) where items.isEmpty:
                sink.write(": []\n")
            case .list(let items):
                sink.write(":\n")
                sequence(items, indent: indent, to: sink)
            default:
                sink.write(": ")
                scalar(value, to: sink)
                sink.write(byte: 0x0A)
            }
        }
    }

    static func sequence(_ items: [Document], indent: Int, to sink: ByteSink) {
        for item in items {
            sink.spaces(indent)
            sink.write("- ")
            switch item {
            case .map(let inner) where inner.isEmpty:
                sink.write("{}\n")
            case .map(let inner):
                mapping(inner, indent: indent + 2, inlineFirst: true, to: sink)
            case .list(let inner) where inner.isEmpty:
                sink.write("[]\n")
            case .list(let inner):
                sink.write(byte: 0x0A)
                sequence(inner, indent: indent + 2, to: sink)
            default:
                scalar(item, to: sink)
                sink.write(byte: 0x0A)
            }
        }
    }

    static func scalar(_ value: Document, to sink: ByteSink) {
        switch value {
        case .string(let text): sink.write(needsQuotes(text) ? JSONWriter.quoted(text) : text)
        case .int(let number): sink.write(String(number))
        case .bool(let flag): sink.write(flag ? "true" : "false")
        case .null: sink.write("null")
        case .map, .list: break
        }
    }

    /// Whether a plain scalar would not read back as this string.
    static func needsQuotes(_ text: String) -> Bool {
        guard let first = text.utf8.first else { return true }
        if ["true", "false", "null", "yes", "no", "on", "off", "~", "y", "n"].contains(text.lowercased()) { return true }
        if Double(text) != nil || Int(text) != nil { return true }
        if "-?:,[]{}#&*!|>'\"%@` ".utf8.contains(first) { return true }
        if text.contains(": ") || text.contains(" #") || text.hasSuffix(":") || text.hasSuffix(" ") { return true }
        let bytes = Array(text.utf8.prefix(10))
        // Timestamps such as 2024-05-14T09:12:44Z resolve as dates.
        let digits = bytes.enumerated().allSatisfy { index, byte in
            index == 4 || index == 7 ? byte == UInt8(ascii: "-") : (0x30...0x39).contains(byte)
        }
        return bytes.count == 10 && digits
    }
}

/// Serializes documents the way `kubectl get -o json` does: four-space indent, sorted keys.
enum JSONWriter {
    static func value(_ doc: Document, indent: Int, to sink: ByteSink) {
        switch doc {
        case .map(let entries) where entries.isEmpty:
            sink.write("{}")
        case .map(let entries):
            sink.write("{\n")
            for (offset, (key, inner)) in entries.sorted(by: { $0.0 < $1.0 }).enumerated() {
                if offset > 0 { sink.write(",\n") }
                sink.spaces(indent + 4)
                sink.write(quoted(key))
                sink.write(": ")
                value(inner, indent: indent + 4, to: sink)
            }
            sink.write(byte: 0x0A)
            sink.spaces(indent)
            sink.write("}")
        case .list(let items) where items.isEmpty:
            sink.write("[]")
        case .list(let items):
            sink.write("[\n")
            for (offset, inner) in items.enumerated() {
                if offset > 0 { sink.write(",\n") }
                sink.spaces(indent + 4)
                value(inner, indent: indent + 4, to: sink)
            }
            sink.write(byte: 0x0A)
            sink.spaces(indent)
            sink.write("]")
        case .string(let text): sink.write(quoted(text))
        case .int(let number): sink.write(String(number))
        case .bool(let flag): sink.write(flag ? "true" : "false")
        case .null: sink.write("null")
        }
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
