/// A byte-level JSON parser producing the same `NodeTree` the YAML reader does, with line and
/// column for every value. Accepts one value or several back to back (as `kubectl -o json` can
/// print); JSON is hot-path input, so it works on raw buffer pointers.
enum JSONReader {
    static func read(_ source: ManifestSource) -> NodeTree {
        var tree = NodeTree(file: source.name, expectedSize: source.byteCount)
        source.bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(input: JSONWindow(whole: buffer), tree: tree)
            parser.parseStream()
            tree = parser.tree
        }
        tree.finishReading()
        return tree
    }
}

struct JSONSyntaxError: Error {
    var reason: String
    var offset: Int
}

struct JSONParser {
    var input: JSONWindow
    var tree: NodeTree
    var position = 0
    var line = 0
    var lineStart = 0
    /// Reused for strings with escapes.
    var scratch: [UInt8] = []

    /// Receives the elements of a streamed array (see `JSONStreamReader`); nil reads everything
    /// into `tree`.
    var streaming: JSONItemHandler?
    /// The top-level value being read has had its `items` streamed.
    var streamedItems = false

    init(input: JSONWindow, tree: NodeTree) {
        self.input = input
        self.tree = tree
    }

    mutating func parseStream() {
        do {
            skipSpace()
            if input.has(position + 2), input.base == 0, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { position = 3 }
            while true {
                skipSpace()
                guard input.has(position) else { return }
                let root = Int32(truncatingIfNeeded: tree.nodes.count)
                streamedItems = false
                if let streaming, input[position] == UInt8(ascii: "[") {
                    try parseStreamedArray(depth: 0, handler: streaming)
                } else {
                    try parseValue(depth: 0)
                }
                if !tree.isNull(root) {
                    tree.documents.append(root)
                    if let streaming, !streaming.document(tree, root, streamedItems) { throw JSONStreamAbort() }
                }
                input.release(before: position)
            }
        } catch let error as JSONSyntaxError {
            report(error)
        } catch is JSONStreamAbort {
            streaming?.aborted = true
        } catch {
            report(JSONSyntaxError(reason: "invalid JSON", offset: position))
        }
    }

    private mutating func report(_ error: JSONSyntaxError) {
        // Every line break before the failing offset has been passed, and none is inside a token,
        // so the offset is on the current line.
        let column = max(0, error.offset - lineStart)
        let location = SourceLocation(file: tree.file, line: line + 1, column: column + 1)
        tree.diagnostics.append(Diagnostic(at: location, object: nil, field: "", reason: error.reason))
    }

    @inline(__always) mutating func skipSpace() {
        while input.has(position) {
            let byte = input[position]
            if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                position += 1
            } else if byte == UInt8(ascii: "\n") {
                position += 1
                line += 1
                lineStart = position
            } else {
                return
            }
        }
    }

    var column: Int { position - lineStart }

    mutating func parseValue(depth: Int) throws {
        guard depth < NodeTree.maximumDepth else {
            throw JSONSyntaxError(reason: "nesting deeper than \(NodeTree.maximumDepth) levels", offset: position)
        }
        guard input.has(position) else { throw JSONSyntaxError(reason: "unexpected end of input", offset: position) }
        switch input[position] {
        case UInt8(ascii: "{"): try parseContainer(mapping: true, depth: depth)
        case UInt8(ascii: "["): try parseContainer(mapping: false, depth: depth)
        case UInt8(ascii: "\""): try parseString()
        case UInt8(ascii: "t"): try parseLiteral("true")
        case UInt8(ascii: "f"): try parseLiteral("false")
        case UInt8(ascii: "n"): try parseLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try parseNumber()
        default:
            throw JSONSyntaxError(reason: "unexpected character \(describe(input[position]))", offset: position)
        }
    }

    private mutating func parseContainer(mapping: Bool, depth: Int) throws {
        let index = tree.openContainer(mapping ? .mapping : .sequence, line: line, column: column)
        let closing = mapping ? UInt8(ascii: "}") : UInt8(ascii: "]")
        position += 1
        skipSpace()
        if input.has(position), input[position] == closing {
            position += 1
            tree.close(index)
            return
        }
        while true {
            skipSpace()
            if mapping {
                guard input.has(position), input[position] == UInt8(ascii: "\"") else {
                    throw JSONSyntaxError(reason: "expected a string key", offset: position)
                }
                let key = Int32(truncatingIfNeeded: tree.nodes.count)
                try parseString()
                skipSpace()
                guard input.has(position), input[position] == UInt8(ascii: ":") else {
                    throw JSONSyntaxError(reason: "expected ':' after key", offset: position)
                }
                position += 1
                skipSpace()
                if depth == 0, let streaming, tree.scalarEquals(key, "items") {
                    // Only the last `items` counts; streamed ones cannot be taken back.
                    if streamedItems { throw JSONStreamAbort() }
                    if input.has(position), input[position] == UInt8(ascii: "[") {
                        streamedItems = true
                        try parseStreamedArray(depth: depth + 1, handler: streaming)
                        if try closesAfterValue(closing) { break }
                        continue
                    }
                }
            }
            try parseValue(depth: depth + 1)
            if try closesAfterValue(closing) { break }
        }
        tree.close(index)
        if mapping { tree.checkDuplicateKeys(index) }
    }

    /// Reads what follows a value inside a container: true for the container's `closing` byte,
    /// false for a comma; anything else is a syntax error.
    private mutating func closesAfterValue(_ closing: UInt8) throws -> Bool {
        skipSpace()
        guard input.has(position) else { throw JSONSyntaxError(reason: "unexpected end of input", offset: position) }
        let byte = input[position]
        position += 1
        if byte == closing { return true }
        guard byte == UInt8(ascii: ",") else {
            throw JSONSyntaxError(reason: "expected ',' or '\(Character(Unicode.Scalar(closing)))'", offset: position - 1)
        }
        return false
    }

    private mutating func parseLiteral(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard input.has(position + count - 1) else { throw JSONSyntaxError(reason: "invalid literal", offset: position) }
        for offset in 0..<count where input[position + offset] != word.utf8Start[offset] {
            throw JSONSyntaxError(reason: "invalid literal", offset: position)
        }
        tree.appendScalar(input.slice(position, position + count), quoted: false,
                          line: line, column: column)
        position += count
    }

    private mutating func parseNumber() throws {
        let start = position
        if input[position] == UInt8(ascii: "-") { position += 1 }
        let digitsStart = position
        skipDigits()
        guard position > digitsStart else { throw JSONSyntaxError(reason: "invalid number", offset: start) }
        // JSON allows a zero only as the whole integer part (RFC 8259 section 6).
        if input[digitsStart] == UInt8(ascii: "0"), position - digitsStart > 1 {
            throw JSONSyntaxError(reason: "invalid number: JSON numbers may not have leading zeros", offset: start)
        }
        if input.has(position), input[position] == UInt8(ascii: ".") {
            position += 1
            let fractionStart = position
            skipDigits()
            guard position > fractionStart else { throw JSONSyntaxError(reason: "invalid number", offset: start) }
        }
        if input.has(position), input[position] == UInt8(ascii: "e") || input[position] == UInt8(ascii: "E") {
            position += 1
            if input.has(position), input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-") { position += 1 }
            let exponentStart = position
            skipDigits()
            guard position > exponentStart else { throw JSONSyntaxError(reason: "invalid number", offset: start) }
        }
        tree.appendScalar(input.slice(start, position), quoted: false,
                          line: line, column: start - lineStart)
    }

    private mutating func skipDigits() {
        while input.has(position), input[position] >= UInt8(ascii: "0"), input[position] <= UInt8(ascii: "9") {
            position += 1
        }
    }

    private mutating func parseString() throws {
        let startColumn = column
        let start = position
        position += 1
        let contentStart = position
        // Fast path: no escapes, copy the bytes as they are.
        while input.has(position) {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                tree.appendScalar(input.slice(contentStart, position), quoted: true,
                                  line: line, column: startColumn)
                position += 1
                return
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw JSONSyntaxError(reason: "control character in string", offset: position) }
            position += 1
        }
        guard input.has(position) else { throw JSONSyntaxError(reason: "unterminated string", offset: start) }
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: input.slice(contentStart, position))
        try parseEscapedRest(start: start)
        scratch.withUnsafeBufferPointer { tree.appendScalar($0, quoted: true, line: line, column: startColumn) }
    }

    private mutating func parseEscapedRest(start: Int) throws {
        while input.has(position) {
            let byte = input[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw JSONSyntaxError(reason: "control character in string", offset: position - 1)
            default:
                scratch.append(byte)
            }
        }
        throw JSONSyntaxError(reason: "unterminated string", offset: start)
    }

    private mutating func parseEscape() throws {
        guard input.has(position) else { throw JSONSyntaxError(reason: "unterminated string", offset: position) }
        let byte = input[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scratch.append(byte)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(0x0A)
        case UInt8(ascii: "r"): scratch.append(0x0D)
        case UInt8(ascii: "t"): scratch.append(0x09)
        case UInt8(ascii: "u"): try parseUnicodeEscape()
        default: throw JSONSyntaxError(reason: "invalid escape \\\(describe(byte))", offset: position - 2)
        }
    }

    private mutating func parseUnicodeEscape() throws {
        var scalar = try hex4()
        if (0xD800...0xDBFF).contains(scalar) {
            // A high surrogate must be followed by an escaped low surrogate.
            guard input.has(position + 1), input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u") else {
                throw JSONSyntaxError(reason: "unpaired surrogate in \\u escape", offset: position)
            }
            position += 2
            let low = try hex4()
            guard (0xDC00...0xDFFF).contains(low) else {
                throw JSONSyntaxError(reason: "unpaired surrogate in \\u escape", offset: position - 6)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw JSONSyntaxError(reason: "unpaired surrogate in \\u escape", offset: position - 6)
        }
        guard let unicode = Unicode.Scalar(scalar) else {
            throw JSONSyntaxError(reason: "invalid \\u escape", offset: position - 6)
        }
        scratch.append(contentsOf: String(Character(unicode)).utf8)
    }

    private mutating func hex4() throws -> UInt32 {
        guard input.has(position + 3) else { throw JSONSyntaxError(reason: "invalid \\u escape", offset: position) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw JSONSyntaxError(reason: "invalid \\u escape", offset: position)
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "0x" + String(byte, radix: 16)
    }
}
