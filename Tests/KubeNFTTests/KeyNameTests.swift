@testable import KubeManifest
import Testing

/// Decoders match mapping keys against field names as bytes in the tree (`KeyName`, `KeyNames`);
/// every match must be the one comparing the key's String would give, non-ASCII keys included.
@Suite("Field names matched in place")
struct KeyNameTests {
    /// Keys spelled alike, apart, by canonically equivalent Unicode (KELVIN SIGN is `K`), quoted,
    /// empty, and one that is a container (a complex key, which libyaml reads).
    static let yaml = """
        Kind: 1
        \u{212A}ind: 2
        kind: 3
        "kind": 4
        kin: 5
        kinds: 6
        "": 7
        nodeName: 8
        nodeNam\u{00e9}: 9
        caf\u{00e9}: 10
        cafe\u{0301}: 11
        ? [a]
        : 12
        hostNetwork: 13
        volumes: 14
        volume: 15
        terminationGracePeriodSeconds: 16
        \u{212A}: 17
        K: 18
        """

    static let literals: [StaticString] = ["Kind", "kind", "kin", "kinds", "nodeName", "café", "K", "hostNetwork", "volumes"]

    @Test("a key matches a literal exactly when its String equals it")
    func matchesAsStrings() throws {
        let tree = YAMLReader.read(Array(Self.yaml.utf8), name: "k.yaml", lineOffset: 0)
        let root = try #require(tree.documents.first)
        // libyaml read it (the block reader declines non-ASCII bytes), so each key's bytes are checked.
        #expect(!tree.allASCII)
        let decoder = ObjectDecoder(tree: tree, root: root, sink: LoadSink(options: LoadOptions()))
        var matched = 0
        for (keyNode, _) in tree.entries(root) {
            for literal in Self.literals {
                let asString = decoder.key(keyNode) == literal.description
                #expect((literal ~= decoder.name(keyNode)) == asString, "\(decoder.key(keyNode).debugDescription) against \(literal)")
                if asString { matched += 1 }
            }
        }
        #expect(matched >= 8)
    }

    @Test("a set of field names holds a key exactly when the Set of Strings does")
    func setMatchesAsStrings() throws {
        let tree = YAMLReader.read(Array(Self.yaml.utf8), name: "k.yaml", lineOffset: 0)
        let root = try #require(tree.documents.first)
        let decoder = ObjectDecoder(tree: tree, root: root, sink: LoadSink(options: LoadOptions()))
        let names: Set<String> = ["Kind", "kin", "nodeName", "café", "K", "volumes", "terminationGracePeriodSeconds", ""]
        let set = KeyNames(names)
        for (keyNode, _) in tree.entries(root) {
            #expect(set.contains(decoder.name(keyNode)) == names.contains(decoder.key(keyNode)), "\(decoder.key(keyNode).debugDescription)")
        }
        for keys in [PodFields.spec, PodFields.container] {
            #expect(!keys.contains(decoder.name(tree.entries(root).first { decoder.key($0.key) == "nodeName" }!.key)))
        }
        #expect(PodFields.spec.contains(decoder.name(tree.entries(root).first { decoder.key($0.key) == "volumes" }!.key)))
    }

    /// Subtrees made to share one hash are each found only as themselves, and the cache keeps a
    /// bounded number of them under that hash, so colliding inputs cannot make lookups scan far.
    @Test("a subtree cache keeps a few subtrees per hash and tells them apart")
    func subtreeCacheCollisions() throws {
        let yaml = (0..<20).map { "k\($0): {a: v\($0)}" }.joined(separator: "\n") + "\n"
        let tree = YAMLReader.read(Array(yaml.utf8), name: "c.yaml", lineOffset: 0)
        let root = try #require(tree.documents.first)
        let values = Array(tree.entries(root)).map(\.value)
        let cache = SubtreeCache<Int>()
        for (index, node) in values.enumerated() { cache.store(index, of: node, tag: 0, in: tree, hash: 42) }
        for (index, node) in values.enumerated() {
            let found = cache.value(of: node, tag: 0, in: tree, hash: 42)
            #expect(found == (index < SubtreeCache<Int>.perHash ? index : nil), "subtree \(index)")
            #expect(cache.value(of: node, tag: 1, in: tree, hash: 42) == nil)
        }
        #expect(tree.signatureHash(of: values[3], tag: 0) != tree.signatureHash(of: values[4], tag: 0))
    }
}
