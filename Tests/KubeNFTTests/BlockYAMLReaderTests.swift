import Foundation
@testable import KubeManifest
import Testing

/// The block-style reader must build exactly the tree libyaml builds, or decline. Checked on every
/// fixture and on seeded generated documents: kubectl-style ones (which it must take) and the same
/// with one hostile edit each (which it must either read identically or hand to libyaml).
@Suite("Block YAML reader against libyaml")
struct BlockYAMLReaderTests {
    /// Every node, the text, the documents and the duplicate keys of a tree, as comparable lines.
    static func dump(_ tree: NodeTree) -> [String] {
        var lines = tree.nodes.enumerated().map { index, node in
            "\(index) \(node.kind) q=\(node.quoted) \(node.line):\(node.column) end=\(node.end) "
                + (node.kind == .scalar ? tree.string(Int32(index)).debugDescription : "")
        }
        lines.append("documents \(tree.documents)")
        lines.append("duplicates \(tree.duplicateKeys.map { "\($0.key)/\($0.first)/\($0.mapping)" })")
        lines.append("offset \(tree.lineOffset) diagnostics \(tree.diagnostics.map(\.description))")
        return lines
    }

    /// nil when the block reader declined; otherwise whether it agreed with libyaml, both when it
    /// copies the scalars into its tree and when its tree shares the input array.
    static func compare(_ text: String, lineOffset: Int = 0) -> (agrees: Bool, detail: String)? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> (Bool, String)? in
            guard let fast = BlockYAMLReader.read(buffer, file: "g.yaml", lineOffset: lineOffset) else { return nil }
            guard let shared = BlockYAMLReader.read(buffer, file: "g.yaml", lineOffset: lineOffset, sharing: bytes) else {
                return (false, "declined when sharing the input, read when copying\n--- input ---\n\(text)")
            }
            let reference = YAMLReader.readWithLibYAML(buffer, name: "g.yaml", lineOffset: lineOffset)
            for (mode, tree) in [("block", fast), ("block (shared input)", shared)] {
                let (left, right) = (dump(tree), dump(reference))
                guard left != right else { continue }
                let first = zip(left, right).first { $0 != $1 }.map { "\(mode): \($0.0)\nlibyaml: \($0.1)" } ?? "lengths differ"
                return (false, "\(first)\n--- input ---\n\(text)")
            }
            // Sharing means no scalar byte was copied: the tree's text is the input.
            guard shared.text == bytes else { return (false, "the shared tree's text is not its input") }
            return (true, "")
        }
    }

    @Test("every fixture manifest is read identically or declined")
    func fixtures() throws {
        let root = Fixtures.root
        var checked = 0, taken = 0
        for file in ManifestLoader.manifestFiles(under: root) where file.hasSuffix(".yaml") || file.hasSuffix(".yml") {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            checked += 1
            guard let outcome = Self.compare(text) else { continue }
            taken += 1
            #expect(outcome.agrees, "\(file):\n\(outcome.detail)")
        }
        #expect(checked > 100)
        // Many fixtures are hand-written with comments and flow style, but the reader must not
        // decline wholesale.
        #expect(taken * 3 > checked, "the block reader took only \(taken) of \(checked) fixtures")
    }

    @Test("generated kubectl-style documents are all taken and read identically", arguments: 0..<4)
    func generated(seed: UInt64) {
        var generator = BlockYAMLGenerator(seed: seed)
        for _ in 0..<150 {
            let text = generator.stream()
            guard let outcome = Self.compare(text) else {
                Issue.record("declined a document of the subset:\n\(text)")
                return
            }
            #expect(outcome.agrees, "\(outcome.detail)")
            if !outcome.agrees { return }
        }
    }

    @Test("one hostile edit each: read identically or declined, never different", arguments: 0..<4)
    func mutated(seed: UInt64) {
        var generator = BlockYAMLGenerator(seed: seed &+ 1000)
        var declined = 0
        for _ in 0..<300 {
            let text = generator.mutate(generator.stream())
            guard let outcome = Self.compare(text, lineOffset: 7) else {
                declined += 1
                continue
            }
            #expect(outcome.agrees, "\(outcome.detail)")
            if !outcome.agrees { return }
        }
        #expect(declined > 0)
    }

    @Test("edges of the subset", arguments: [
        "a: 1\n---\n",                       // empty last document
        "---\n---\na: 1\n",                  // empty first document
        "a: b: c\n",                         // error for libyaml
        "a:\n  b\n",                         // scalar on the next line
        "a: x\n  y\n",                       // multi-line plain scalar
        "a: 'it''s'\n",                      // escaped single quote
        "a: \"x\\ty\"\n",                    // escape
        "- - a\n",                           // compact nested sequence
        "a: {}\n  b: c\n",                   // deeper line after a value
        "a:\n- x\n -y\n",                    // misaligned entry
        "\u{FEFF}a: 1\n",                    // byte order mark
        "%YAML 1.1\n---\na: 1\n",            // directive
        "a: 1\n...\n",                       // document end marker
        "a: &x 1\nb: *x\n",                  // anchor and alias
        "a: !!str 1\n",                      // tag
        "a: [1, 2]\n",                       // flow sequence
        "a:\tb\n",                           // tab
        "a: 1\r\n",                          // carriage return
        "a: 1 # note\n",                     // comment
        "? a\n: b\n",                        // complex key
        "a: |\n  x\n",                       // block scalar
        "a: 1\n a: 2\n",                     // indentation error
        "a: 1\nb\n",                         // bare scalar in a mapping
        "-\n",                               // empty entry
        "a:\n",                              // empty value at the end
        "a:   \nb: 2\n",                     // empty value with trailing spaces
        "a: 1\na: 2\n",                      // duplicate key
        "\"a\" : 1\n'b': '2'\n",             // quoted keys
        "a:\n- b: 1\n  c:\n- d\n",           // indentless sequence of compact mappings
        // Colons and refused bytes on either side of eight-byte words (lines are scanned a word at a time).
        "image: registry.example.com/app:v1.4.2\n", // one colon in a value
        "a: http://h:80/x:y:z\n",             // several colons in a value
        "a:b:c: 1\n",                          // colons in a key
        "- a:b:c:d: e\n",                      // colons in a compact mapping's key
        "abcdefg: h:i:j k: l\n",               // a value colon then a key colon: an error
        "abcdefgh: ijklmnop:\n",               // a value ending at a colon: an error
        "a:b:c: x:y: z\n",                     // a key colon after the second colon of the line: an error
        "key: abcdefgh#ijklmnop\n",            // `#` inside a word
        "key: abcdefghijklm\u{7F}n\n",          // DEL past a word
        "key: abcdefghij\u{00e9}k\n",           // non-ASCII past a word
        "key: abcdefghijklmnop\u{01}\n",        // control byte at a word's start
        "k: abcdefghijklmn:\nz: 1",            // colon ending a word, last line without newline
        "a:\n  bcdefghijklmnopq:\n    r: s:t\n", // colons in deeper lines
    ])
    func edges(text: String) {
        if let outcome = Self.compare(text) { #expect(outcome.agrees, "\(outcome.detail)") }
    }

    /// Lines are scanned eight bytes at a time: every byte that matters (colon, `#`, tab, DEL,
    /// non-ASCII, carriage return, a following line's colon) at every offset of a word.
    @Test("a special byte at each offset of a word", arguments: [":", ": v", ":x", "#", "\t", "\u{7F}", "\u{00e9}", "\r", "\n:", "\nz: w:x"])
    func wordOffsets(special: String) {
        var taken = 0
        for before in 0..<18 {
            for after in [0, 1, 7, 9] {
                let text = "k: " + String(repeating: "x", count: before) + special + String(repeating: "y", count: after) + "\nm: n\n"
                guard let outcome = Self.compare(text) else { continue }
                taken += 1
                #expect(outcome.agrees, "\(outcome.detail)")
            }
        }
        if [":x", "\nz: w:x"].contains(special) { #expect(taken > 0) }
    }

    @Test("the block reader takes kubectl's shapes (it must not silently fall back on them)")
    func takesKubectlShapes() {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata:
              annotations: {}
              labels:
                app.kubernetes.io/name: web
              name: web-0
              namespace: default
              ownerReferences:
              - apiVersion: apps/v1
                controller: true
                kind: StatefulSet
                name: web
            spec:
              containers:
              - image: nginx
                name: web
                ports:
                - containerPort: 80
                  name: http
                  protocol: TCP
                resources: {}
              hostname: web-0
            status:
              conditions:
              - lastProbeTime: null
                status: "True"
                type: Ready
              podIP: 10.0.0.1
              podIPs:
              - ip: 10.0.0.1
            ---
            apiVersion: v1
            kind: Namespace
            metadata:
              name: 'default'
            """
        let outcome = Self.compare(text)
        #expect(outcome?.agrees == true, "\(outcome?.detail ?? "declined")")
    }
}

/// A seeded generator of kubectl-style block YAML streams, and of single hostile edits to them.
struct BlockYAMLGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    private mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }

    private mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    private mutating func pick(_ choices: [String]) -> String { choices[below(choices.count)] }

    mutating func key() -> String {
        pick(["name", "namespace", "app.kubernetes.io/name", "port", "a", "spec", "x-y_z", "8080", "\"quoted\"",
              "'single'", "k", "name"])
    }

    mutating func scalar() -> String {
        pick(["web", "10.0.0.1", "80", "-1", "true", "null", "~", "\"True\"", "'x y'", "\"\"", "''", "a b  c",
              "{}", "[]", "v1", "apps/v1", "2024-01-01T00:00:00Z", "x,y", "a[0]", "\"a: b\"", "a-b:c",
              "0.5", "TCP", "\"with 'single' inside\"", "'with \"double\" inside'"])
    }

    /// A block mapping at `indent` whose lines follow the current line.
    mutating func mapping(indent: Int, depth: Int, into lines: inout [String], firstPrefix: String? = nil) {
        let pad = String(repeating: " ", count: indent)
        for index in 0..<(1 + below(4)) {
            let prefix = index == 0 ? firstPrefix ?? pad : pad
            let key = key()
            switch depth > 3 ? 0 : below(5) {
            case 1:
                lines.append(prefix + key + ":")
                mapping(indent: indent + 2, depth: depth + 1, into: &lines)
            case 2:
                lines.append(prefix + key + ":" + (below(3) == 0 ? "  " : ""))
                sequence(indent: below(2) == 0 ? indent : indent + 2, depth: depth + 1, into: &lines)
            case 3:
                lines.append(prefix + key + ":")
                if below(4) == 0 { continue }
                lines.append(pad + "  " + key + ": " + scalar())
            default:
                lines.append(prefix + key + ": " + scalar() + (below(5) == 0 ? " " : ""))
            }
        }
    }

    mutating func sequence(indent: Int, depth: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        for _ in 0..<(1 + below(3)) {
            if below(2) == 0 || depth > 3 {
                lines.append(pad + "- " + scalar())
            } else {
                mapping(indent: indent + 2, depth: depth + 1, into: &lines, firstPrefix: pad + "- ")
            }
        }
    }

    /// One to three documents, sometimes with explicit starts and blank lines.
    mutating func stream() -> String {
        var lines: [String] = []
        for index in 0..<(1 + below(3)) {
            if index > 0 || below(3) == 0 { lines.append("---") }
            mapping(indent: 0, depth: 0, into: &lines)
            if below(4) == 0 { lines.append("") }
        }
        return lines.joined(separator: "\n") + (below(5) == 0 ? "" : "\n")
    }

    /// The stream with one hostile edit somewhere.
    mutating func mutate(_ text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let line = below(lines.count)
        let edits = [" # c", " '#x'", "\t", "\r", " &a", " *a", " !!str", ": x", ":", " 'a''b'", " \"a\\nb\"", " [1]", " {a: 1}", " |", " >",
                     "\u{00e9}", "  ", "-", "- ", "---", "...", "%", "?", " @", " `", " \"open", " 'open", ",", "]", "}"]
        let edit = pick(edits)
        switch below(4) {
        case 0: lines[line] += edit
        case 1: lines.insert(edit.trimmingCharacters(in: .whitespaces), at: line)
        case 2: lines[line] = " " + lines[line]
        default:
            let text = lines[line]
            let cut = text.isEmpty ? 0 : below(text.count)
            lines[line] = String(text.prefix(cut)) + edit + String(text.dropFirst(cut))
        }
        return lines.joined(separator: "\n")
    }
}
