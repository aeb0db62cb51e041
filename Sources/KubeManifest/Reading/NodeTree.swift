#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One node of a parsed document, stored flat: the tree is laid out in pre-order, so a container's
/// children follow it and `end` is the index just past its last descendant. This keeps parsing
/// free of per-node allocations, which matters at tens of thousands of objects.
struct TreeNode: Sendable {
    enum Kind: UInt8, Sendable { case scalar, mapping, sequence }

    var kind: Kind
    /// Quoted (or explicitly `!!str`-tagged) scalars are always strings. On a mapping: some key
    /// occurs more than once in it.
    var quoted: Bool
    /// 0-based, as the readers see them.
    var line: Int32
    var column: Int32
    /// Index just past this node's subtree (`self + 1` for scalars).
    var end: Int32
    /// Scalar bytes: `start ..< start + length` in `NodeTree.text`.
    var start: Int32
    var length: Int32
}

/// A key that repeats an earlier key of the same mapping.
struct DuplicateKey: Sendable, Hashable {
    var key: Int32
    var first: Int32
    var mapping: Int32
}

/// How a scalar resolves, following the small subset of YAML 1.1 Kubernetes relies on.
enum ScalarType: Sendable, Equatable {
    case null, bool, int, float, string
}

/// The nodes of every document of one source, plus where they came from and what went wrong
/// while reading. Decoding walks this instead of a generic YAML/JSON value.
struct NodeTree: Sendable {
    var file: String
    /// Lines before the part of the file this tree was read from (large files are read in parts).
    var lineOffset = 0
    var nodes: [TreeNode] = []
    /// Scalar contents, back to back.
    var text: [UInt8] = []
    /// Root node of each non-empty document, in order.
    var documents: [Int32] = []
    /// Syntax problems; reading stops at the first one in a source.
    var diagnostics: [Diagnostic] = []
    /// Keys that repeat an earlier key of the same mapping, sorted by node once reading is done.
    var duplicateKeys: [DuplicateKey] = []
    /// Every scalar is ASCII (known for trees the block reader built; false means unknown).
    var allASCII = false
    /// Speeds up `path(to:from:)` for diagnostics that come in order along a long list.
    let pathCursor = PathCursor()
    /// Keys of the mapping being checked, reused from one mapping to the next.
    private var keyScratch: [Int32] = []
    private var keyHashes: [Int: Int32] = [:]

    init(file: String, expectedSize: Int = 0) {
        self.file = file
        nodes.reserveCapacity(expectedSize / 8)
        text.reserveCapacity(expectedSize / 2)
    }

    /// A tree whose scalars are ranges of `input` itself (shared, not copied): for a reader that
    /// takes every scalar's bytes verbatim from the input (`appendScalar(at:length:…)`).
    init(file: String, sharing input: [UInt8]) {
        self.file = file
        nodes.reserveCapacity(input.count / 8)
        text = input
    }

    /// Deepest nesting accepted before a document is rejected, so no input can exhaust the stack.
    static let maximumDepth = 200

    // MARK: Building

    mutating func appendScalar(_ bytes: UnsafeBufferPointer<UInt8>, quoted: Bool, line: Int, column: Int) {
        let start = Int32(truncatingIfNeeded: text.count)
        text.append(contentsOf: bytes)
        let index = Int32(truncatingIfNeeded: nodes.count)
        nodes.append(TreeNode(kind: .scalar, quoted: quoted, line: Int32(truncatingIfNeeded: line),
                              column: Int32(truncatingIfNeeded: column), end: index + 1,
                              start: start, length: Int32(truncatingIfNeeded: bytes.count)))
    }

    /// A scalar whose bytes are `text[start ..< start + length]` already (a tree sharing its input).
    mutating func appendScalar(at start: Int, length: Int, quoted: Bool, line: Int, column: Int) {
        let index = Int32(truncatingIfNeeded: nodes.count)
        nodes.append(TreeNode(kind: .scalar, quoted: quoted, line: Int32(truncatingIfNeeded: line),
                              column: Int32(truncatingIfNeeded: column), end: index + 1,
                              start: Int32(truncatingIfNeeded: start), length: Int32(truncatingIfNeeded: length)))
    }

    /// Opens a container; `close` fills in its end once the children are in.
    mutating func openContainer(_ kind: TreeNode.Kind, line: Int, column: Int) -> Int32 {
        let index = Int32(truncatingIfNeeded: nodes.count)
        nodes.append(TreeNode(kind: kind, quoted: false, line: Int32(truncatingIfNeeded: line),
                              column: Int32(truncatingIfNeeded: column), end: -1, start: 0, length: 0))
        return index
    }

    mutating func close(_ index: Int32) {
        nodes[Int(index)].end = Int32(truncatingIfNeeded: nodes.count)
    }

    /// Records the keys of a just-closed mapping that repeat an earlier key (same bytes), and marks
    /// the mapping so that `value` returns the later one. Small mappings compare keys pairwise,
    /// larger ones through a hash table, so the check stays linear in the mapping's size.
    mutating func checkDuplicateKeys(_ mapping: Int32) {
        guard mayRepeatKey(mapping) else { return }
        keyScratch.removeAll(keepingCapacity: true)
        for (key, _) in entries(mapping) where nodes[Int(key)].kind == .scalar { keyScratch.append(key) }
        guard keyScratch.count > 1 else { return }
        if keyScratch.count <= 12 {
            for later in 1..<keyScratch.count {
                for earlier in 0..<later where sameScalar(keyScratch[earlier], keyScratch[later]) {
                    duplicateKeys.append(DuplicateKey(key: keyScratch[later], first: keyScratch[earlier], mapping: mapping))
                    break
                }
            }
        } else {
            checkDuplicateKeysHashed(mapping)
        }
        if duplicateKeys.last?.mapping == mapping { nodes[Int(mapping)].quoted = true }
    }

    /// False when no two scalar keys of the mapping are the same, found in one pass over the
    /// tree's storage (most mappings); true when some may be, or when it has too many keys to
    /// compare pairwise, for `checkDuplicateKeys` to look closer.
    private mutating func mayRepeatKey(_ mapping: Int32) -> Bool {
        var keys = keyScratch
        keyScratch = []
        keys.removeAll(keepingCapacity: true)
        defer { keyScratch = keys }
        return nodes.withUnsafeBufferPointer { nodes in
            text.withUnsafeBufferPointer { text in
                let end = Int(nodes[Int(mapping)].end)
                var child = Int(mapping) + 1
                var isKey = true
                while child < end {
                    if isKey, nodes[child].kind == .scalar { keys.append(Int32(truncatingIfNeeded: child)) }
                    isKey.toggle()
                    child = Int(nodes[child].end)
                }
                guard keys.count > 1 else { return false }
                guard keys.count <= 12 else { return true }
                for later in 1..<keys.count {
                    let right = nodes[Int(keys[later])]
                    let length = Int(right.length)
                    for earlier in 0..<later {
                        let left = nodes[Int(keys[earlier])]
                        guard Int(left.length) == length else { continue }
                        var offset = 0
                        while offset < length, text[Int(left.start) + offset] == text[Int(right.start) + offset] { offset += 1 }
                        if offset == length { return true }
                    }
                }
                return false
            }
        }
    }

    private mutating func checkDuplicateKeysHashed(_ mapping: Int32) {
        keyHashes.removeAll(keepingCapacity: true)
        for (offset, key) in keyScratch.enumerated() {
            let hash = scalarHash(key)
            guard let earlier = keyHashes[hash] else {
                keyHashes[hash] = key
                continue
            }
            // A hash collision between different keys falls back to a scan of the earlier keys.
            let first = sameScalar(earlier, key) ? earlier : keyScratch[..<offset].first { sameScalar($0, key) }
            if let first { duplicateKeys.append(DuplicateKey(key: key, first: first, mapping: mapping)) }
        }
    }

    private func sameScalar(_ left: Int32, _ right: Int32) -> Bool {
        let a = nodes[Int(left)], b = nodes[Int(right)]
        guard a.length == b.length else { return false }
        return text.withUnsafeBufferPointer { buffer in
            for offset in 0..<Int(a.length) where buffer[Int(a.start) + offset] != buffer[Int(b.start) + offset] { return false }
            return true
        }
    }

    private func scalarHash(_ index: Int32) -> Int {
        let node = nodes[Int(index)]
        return text.withUnsafeBufferPointer { buffer in
            var hasher = Hasher()
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[Int(node.start)..<Int(node.start + node.length)])))
            return hasher.finalize()
        }
    }

    /// Puts `duplicateKeys` in node order, for `duplicateKeys(in:)`.
    mutating func finishReading() {
        if duplicateKeys.count > 1 { duplicateKeys.sort { $0.key < $1.key } }
        keyHashes = [:]
        keyScratch = []
    }

    /// The duplicate keys inside the subtree of `root`.
    func duplicateKeys(under root: Int32) -> ArraySlice<DuplicateKey> {
        guard !duplicateKeys.isEmpty else { return [] }
        let end = nodes[Int(root)].end
        return duplicateKeys[firstDuplicate(after: root)..<firstDuplicate(after: end - 1)]
    }

    /// Index of the first duplicate key whose node comes after `node`.
    private func firstDuplicate(after node: Int32) -> Int {
        var low = 0, high = duplicateKeys.count
        while low < high {
            let middle = (low + high) / 2
            if duplicateKeys[middle].key <= node { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Appends a copy of the subtree rooted at `source` (an alias), returning the copy's root.
    mutating func copySubtree(_ source: Int32) -> Int32 {
        let from = Int(source), to = Int(nodes[from].end)
        let offset = Int32(truncatingIfNeeded: nodes.count) - source
        let copyRoot = Int32(truncatingIfNeeded: nodes.count)
        // No exact reserveCapacity here: it would defeat the array's geometric growth and make every
        // alias reallocate the whole tree (quadratic in the number of aliases).
        for index in from..<to {
            var node = nodes[index]
            node.end += offset
            nodes.append(node)
        }
        return copyRoot
    }

    // MARK: Reading

    @inline(__always) func node(_ index: Int32) -> TreeNode { nodes[Int(index)] }

    func location(_ index: Int32) -> SourceLocation {
        let node = nodes[Int(index)]
        return SourceLocation(file: file, line: Int(node.line) + 1 + lineOffset, column: Int(node.column) + 1)
    }

    func string(_ index: Int32) -> String {
        let node = nodes[Int(index)]
        let start = Int(node.start), count = Int(node.length)
        return text.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<(start + count)]), as: UTF8.self)
        }
    }

    /// Everything decoding can see of the subtree at `index` (each node's kind and quoting, each
    /// scalar's bytes), and not where it is: equal signatures decode to equal values. Spelled
    /// out only to be stored (`SubtreeCache`); lookups hash and compare the subtree in place.
    func signature(of index: Int32, tag: UInt8) -> [UInt8] {
        var bytes: [UInt8] = [tag]
        let end = Int(nodes[Int(index)].end)
        text.withUnsafeBufferPointer { buffer in
            for node in nodes[Int(index)..<end] {
                bytes.append(Self.signatureHeader(node))
                guard node.kind == .scalar else { continue }
                withUnsafeBytes(of: node.length.littleEndian) { bytes.append(contentsOf: $0) }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[Int(node.start)..<Int(node.start + node.length)]))
            }
        }
        return bytes
    }

    private static func signatureHeader(_ node: TreeNode) -> UInt8 { node.kind.rawValue << 1 | (node.quoted ? 1 : 0) }

    /// A hash of the subtree's signature, computed without spelling it out: equal signatures hash
    /// alike (the scalars' bytes go in eight at a time, after their length). A quick mix, seeded
    /// per process: `SubtreeCache` bounds how many subtrees it keeps under one hash, so inputs made
    /// to collide cost a few comparisons each, not a scan of everything stored.
    func signatureHash(of index: Int32, tag: UInt8) -> Int {
        @inline(__always) func mix(_ hash: UInt64, _ word: UInt64) -> UInt64 {
            let product = (hash ^ word) &* 0x9E37_79B9_7F4A_7C15
            return product ^ (product >> 29)
        }
        var hash = mix(Self.hashSeed, UInt64(tag))
        let end = Int(nodes[Int(index)].end)
        nodes.withUnsafeBufferPointer { nodes in
            text.withUnsafeBytes { buffer in
                for node in nodes[Int(index)..<end] {
                    guard node.kind == .scalar else { hash = mix(hash, UInt64(Self.signatureHeader(node))); continue }
                    hash = mix(hash, UInt64(Self.signatureHeader(node)) << 32 | UInt64(UInt32(bitPattern: node.length)))
                    var offset = Int(node.start)
                    let stop = offset + Int(node.length)
                    while stop - offset >= 8 {
                        hash = mix(hash, UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                        offset += 8
                    }
                    var tail: UInt64 = 0
                    var shift: UInt64 = 0
                    while offset < stop {
                        tail |= UInt64(buffer[offset]) << shift
                        shift += 8
                        offset += 1
                    }
                    hash = mix(hash, tail)
                }
            }
        }
        return Int(truncatingIfNeeded: mix(hash, UInt64(end) &- UInt64(index)))
    }

    private static let hashSeed = UInt64.random(in: .min ... .max)

    /// True when the subtree at `index` has exactly the stored `signature` (same bytes as
    /// `signature(of:tag:)` would spell), compared in place.
    func hasSignature(_ signature: [UInt8], at index: Int32, tag: UInt8) -> Bool {
        signature.withUnsafeBufferPointer { stored in
            text.withUnsafeBufferPointer { buffer in
                guard stored.first == tag else { return false }
                var position = 1
                let end = Int(nodes[Int(index)].end)
                for node in nodes[Int(index)..<end] {
                    guard position < stored.count, stored[position] == Self.signatureHeader(node) else { return false }
                    position += 1
                    guard node.kind == .scalar else { continue }
                    let length = Int(node.length)
                    guard stored.count - position >= 4 + length else { return false }
                    var storedLength = 0
                    for byte in 0..<4 { storedLength |= Int(stored[position + byte]) << (8 * byte) }
                    guard storedLength == length else { return false }
                    position += 4
                    if length > 0, memcmp(stored.baseAddress! + position, buffer.baseAddress! + Int(node.start), length) != 0 {
                        return false
                    }
                    position += length
                }
                return position == stored.count
            }
        }
    }

    /// True when the scalar's bytes are exactly `literal` (ASCII).
    func scalarEquals(_ index: Int32, _ literal: StaticString) -> Bool {
        let node = nodes[Int(index)]
        guard node.kind == .scalar, Int(node.length) == literal.utf8CodeUnitCount else { return false }
        return text.withUnsafeBufferPointer { buffer in
            let base = Int(node.start)
            let other = literal.utf8Start
            for offset in 0..<Int(node.length) where buffer[base + offset] != other[offset] { return false }
            return true
        }
    }

    func scalarType(_ index: Int32) -> ScalarType {
        let node = nodes[Int(index)]
        guard node.kind == .scalar else { return .string }
        if node.quoted { return .string }
        return text.withUnsafeBufferPointer { buffer in
            ScalarResolver.resolve(UnsafeBufferPointer(rebasing: buffer[Int(node.start)..<Int(node.start + node.length)]))
        }
    }

    /// The IPv4 address a string scalar of digits and dots spells, read from its bytes; nil
    /// for anything else (then the caller reads it as a String, as before).
    func dottedQuad(_ index: Int32) -> IPAddress? {
        let node = nodes[Int(index)]
        guard node.kind == .scalar, scalarType(index) == .string else { return nil }
        return text.withUnsafeBufferPointer { buffer in
            IPAddress(dottedQuad: UnsafeBufferPointer(rebasing: buffer[Int(node.start)..<Int(node.start + node.length)]))
        }
    }

    func isNull(_ index: Int32) -> Bool {
        nodes[Int(index)].kind == .scalar && scalarType(index) == .null
    }

    /// Integer value of a plain integer scalar; nil when it is not one or does not fit.
    func integer(_ index: Int32) -> Int? {
        guard scalarType(index) == .int else { return nil }
        let node = nodes[Int(index)]
        return text.withUnsafeBufferPointer { buffer in
            ScalarResolver.integer(UnsafeBufferPointer(rebasing: buffer[Int(node.start)..<Int(node.start + node.length)]))
        }
    }

    /// Value of a plain boolean scalar (YAML 1.1 spellings included); nil when it is not one.
    func boolean(_ index: Int32) -> Bool? {
        guard scalarType(index) == .bool else { return nil }
        let node = nodes[Int(index)]
        return text.withUnsafeBufferPointer { buffer in
            ScalarResolver.boolean(UnsafeBufferPointer(rebasing: buffer[Int(node.start)..<Int(node.start + node.length)]))
        }
    }

    /// The children of a container, in order.
    func children(_ index: Int32) -> Children { Children(nodes: nodes, parent: index) }

    /// The key/value pairs of a mapping, in order.
    func entries(_ index: Int32) -> Entries { Entries(nodes: nodes, parent: index) }

    /// The value under `key` in a mapping, if present; the last one when the key repeats (as
    /// the API server's decoding keeps the later value).
    func value(_ mapping: Int32, _ key: StaticString) -> Int32? {
        let container = node(mapping)
        guard container.kind == .mapping else { return nil }
        // Walked over the storage directly: this runs several times per object.
        let wanted = key.utf8Start, wantedLength = key.utf8CodeUnitCount
        return nodes.withUnsafeBufferPointer { nodes in
            text.withUnsafeBufferPointer { text in
                var found: Int32?
                var child = Int(mapping) + 1
                let end = Int(container.end)
                while child < end {
                    let keyNode = nodes[child]
                    let valueIndex = Int(keyNode.end)
                    guard valueIndex < end else { break }
                    if keyNode.kind == .scalar, Int(keyNode.length) == wantedLength,
                       Self.bytesEqual(text, at: Int(keyNode.start), wanted, wantedLength) {
                        found = Int32(truncatingIfNeeded: valueIndex)
                        // The last one counts when a key repeats (marked on the mapping).
                        if !container.quoted { break }
                    }
                    child = Int(nodes[valueIndex].end)
                }
                return found
            }
        }
    }

    @inline(__always)
    private static func bytesEqual(_ text: UnsafeBufferPointer<UInt8>, at start: Int, _ other: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for offset in 0..<count where text[start + offset] != other[offset] { return false }
        return true
    }

    struct Children: Sequence {
        let nodes: [TreeNode]
        let start: Int32
        let end: Int32
        init(nodes: [TreeNode], parent: Int32) {
            self.nodes = nodes
            let node = nodes[Int(parent)]
            self.start = parent + 1
            self.end = node.kind == .scalar ? parent + 1 : node.end
        }
        /// Nothing to iterate, for a node of the wrong type.
        init(empty nodes: [TreeNode]) {
            self.nodes = nodes
            self.start = 0
            self.end = 0
        }
        func makeIterator() -> Iterator { Iterator(nodes: nodes, cursor: start, end: end) }
        struct Iterator: IteratorProtocol {
            let nodes: [TreeNode]
            var cursor: Int32
            let end: Int32
            mutating func next() -> Int32? {
                guard cursor < end else { return nil }
                let current = cursor
                cursor = nodes[Int(current)].end
                return current
            }
        }
    }

    struct Entries: Sequence {
        let children: Children
        init(nodes: [TreeNode], parent: Int32) { children = Children(nodes: nodes, parent: parent) }
        init(empty nodes: [TreeNode]) { children = Children(empty: nodes) }
        func makeIterator() -> Iterator { Iterator(children: children.makeIterator()) }
        struct Iterator: IteratorProtocol {
            var children: Children.Iterator
            mutating func next() -> (key: Int32, value: Int32)? {
                guard let key = children.next(), let value = children.next() else { return nil }
                return (key, value)
            }
        }
    }
}
