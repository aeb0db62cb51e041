/// Decodes one object (one document or one `items` entry) of a `NodeTree`, reporting problems
/// with the object's name and the field path of the offending node. Accessors return nil after
/// reporting, so each decoder keeps going and every problem in the object is found.
struct ObjectDecoder {
    /// The tree, held by reference: decoders and field iterators are copied many times per object,
    /// and a copy of the tree itself would retain each of its arrays every time.
    let box: TreeBox
    var tree: NodeTree { _read { yield box.tree } }
    /// The object's root mapping; field paths are relative to it.
    let root: Int32
    let sink: LoadSink
    /// `Kind ns/name` once `prepareLabel` ran, spelled only when a diagnostic needs it.
    var label: String? {
        guard labelled else { return nil }
        return Self.label(kind: kind, namespace: namespace, name: nameNode.map { tree.string($0) } ?? "")
    }
    /// Set by `prepareLabel`: the object's name node, if it has a string name.
    var nameNode: Int32?
    var labelled = false
    /// The object's namespace after defaulting; empty for cluster-scoped kinds.
    var namespace: String = ""
    var kind: KnownKind = .service

    init(tree: NodeTree, root: Int32, sink: LoadSink) {
        self.box = TreeBox(tree)
        self.root = root
        self.sink = sink
    }

    /// A decoder of an object of a tree other decoders share.
    init(box: TreeBox, root: Int32, sink: LoadSink) {
        self.box = box
        self.root = root
        self.sink = sink
    }

    var options: LoadOptions { sink.options }

    // MARK: Reporting

    func error(_ node: Int32, _ reason: String) {
        report(.error, field: tree.path(to: node, from: root), at: node, reason)
    }

    func warning(_ node: Int32, _ reason: String) {
        report(.warning, field: tree.path(to: node, from: root), at: node, reason)
    }

    /// For a field that is missing: the path is spelled out and the parent's position is used.
    func missing(_ field: String, in parent: Int32) {
        let parentPath = tree.path(to: parent, from: root)
        let path = parentPath.isEmpty ? field : parentPath + "." + field
        report(.error, field: path, at: parent, "is required")
    }

    func report(_ severity: Diagnostic.Severity, field: String, at node: Int32, _ reason: String) {
        sink.diagnostics.append(Diagnostic(severity, at: tree.location(node), object: label, field: field, reason: reason))
    }

    /// An unknown key is read and not honoured: a warning (the API server's default decoding drops
    /// it with a warning too), an error in strict mode. A misspelt field of a policy would otherwise
    /// silently change what the policy allows.
    func unknownField(_ key: Int32) {
        report(options.strict ? .error : .warning, field: tree.path(to: key, from: root), at: key,
               "unknown field \(Validation.quoted(tree.string(key)))")
    }

    /// How a wrongly typed value is shown: containers by kind; scalars by their text where a
    /// scalar was expected, by their type where a container was.
    func describe(_ node: Int32, showingValue: Bool = true) -> String {
        switch tree.node(node).kind {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar:
            let type = tree.scalarType(node)
            if type == .null { return "null" }
            guard showingValue else {
                switch type {
                case .bool: return "a boolean"
                case .int: return "an integer"
                case .float: return "a number"
                default: return "a string"
                }
            }
            var text = tree.string(node)
            if text.count > 40 { text = String(text.prefix(40)) + "..." }
            return type == .string ? "string \(Validation.quoted(text))" : text
        }
    }

    // MARK: Structure
    //
    // An explicit `null` decodes exactly as the API server's JSON decoding does: a field whose value
    // is null is the same as an absent field (`entries` and `field` skip it, so every "is required"
    // check sees it), and a null list item is the zero value of the item's type (an empty mapping,
    // an empty list, "" or 0), which then goes through the same validation as any other item.

    /// True for a mapping or null (the zero value of a struct); false, after reporting, otherwise.
    func isMapping(_ node: Int32) -> Bool {
        if tree.node(node).kind == .mapping || tree.isNull(node) { return true }
        error(node, "expected a mapping, got \(describe(node, showingValue: false))")
        return false
    }

    /// True for a list or null (an empty list); false, after reporting, otherwise.
    func isSequence(_ node: Int32) -> Bool {
        if tree.node(node).kind == .sequence || tree.isNull(node) { return true }
        error(node, "expected a list, got \(describe(node, showingValue: false))")
        return false
    }

    /// The items of a list; empty when null or wrongly typed (after reporting).
    func items(_ node: Int32) -> NodeTree.Children {
        isSequence(node) ? tree.children(node) : NodeTree.Children(empty: tree.nodes)
    }

    /// The entries of a mapping whose values are not null; empty when the mapping is null or wrongly
    /// typed (after reporting).
    func entries(_ node: Int32) -> Fields {
        Fields(box: box, entries: isMapping(node) ? tree.entries(node) : NodeTree.Entries(empty: tree.nodes))
    }

    /// The value under `key` in a mapping, nil when absent or null.
    func field(_ mapping: Int32, _ key: StaticString) -> Int32? {
        guard let value = tree.value(mapping, key), !tree.isNull(value) else { return nil }
        return value
    }

    /// A mapping's entries without the null-valued ones (null is the same as absent).
    struct Fields: Sequence {
        let box: TreeBox
        let entries: NodeTree.Entries
        func makeIterator() -> Iterator { Iterator(box: box, inner: entries.makeIterator()) }
        struct Iterator: IteratorProtocol {
            let box: TreeBox
            var inner: NodeTree.Entries.Iterator
            mutating func next() -> (key: Int32, value: Int32)? {
                while let entry = inner.next() {
                    if !box.tree.isNull(entry.value) { return entry }
                }
                return nil
            }
        }
    }

    func key(_ node: Int32) -> String { tree.string(node) }

    /// A tree shared by the decoders of its objects without copying it.
    final class TreeBox: Sendable {
        let tree: NodeTree
        init(_ tree: NodeTree) { self.tree = tree }
    }

    // MARK: Scalars

    /// A string; null is "" (the zero value: only list items can be null here, fields are skipped).
    func string(_ node: Int32) -> String? {
        let kind = tree.node(node).kind
        if kind == .scalar {
            let type = tree.scalarType(node)
            if type == .string { return tree.string(node) }
            if type == .null { return "" }
        }
        error(node, "expected a string, got \(describe(node))\(quotingHint(node))")
        return nil
    }

    /// What `string` checks, for a value that is only type-checked (a `uid`, an `appProtocol`): the
    /// same report when it is not a string, and no String built when it is.
    func checkString(_ node: Int32) {
        if tree.node(node).kind == .scalar {
            let type = tree.scalarType(node)
            if type == .string || type == .null { return }
        }
        _ = string(node)
    }

    /// For an unquoted scalar that YAML reads as a boolean or a number where a string is wanted: the
    /// API server gets a JSON boolean or number there and refuses it, so say how to keep it a string.
    func quotingHint(_ node: Int32) -> String {
        guard tree.node(node).kind == .scalar else { return "" }
        let text = tree.string(node)
        switch tree.scalarType(node) {
        case .bool:
            return " (unquoted, \(text) is a boolean, and the API server refuses a boolean here; quote it: \"\(text)\")"
        case .int, .float:
            return " (unquoted, \(text) is a number, and the API server refuses a number here; quote it: \"\(text)\")"
        default:
            return ""
        }
    }

    /// A boolean, spelled as the API server's YAML decoding accepts it (`true`, `yes`, `on`, `y`, and
    /// their opposites, in any of the three cases YAML 1.1 allows).
    func bool(_ node: Int32) -> Bool? {
        switch tree.scalarType(node) {
        case .bool where tree.node(node).kind == .scalar:
            return tree.boolean(node)
        case .null where tree.node(node).kind == .scalar:
            return false
        default:
            error(node, "expected a boolean, got \(describe(node))")
            return nil
        }
    }

    func int(_ node: Int32) -> Int? {
        guard tree.node(node).kind == .scalar else {
            error(node, "expected an integer, got \(describe(node))")
            return nil
        }
        switch tree.scalarType(node) {
        case .null: return 0
        case .int:
            if Self.hasLeadingZero(tree.string(node)) {
                // goyaml.v2 reads 010 as octal 8 and 080 as the float 80; never guess which was meant.
                error(node, "integer \(tree.string(node)) has a leading zero, which YAML 1.1 reads as octal; write it without one")
                return nil
            }
            if let value = tree.integer(node) { return value }
            error(node, "integer \(tree.string(node)) is out of range")
            return nil
        default:
            error(node, "expected an integer, got \(describe(node))")
            return nil
        }
    }

    /// `007`, `-01`: a zero followed by more digits (JSON input never gets here: its reader refuses them).
    static func hasLeadingZero(_ text: String) -> Bool {
        let digits = text.utf8.drop { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") }
        return digits.count > 1 && digits.first == UInt8(ascii: "0")
    }

    /// A port number in 1...65535.
    func port(_ node: Int32) -> UInt16? {
        guard let value = int(node) else { return nil }
        guard (1...65535).contains(value) else {
            error(node, "port \(value) out of range 1-65535")
            return nil
        }
        return UInt16(value)
    }

    /// `TCP`, `UDP` or `SCTP`; "" means the default, TCP, where the API server defaults it.
    func l4Protocol(_ node: Int32, emptyIsTCP: Bool = true) -> L4Protocol? {
        guard let text = string(node) else { return nil }
        if text.isEmpty, emptyIsTCP { return .tcp }
        if let value = L4Protocol(rawValue: text) { return value }
        error(node, "unsupported protocol \(Validation.quoted(text))")
        return nil
    }

    /// An IntOrString port: a number in 1...65535, or an IANA service name.
    func portReference(_ node: Int32) -> PortReference? {
        if tree.node(node).kind == .scalar, tree.scalarType(node) == .int {
            return port(node).map(PortReference.number)
        }
        guard tree.node(node).kind == .scalar, tree.scalarType(node) == .string else {
            error(node, "expected an integer or a port name, got \(describe(node))")
            return nil
        }
        let name = tree.string(node)
        if let problem = Validation.ianaServiceNameProblem(name) {
            error(node, "invalid port name \(Validation.quoted(name)): \(problem)")
            return nil
        }
        return .name(name)
    }

    func ip(_ node: Int32) -> IPAddress? {
        if let address = tree.dottedQuad(node) { return address }
        guard let text = string(node) else { return nil }
        if let address = IPAddress(text) { return address }
        error(node, "invalid IP address \(Validation.quoted(text))")
        return nil
    }

    /// A prefix; host bits are accepted and cleared, anything that is not `addr/len` is rejected.
    func cidr(_ node: Int32) -> CIDR? {
        guard let text = string(node) else { return nil }
        return cidr(text, at: node)
    }

    func cidr(_ text: String, at node: Int32) -> CIDR? {
        if let prefix = CIDR(text) { return prefix }
        error(node, "invalid CIDR \(Validation.quoted(text))")
        return nil
    }

    // MARK: Collections

    func strings(_ node: Int32) -> [String] {
        var result: [String] = []
        for item in items(node) { if let text = string(item) { result.append(text) } }
        return result
    }

    func ips(_ node: Int32) -> [IPAddress] {
        var result: [IPAddress] = []
        for item in items(node) { if let address = ip(item) { result.append(address) } }
        return result
    }

    func cidrs(_ node: Int32) -> [CIDR] {
        var result: [CIDR] = []
        for item in items(node) { if let prefix = cidr(item) { result.append(prefix) } }
        return result
    }

    /// A key of a `map[string]...` as the API server sees it: sigs.k8s.io/yaml turns a key that YAML
    /// reads as a boolean or a number into its JSON text (`on` becomes "true", `80` stays "80").
    func mapKey(_ node: Int32) -> String? {
        guard tree.node(node).kind == .scalar, !tree.node(node).quoted else { return string(node) }
        switch tree.scalarType(node) {
        case .bool: return tree.boolean(node).map { $0 ? "true" : "false" }
        case .int: return tree.string(node)
        default: return string(node)
        }
    }

    /// What the keys and values of a `map[string]string` are validated as.
    enum StringMapRole {
        /// `metadata.labels` and selectors' `matchLabels`: qualified-name keys, label values.
        case labels
        /// `metadata.annotations`: qualified-name keys, any value, 256 KiB in all.
        case annotations
    }

    /// A `map[string]string` such as labels or a service selector, validated as the API server does;
    /// a null value is "" (Go's decoding of null into a map of strings).
    func stringMap(_ node: Int32, as role: StringMapRole = .labels) -> [String: String] {
        guard isMapping(node) else { return [:] }
        // The pods of one workload repeat their labels.
        return memoized(node, tag: role == .labels ? 0 : 1, in: sink.values.maps) { decodeStringMap(node, as: role) }
    }

    /// What `decode` makes of the subtree at `node`. A subtree spelled exactly like one decoded
    /// earlier without a problem decodes to the same value, again without a problem, so that
    /// value is reused; a subtree with a problem is decoded (and reported) every time.
    func memoized<Value>(_ node: Int32, tag: UInt8, in cache: SubtreeCache<Value>, _ decode: () -> Value) -> Value {
        let hash = tree.signatureHash(of: node, tag: tag)
        if let known = cache.value(of: node, tag: tag, in: tree, hash: hash) { return known }
        let reported = sink.diagnostics.count
        let value = decode()
        if sink.diagnostics.count == reported { cache.store(value, of: node, tag: tag, in: tree, hash: hash) }
        return value
    }

    private func decodeStringMap(_ node: Int32, as role: StringMapRole) -> [String: String] {
        var result: [String: String] = [:]
        var totalBytes = 0
        for (keyNode, valueNode) in tree.entries(node) {
            guard let text = mapKey(keyNode), let value = string(valueNode) else { continue }
            if let problem = Validation.qualifiedNameProblem(text) {
                error(keyNode, "invalid key \(Validation.quoted(text)): \(problem)")
                continue
            }
            switch role {
            case .labels:
                if let problem = Validation.labelValueProblem(value) {
                    error(valueNode, "invalid label value \(Validation.quoted(value)): \(problem)")
                    continue
                }
            case .annotations:
                totalBytes += text.utf8.count + value.utf8.count
            }
            result[sink.values.string(text)] = sink.values.string(value)
        }
        if totalBytes > Validation.maximumAnnotationBytes {
            error(node, "annotations are \(totalBytes) bytes, more than the limit of \(Validation.maximumAnnotationBytes)")
        }
        return sink.values.labels(result)
    }
}
