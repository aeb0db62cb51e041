/// A mapping key as the decoders match it against field names (`switch decoder.name(keyNode) {
/// case "spec": ... }`): compared as bytes where it lies in the tree, so the keys of 100k objects
/// are not each made into a String first. It matches exactly the literals the key's String would
/// equal: a key with a non-ASCII byte (which Swift compares by canonical equivalence, so that
/// KELVIN SIGN equals `K`) is compared as a String.
struct KeyName {
    fileprivate let box: ObjectDecoder.TreeBox
    fileprivate let node: Int32
    fileprivate let ascii: Bool

    init(_ node: Int32, in box: ObjectDecoder.TreeBox) {
        self.box = box
        self.node = node
        ascii = box.tree.allASCII || box.tree.isASCII(node)
    }

    static func ~= (pattern: StaticString, key: KeyName) -> Bool {
        if key.box.tree.scalarEquals(key.node, pattern) { return true }
        return !key.ascii && key.box.tree.string(key.node) == pattern.description
    }
}

/// A fixed set of field names (the fields of a kind that are read and not used), looked up as
/// `KeyName`s are matched: by length, then by bytes, without making the key a String (unless it
/// has a non-ASCII byte, see `KeyName`).
struct KeyNames: Sendable {
    private let names: Set<String>
    /// The names' bytes, by length.
    private let byLength: [[[UInt8]]]

    init(_ names: Set<String>) {
        self.names = names
        var byLength: [[[UInt8]]] = Array(repeating: [], count: (names.map(\.utf8.count).max() ?? 0) + 1)
        for name in names.sorted() { byLength[name.utf8.count].append(Array(name.utf8)) }
        self.byLength = byLength
    }

    func contains(_ key: KeyName) -> Bool {
        let tree = key.box.tree
        guard key.ascii else { return names.contains(tree.string(key.node)) }
        let node = tree.node(key.node)
        guard node.kind == .scalar else { return names.contains("") }
        let length = Int(node.length)
        guard length < byLength.count else { return false }
        return tree.text.withUnsafeBufferPointer { text in
            let start = Int(node.start)
            return byLength[length].contains { name in
                for offset in 0..<length where name[offset] != text[start + offset] { return false }
                return true
            }
        }
    }
}

extension ObjectDecoder {
    /// The key at `node`, for matching against field names.
    func name(_ node: Int32) -> KeyName { KeyName(node, in: box) }
}

extension NodeTree {
    /// True when the node's bytes (a scalar's text; nothing for a container) are all ASCII.
    func isASCII(_ index: Int32) -> Bool {
        let node = nodes[Int(index)]
        guard node.kind == .scalar else { return true }
        return text.withUnsafeBufferPointer { buffer in
            for offset in Int(node.start)..<Int(node.start + node.length) where buffer[offset] >= 0x80 { return false }
            return true
        }
    }
}
