/// Reads the block-style subset of YAML that `kubectl get -o yaml` prints — block mappings and
/// sequences, single-line plain and quoted scalars, `{}` and `[]` — several times faster than
/// libyaml, into exactly the `NodeTree` libyaml's events would build (same nodes, marks and text).
/// It proves nothing it is unsure of: on anything outside the subset (comments, anchors, tags,
/// flow collections, multi-line or escaped scalars, tabs, carriage returns, non-ASCII bytes,
/// directives, empty documents, …) it gives up and the caller reads the same bytes with libyaml,
/// so results and diagnostics never depend on which reader ran.
struct BlockYAMLReader {
    private let input: UnsafeBufferPointer<UInt8>
    private var tree: NodeTree
    /// Open containers, innermost last.
    private var stack: [(index: Int32, column: Int, isMapping: Bool)] = []
    /// A key whose value was left for the next line: its column, and where an empty value is marked.
    private var pending: (column: Int, line: Int, markColumn: Int)?
    /// After a value written on its line, a deeper next line would continue it (multi-line scalar).
    private var inlineColumn = Int.max
    private var documentRoot: Int32 = -1
    private var line = 0
    private var cursor = 0
    /// Offset of the current line's first byte.
    private var lineBegin = 0

    private struct Unsupported: Error {}

    /// Longest key libyaml accepts as a simple key.
    private static let maximumKeyLength = 1024

    /// The tree of `bytes` (whole documents, as a source or one of its parts), or nil when they
    /// leave the subset. With `array`, the array `bytes` points into, the tree's scalars are
    /// ranges of that array instead of copies of its bytes.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, file: String, lineOffset: Int, sharing array: [UInt8]? = nil) -> NodeTree? {
        let shared = array.map { $0.withUnsafeBufferPointer { $0.baseAddress } == bytes.baseAddress && $0.count == bytes.count } ?? false
        var tree = shared ? NodeTree(file: file, sharing: array!) : NodeTree(file: file, expectedSize: bytes.count)
        tree.lineOffset = lineOffset
        // The block reader declines any byte outside ASCII.
        tree.allASCII = true
        var reader = BlockYAMLReader(input: bytes, tree: tree, shared: shared)
        do {
            try reader.run()
        } catch {
            return nil
        }
        tree = reader.tree
        tree.finishReading()
        return tree
    }

    private init(input: UnsafeBufferPointer<UInt8>, tree: NodeTree, shared: Bool) {
        self.input = input
        self.tree = tree
        self.shared = shared
    }

    /// The tree's text is the input itself: scalars are recorded as ranges of it.
    private let shared: Bool

    private mutating func run() throws(Unsupported) {
        var inDocument = false
        while cursor < input.count {
            let lineStart = cursor
            let end = try lineEnd(from: lineStart)
            lineBegin = lineStart
            var indent = lineStart
            while indent < end, input[indent] == 0x20 { indent += 1 }
            if indent < end {
                if indent == lineStart, try Self.isMarkerLine(input, lineStart, end) {
                    if inDocument {
                        try finishDocument()
                    } else if explicitStart {
                        throw Unsupported()
                    }
                    // `---` then nothing before the next marker would be an empty document.
                    inDocument = false
                    documentRoot = -1
                    explicitStart = true
                } else {
                    if !inDocument {
                        inDocument = true
                        explicitStart = false
                        documentRoot = Int32(truncatingIfNeeded: tree.nodes.count)
                    }
                    try content(at: indent - lineStart, start: indent, end: end)
                }
            }
            line += 1
            cursor = end + 1
        }
        if inDocument { try finishDocument() }
        if explicitStart { throw Unsupported() }
    }

    /// Colons of the current line, for `scan`: the first two, and how many there are.
    private var colons = (first: 0, second: 0, count: 0)

    /// Where the line starting at `start` ends (its newline, or the input's end), noting its
    /// colons; refuses control bytes other than the newline, DEL, non-ASCII and `#`. Eight bytes
    /// at a time: each test below marks exactly the bytes it is about (the top bit of each).
    private mutating func lineEnd(from start: Int) throws(Unsupported) -> Int {
        colons.count = 0
        var end = start
        let base = UnsafeRawPointer(input.baseAddress!)
        while input.count - end >= 8 {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: end, as: UInt64.self))
            let stops = Self.controlOrHigh(word) | Self.equal(word, UInt8(ascii: "#"))
            var colonMask = Self.equal(word, UInt8(ascii: ":"))
            if stops != 0 {
                let stop = stops.trailingZeroBitCount >> 3
                guard input[end + stop] == 0x0A else { throw Unsupported() }
                colonMask &= (1 << (stop << 3)) &- 1
                noteColons(colonMask, at: end)
                return end + stop
            }
            noteColons(colonMask, at: end)
            end += 8
        }
        while end < input.count {
            let byte = input[end]
            if byte == 0x0A { return end }
            // Tabs, carriage returns, control bytes, DEL, non-ASCII and comments: libyaml's call.
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "#") else { throw Unsupported() }
            if byte == UInt8(ascii: ":") { noteColons(0x80, at: end) }
            end += 1
        }
        return end
    }

    /// Notes the colons marked in `mask` (the top bit of byte `i` for the byte at `offset + i`).
    private mutating func noteColons(_ mask: UInt64, at offset: Int) {
        var mask = mask
        while mask != 0 {
            let position = offset + mask.trailingZeroBitCount >> 3
            if colons.count == 0 { colons.first = position } else if colons.count == 1 { colons.second = position }
            colons.count += 1
            mask &= mask &- 1
        }
    }

    private static let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F, highs: UInt64 = 0x8080_8080_8080_8080

    /// Marks the bytes of `word` below 0x20, and those of 0x7F and above (no carry crosses bytes).
    private static func controlOrHigh(_ word: UInt64) -> UInt64 {
        let below = ~((word & lows) &+ 0x6060_6060_6060_6060 | word) & highs
        let above = ((word & lows) &+ 0x0101_0101_0101_0101 | word) & highs
        return below | above
    }

    /// Marks the bytes of `word` equal to `byte`.
    private static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let value = word ^ (UInt64(byte) &* 0x0101_0101_0101_0101)
        return ~((value & lows) &+ lows | value | lows)
    }

    /// Where `scan` may start looking for a colon in a scalar at `position`: the line's first
    /// colon at or after it, or `end` when the line has none there; `position` when unknown.
    private func colonSearchStart(_ position: Int, _ end: Int) -> Int {
        if colons.count == 0 { return end }
        if colons.first >= position { return colons.first }
        if colons.count == 1 { return end }
        if colons.second >= position { return colons.second }
        return colons.count == 2 ? end : position
    }

    /// A `---` start was seen and no content has followed it yet.
    private var explicitStart = false

    /// True for `---` alone on its line; refuses other lines starting with a marker or a directive.
    private static func isMarkerLine(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) throws(Unsupported) -> Bool {
        let first = input[start]
        if first == UInt8(ascii: "%") { throw Unsupported() }
        guard end - start >= 3, first == UInt8(ascii: "-") || first == UInt8(ascii: "."),
              input[start + 1] == first, input[start + 2] == first else { return false }
        guard first == UInt8(ascii: "-"), end - start == 3 else { throw Unsupported() }
        return true
    }

    private mutating func finishDocument() throws(Unsupported) {
        if let pending { emptyValue(pending) }
        pending = nil
        while let open = stack.popLast() { close(open) }
        inlineColumn = Int.max
        guard documentRoot >= 0, Int(documentRoot) < tree.nodes.count else { throw Unsupported() }
        tree.documents.append(documentRoot)
    }

    private mutating func close(_ open: (index: Int32, column: Int, isMapping: Bool)) {
        tree.close(open.index)
        if open.isMapping { tree.checkDuplicateKeys(open.index) }
    }

    private mutating func emptyValue(_ pending: (column: Int, line: Int, markColumn: Int)) {
        if shared {
            tree.appendScalar(at: 0, length: 0, quoted: false, line: pending.line, column: pending.markColumn)
            return
        }
        tree.appendScalar(UnsafeBufferPointer(start: input.baseAddress, count: 0), quoted: false,
                          line: pending.line, column: pending.markColumn)
    }

    private static func isDash(_ input: UnsafeBufferPointer<UInt8>, _ position: Int, _ end: Int) -> Bool {
        input[position] == UInt8(ascii: "-") && (position + 1 == end || input[position + 1] == 0x20)
    }

    /// One non-blank line whose first content byte is at `column`.
    private mutating func content(at column: Int, start: Int, end: Int) throws(Unsupported) {
        guard column <= inlineColumn else { throw Unsupported() }
        inlineColumn = Int.max
        let dash = Self.isDash(input, start, end)
        if let key = pending {
            pending = nil
            if column > key.column || (dash && column == key.column) {
                try open(dash: dash, column: column, start: start, end: end)
                return
            }
            emptyValue(key)
        }
        if stack.isEmpty {
            guard column == 0, Int(documentRoot) == tree.nodes.count else { throw Unsupported() }
            try open(dash: dash, column: column, start: start, end: end)
            return
        }
        while let top = stack.last, top.column > column || (!top.isMapping && top.column == column && !dash) {
            close(top)
            stack.removeLast()
        }
        guard let top = stack.last, top.column == column, top.isMapping != dash else { throw Unsupported() }
        if dash { try entry(column: column, start: start, end: end) } else { try keyLine(column: column, start: start, end: end) }
    }

    /// Opens the block container that starts on this line, then reads the line into it.
    private mutating func open(dash: Bool, column: Int, start: Int, end: Int) throws(Unsupported) {
        guard stack.count < NodeTree.maximumDepth - 1 else { throw Unsupported() }
        let index = tree.openContainer(dash ? .sequence : .mapping, line: line, column: column)
        stack.append((index, column, !dash))
        if dash { try entry(column: column, start: start, end: end) } else { try keyLine(column: column, start: start, end: end) }
    }

    /// `- item` at `column`: a scalar, an empty flow collection, or the first key of a compact mapping.
    private mutating func entry(column: Int, start: Int, end: Int) throws(Unsupported) {
        var position = start + 1
        while position < end, input[position] == 0x20 { position += 1 }
        guard position < end, !Self.isDash(input, position, end) else { throw Unsupported() }
        let scalar = try Self.scan(input, position, end, from: colonSearchStart(position, end))
        if scalar.isKey {
            guard stack.count < NodeTree.maximumDepth - 1 else { throw Unsupported() }
            let itemColumn = position - lineBegin
            let index = tree.openContainer(.mapping, line: line, column: itemColumn)
            stack.append((index, itemColumn, true))
            try keyLine(column: itemColumn, start: position, end: end)
        } else {
            try value(position, end, scalar)
            inlineColumn = column
        }
    }

    /// `key: value` or `key:` at `column`, inside the mapping on top of the stack.
    private mutating func keyLine(column: Int, start: Int, end: Int) throws(Unsupported) {
        let key = try Self.scan(input, start, end, from: colonSearchStart(start, end))
        guard key.isKey, key.after - start < Self.maximumKeyLength else { throw Unsupported() }
        append(key, at: start)
        let colon = key.after
        var position = colon + 1
        while position < end, input[position] == 0x20 { position += 1 }
        if position == end {
            pending = (column, line, colon + 1 - lineBegin)
            return
        }
        guard !Self.isDash(input, position, end) else { throw Unsupported() }
        let scalar = try Self.scan(input, position, end, from: colonSearchStart(position, end))
        guard !scalar.isKey else { throw Unsupported() }
        try value(position, end, scalar)
        inlineColumn = column
    }

    /// A value that ends its line: a scalar, `{}` or `[]`.
    private mutating func value(_ position: Int, _ end: Int, _ scalar: Scalar) throws(Unsupported) {
        let column = position - lineBegin
        if scalar.emptyFlow {
            let mapping = input[position] == UInt8(ascii: "{")
            let index = tree.openContainer(mapping ? .mapping : .sequence, line: line, column: column)
            tree.close(index)
            if mapping { tree.checkDuplicateKeys(index) }
            return
        }
        append(scalar, at: position)
    }

    private mutating func append(_ scalar: Scalar, at position: Int) {
        if shared {
            tree.appendScalar(at: scalar.contentStart, length: scalar.contentEnd - scalar.contentStart, quoted: scalar.quoted,
                              line: line, column: position - lineBegin)
            return
        }
        let bytes = UnsafeBufferPointer(rebasing: input[scalar.contentStart..<scalar.contentEnd])
        tree.appendScalar(bytes, quoted: scalar.quoted, line: line, column: position - lineBegin)
    }

    /// A scalar token and what follows it on the line.
    private struct Scalar {
        var contentStart: Int
        var contentEnd: Int
        var quoted: Bool
        /// Followed by `:` and a space or the line's end: a key; `after` is the colon.
        var isKey: Bool
        var after: Int
        /// `{}` or `[]`.
        var emptyFlow = false
    }

    /// Reads the scalar at `position`: it either is a key (`after` at its colon) or runs to the
    /// end of the line (trailing spaces dropped). No colon lies between `position` and `colonSearch`.
    private static func scan(_ input: UnsafeBufferPointer<UInt8>, _ position: Int, _ end: Int,
                             from colonSearch: Int) throws(Unsupported) -> Scalar {
        let first = input[position]
        switch first {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return try Self.scanQuoted(input, position, end, quote: first)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let closing = first == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            guard position + 1 < end, input[position + 1] == closing, Self.restIsBlank(input, position + 2, end) else { throw Unsupported() }
            return Scalar(contentStart: position, contentEnd: position, quoted: false, isKey: false, after: end, emptyFlow: true)
        case UInt8(ascii: "-"):
            guard position + 1 < end, input[position + 1] != 0x20 else { throw Unsupported() }
        case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"),
             UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"),
             UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
            throw Unsupported()
        default:
            break
        }
        var index = max(position, colonSearch)
        while index < end {
            if input[index] == UInt8(ascii: ":"), index + 1 == end || input[index + 1] == 0x20 {
                // `a: b: c` and `a: b:` are errors for libyaml; only a key may end at a colon.
                return Scalar(contentStart: position, contentEnd: Self.trimmed(input, position, index), quoted: false, isKey: true, after: index)
            }
            index += 1
        }
        return Scalar(contentStart: position, contentEnd: Self.trimmed(input, position, end), quoted: false, isKey: false, after: end)
    }

    private static func trimmed(_ input: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var last = end
        while last > start, input[last - 1] == 0x20 { last -= 1 }
        return last
    }

    private static func restIsBlank(_ input: UnsafeBufferPointer<UInt8>, _ position: Int, _ end: Int) -> Bool {
        var index = position
        while index < end, input[index] == 0x20 { index += 1 }
        return index == end
    }

    /// A quoted scalar closed on the same line, without escapes (`\` or `''`).
    private static func scanQuoted(_ input: UnsafeBufferPointer<UInt8>, _ position: Int, _ end: Int, quote: UInt8) throws(Unsupported) -> Scalar {
        var index = position + 1
        while index < end, input[index] != quote {
            if input[index] == UInt8(ascii: "\\"), quote == UInt8(ascii: "\"") { throw Unsupported() }
            index += 1
        }
        guard index < end else { throw Unsupported() }
        let close = index
        if quote == UInt8(ascii: "'"), close + 1 < end, input[close + 1] == quote { throw Unsupported() }
        var after = close + 1
        while after < end, input[after] == 0x20 { after += 1 }
        if after == end {
            return Scalar(contentStart: position + 1, contentEnd: close, quoted: true, isKey: false, after: end)
        }
        guard input[after] == UInt8(ascii: ":"), after + 1 == end || input[after + 1] == 0x20 else { throw Unsupported() }
        return Scalar(contentStart: position + 1, contentEnd: close, quoted: true, isKey: true, after: after)
    }
}

/// The block reader checked against libyaml on one input, for the fuzz harness: the same bytes go
/// through both, and any difference in the trees they build is a defect of the block reader.
@_spi(ReaderCheck) public enum YAMLReaderCheck {
    /// nil when the block reader declines the input or builds libyaml's tree; otherwise where the
    /// two differ first.
    public static func mismatch(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let block = BlockYAMLReader.read(buffer, file: "input", lineOffset: 0) else { return nil }
            return block.firstDifference(from: YAMLReader.readWithLibYAML(buffer, name: "input", lineOffset: 0))
        }
    }
}

extension NodeTree {
    /// The first way this tree differs from `other` (nodes, marks, scalar text, documents,
    /// duplicate keys, diagnostics); nil when they are the same.
    func firstDifference(from other: NodeTree) -> String? {
        guard nodes.count == other.nodes.count else { return "\(nodes.count) nodes against \(other.nodes.count)" }
        for index in nodes.indices {
            let mine = nodes[index], theirs = other.nodes[index]
            if mine.kind != theirs.kind || mine.quoted != theirs.quoted || mine.line != theirs.line
                || mine.column != theirs.column || mine.end != theirs.end {
                return "node \(index): \(mine.kind) at \(mine.line):\(mine.column) against \(theirs.kind) at \(theirs.line):\(theirs.column)"
            }
            if mine.kind == .scalar, string(Int32(index)) != other.string(Int32(index)) {
                return "node \(index): scalar \(string(Int32(index)).debugDescription) against \(other.string(Int32(index)).debugDescription)"
            }
        }
        if documents != other.documents { return "documents \(documents) against \(other.documents)" }
        if duplicateKeys != other.duplicateKeys { return "duplicate keys differ" }
        if diagnostics != other.diagnostics { return "diagnostics differ" }
        return nil
    }
}
