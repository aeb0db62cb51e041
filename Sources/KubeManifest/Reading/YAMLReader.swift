import CLibYAML

/// Reads YAML with libyaml's event parser straight into a `NodeTree`. Going through events rather
/// than a generic document or Codable keeps ingest fast enough for clusters with thousands of objects.
enum YAMLReader {
    /// Alias copies every input may make, however small (see `YAMLTreeBuilder.aliasBudget`).
    static let aliasFloor = 100_000
    /// Alias copies no input may exceed, however large.
    static let aliasCeiling = 4_000_000

    static func read(_ source: ManifestSource) -> NodeTree {
        read(source, part: DocumentPart(range: source.bytes.indices, lineOffset: 0))
    }

    /// Reads whole documents in `part` of the source; locations count from the file's first line.
    static func read(_ source: ManifestSource, part: DocumentPart) -> NodeTree {
        source.bytes.withUnsafeBufferPointer { whole in
            read(UnsafeBufferPointer(rebasing: whole[part.range]), name: source.name, lineOffset: part.lineOffset)
        }
    }

    /// Reads whole documents that start `lineOffset` lines into the file `name`.
    /// The block reader's tree shares `bytes` (its scalars are ranges of them, not copies).
    static func read(_ bytes: [UInt8], name: String, lineOffset: Int) -> NodeTree {
        bytes.withUnsafeBufferPointer { buffer in
            if let tree = BlockYAMLReader.read(buffer, file: name, lineOffset: lineOffset, sharing: bytes) { return tree }
            return readWithLibYAML(buffer, name: name, lineOffset: lineOffset)
        }
    }

    /// The block-style subset kubectl prints goes through `BlockYAMLReader`; whatever it does not
    /// take, and every error, is libyaml's.
    static func read(_ buffer: UnsafeBufferPointer<UInt8>, name: String, lineOffset: Int) -> NodeTree {
        if let tree = BlockYAMLReader.read(buffer, file: name, lineOffset: lineOffset) { return tree }
        return readWithLibYAML(buffer, name: name, lineOffset: lineOffset)
    }

    /// libyaml alone (the reference the block reader is checked against).
    static func readWithLibYAML(_ buffer: UnsafeBufferPointer<UInt8>, name: String, lineOffset: Int) -> NodeTree {
        var tree = NodeTree(file: name, expectedSize: buffer.count)
        tree.lineOffset = lineOffset
        var builder = YAMLTreeBuilder(tree: tree, inputSize: buffer.count)
        builder.run(buffer)
        tree = builder.tree
        tree.finishReading()
        return tree
    }
}

/// The state of one pass over a YAML stream: open containers, anchors of the current document.
private struct YAMLTreeBuilder {
    var tree: NodeTree
    var stack: [Int32] = []
    var anchors: [String: Int32] = [:]
    var documentRoot: Int32 = -1
    /// Caps alias expansion so that "billion laughs" input cannot exhaust memory or time: the nodes
    /// all aliases of one input copy, together, may not exceed this.
    let aliasBudget: Int
    /// Nodes copied by aliases so far.
    var aliasCopies = 0

    init(tree: NodeTree, inputSize: Int) {
        self.tree = tree
        self.aliasBudget = Self.aliasBudget(inputSize: inputSize)
    }

    /// One copied node per input byte (a node takes at least two bytes to write, so ordinary use of
    /// anchors stays far below), at least `aliasFloor` for small inputs and never more than
    /// `aliasCeiling` (about 100 MB of tree), whatever the size of the input.
    static func aliasBudget(inputSize: Int) -> Int {
        min(YAMLReader.aliasCeiling, max(YAMLReader.aliasFloor, inputSize))
    }

    /// The parser, its input and the event live at addresses of their own for the whole parse:
    /// libyaml keeps pointers to the input and into the parser itself (its read handler's data),
    /// which a Swift local passed with `&` would not guarantee beyond each single call.
    mutating func run(_ input: UnsafeBufferPointer<UInt8>) {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        event.initialize(to: yaml_event_t())
        // libyaml wants a non-null pointer even for empty input.
        let empty = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        empty.initialize(to: 0)
        defer {
            parser.deallocate()
            event.deallocate()
            empty.deallocate()
        }
        guard yaml_parser_initialize(parser) != 0 else {
            fail("cannot initialise the YAML parser", line: 0, column: 0)
            return
        }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, input.baseAddress ?? UnsafePointer(empty), input.count)
        while true {
            guard yaml_parser_parse(parser, event) != 0 else {
                reportParserError(parser.pointee)
                return
            }
            let keepGoing = handle(&event.pointee)
            yaml_event_delete(event)
            if !keepGoing { return }
        }
    }

    /// Returns false when the stream is over or reading has to stop.
    private mutating func handle(_ event: inout yaml_event_t) -> Bool {
        let line = Int(event.start_mark.line), column = Int(event.start_mark.column)
        switch event.type {
        case YAML_STREAM_END_EVENT:
            return false
        case YAML_DOCUMENT_START_EVENT:
            anchors.removeAll(keepingCapacity: true)
            documentRoot = Int32(truncatingIfNeeded: tree.nodes.count)
        case YAML_DOCUMENT_END_EVENT:
            if documentRoot >= 0, Int(documentRoot) < tree.nodes.count, !tree.isNull(documentRoot) {
                tree.documents.append(documentRoot)
            }
            documentRoot = -1
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let quoted = scalar.style != YAML_PLAIN_SCALAR_STYLE || isStringTag(scalar.tag)
            let bytes = UnsafeBufferPointer(start: scalar.value, count: scalar.length)
            let index = Int32(truncatingIfNeeded: tree.nodes.count)
            tree.appendScalar(bytes, quoted: quoted, line: line, column: column)
            remember(anchor: scalar.anchor, for: index)
        case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
            guard stack.count < NodeTree.maximumDepth else {
                fail("nesting deeper than \(NodeTree.maximumDepth) levels", line: line, column: column)
                return false
            }
            let isMapping = event.type == YAML_MAPPING_START_EVENT
            let index = tree.openContainer(isMapping ? .mapping : .sequence, line: line, column: column)
            stack.append(index)
            let anchor = isMapping ? event.data.mapping_start.anchor : event.data.sequence_start.anchor
            if anchor != nil { pendingAnchors.append((index, anchor.map { String(cString: $0) } ?? "")) }
        case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
            guard let index = stack.popLast() else { return true }
            tree.close(index)
            if event.type == YAML_MAPPING_END_EVENT { tree.checkDuplicateKeys(index) }
            if let last = pendingAnchors.last, last.index == index {
                anchors[last.name] = index
                pendingAnchors.removeLast()
            }
        case YAML_ALIAS_EVENT:
            return expandAlias(event.data.alias.anchor, line: line, column: column)
        default:
            break
        }
        return true
    }

    /// Anchors on containers only become usable once the container is complete, which also
    /// rejects an alias that refers to its own enclosing node.
    var pendingAnchors: [(index: Int32, name: String)] = []

    private mutating func remember(anchor: UnsafeMutablePointer<yaml_char_t>?, for index: Int32) {
        guard let anchor else { return }
        anchors[String(cString: anchor)] = index
    }

    private mutating func expandAlias(_ anchor: UnsafeMutablePointer<yaml_char_t>?, line: Int, column: Int) -> Bool {
        let name = anchor.map { String(cString: $0) } ?? ""
        guard let target = anchors[name] else {
            fail("unknown alias *\(name)", line: line, column: column)
            return false
        }
        let size = Int(tree.node(target).end - target)
        guard aliasCopies + size <= aliasBudget else {
            fail("alias *\(name) expands to too many nodes: aliases may copy at most \(aliasBudget) nodes in all in this input",
                 line: line, column: column)
            return false
        }
        aliasCopies += size
        let copy = tree.copySubtree(target)
        // The copy reports the alias's position, not the anchor's.
        tree.nodes[Int(copy)].line = Int32(truncatingIfNeeded: line)
        tree.nodes[Int(copy)].column = Int32(truncatingIfNeeded: column)
        return true
    }

    private func isStringTag(_ tag: UnsafeMutablePointer<yaml_char_t>?) -> Bool {
        guard let tag else { return false }
        return String(cString: tag) == "tag:yaml.org,2002:str"
    }

    private mutating func reportParserError(_ parser: yaml_parser_t) {
        var reason = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        if let context = parser.context {
            reason += " \(String(cString: context))"
        }
        fail(reason, line: Int(parser.problem_mark.line), column: Int(parser.problem_mark.column))
    }

    private mutating func fail(_ reason: String, line: Int, column: Int) {
        let location = SourceLocation(file: tree.file, line: line + 1 + tree.lineOffset, column: column + 1)
        tree.diagnostics.append(Diagnostic(at: location, object: nil, field: "", reason: reason))
    }
}
