import Foundation
@testable import KubeNFT
import KubeManifest
import LabKit
import NFTRuleset
import Testing

/// Hostile text (line breaks of every kind, control characters, nft and Markdown syntax) in any name
/// or comment must never change the shape of an output: no extra line, no foreign nft command, no
/// forged diagnostic, no Markdown outside a code span.
@Suite("Output safety")
struct OutputSafetyTests {
    /// Every C0 control, DEL, C1 NEL, the Unicode separators, nft and Markdown syntax, and the
    /// payloads of the reported attacks.
    static let hostile: [String] = {
        // Distinct strings only: the kernel test counts one chain and set per string.
        var list = (0..<0x20).map { "a" + String(Character(Unicode.Scalar(UInt8($0)))) + "b" }
        list += ["a\u{7F}b", "a\u{85}b", "a\u{2028}b", "a\u{2029}b", "\0", "\r\n", "\r", "\n", "\r\n\r\n"]
        list += ["x\r\nadd table ip evil #", "\r\nflush ruleset #", "\"; flush ruleset; #", "x\" comment \"y", "\\", "a\\\"b",
                 "#", ";", "$x", "{}", "} table ip evil {", "\r\u{301}add table ip evil", "\n\u{301}\u{302}", "\u{1B}[2J\u{1B}]0;t\u{7}",
                 "\u{202E}live", "", "-dash", "9digit", "/slash", "ünï\u{300}", String(repeating: "z", count: 300),
                 "`", "``a`", "a|b", "<script>x</script>", "[l](https://example.com)", "# h", "*e* _u_ ~~s~~", "&amp;", "\u{9B}31m"]
        var seen = Set<String>()
        return list.filter { seen.insert($0).inserted }
    }()

    /// Characters that must never appear in output besides the "\n" ending each line and tabs:
    /// other controls, and the separators some readers take as line ends. Written out here rather
    /// than taken from the code under test.
    static func isLineBreaking(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t" && scalar != "\n") || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    static func lines(_ text: String) -> [Substring] { text.split(separator: "\n", omittingEmptySubsequences: false) }

    /// A small table that puts `text` everywhere text can go: notes, table/set/chain/rule/element
    /// comments, set, map and chain names and references, and a symbolic value.
    static func ruleset(_ text: String) -> Ruleset {
        let set = NamedSet(name: "set-" + text, key: [.ipv4Address], flags: [.interval], comment: text,
                           elements: [SetElement(key: [.prefix(CIDR("10.0.0.0/8")!)], comment: text)])
        let map = NamedSet(name: "map-" + text, key: [.ipv4Address], mapping: .verdict, comment: text,
                           elements: [SetElement(key: [.address(IPAddress("10.1.1.1")!)], data: .verdict(.goto(text)), comment: text)])
        let base = Chain(name: "base-" + text, hook: .init(type: .filter, point: .forward, priority: 0), comment: text, rules: [
            Rule([.matches(.payload(.ipSaddr), .setReference(set.name)), .verdict(.jump(text))], comment: text),
            Rule([.verdictMap(key: .payload(.ipDaddr), map: map.name)], comment: text),
            Rule([.matches(.meta(.iifname), .value(.symbol("i" + String(String.UnicodeScalarView(text.unicodeScalars.prefix(8)))))), .verdict(.drop)], comment: text),
        ])
        return Ruleset(comment: text, notes: [text, "service " + text + " has no endpoints"], sets: [set, map],
                       chains: [base, Chain(name: text, comment: text, rules: [Rule([.verdict(.accept)], comment: text)])])
    }

    /// The first word of each line: the line-by-line structure nft parses.
    static func shape(_ text: String) -> [String] {
        lines(text).map { line in
            String(line.drop { $0 == "\t" }.prefix { $0 != " " })
        }
    }

    @Test("nft text: hostile text never adds a line, a control character or a command", arguments: hostile)
    func textEmitterShape(_ text: String) {
        let benign = NFTTextEmitter().emit(Self.ruleset("benign"))
        let emitted = NFTTextEmitter().emit(Self.ruleset(text))
        #expect(Self.lines(emitted).count == Self.lines(benign).count)
        #expect(Self.shape(emitted) == Self.shape(benign))
        #expect(!emitted.unicodeScalars.contains(where: Self.isLineBreaking), "\(emitted.debugDescription)")
        // Each table statement names only the kubenft table.
        for line in Self.lines(emitted) where line.hasPrefix("table") || line.hasPrefix("delete") {
            #expect(line == "table inet kubenft" || line == "delete table inet kubenft" || line == "table inet kubenft {")
        }
        // Identifiers are bare nft words: a letter, `_` or `.` first, then letters, digits, `_./-`.
        for line in Self.lines(emitted) {
            let words = line.split(separator: " ").map { $0.trimmingCharacters(in: .whitespaces) }
            for (index, word) in words.enumerated() where index > 0 && ["chain", "set", "map", "jump", "goto", "vmap", "saddr", "daddr"].contains(words[index - 1]) {
                let name = word.hasPrefix("@") ? String(word.dropFirst()) : word
                #expect(name.range(of: "^[A-Za-z_.][A-Za-z0-9_./-]{0,254}$", options: .regularExpression) != nil, "\(name)")
            }
        }
    }

    @Test("JSON: hostile text stays inside its string and reads back unchanged", arguments: hostile)
    func jsonEscaping(_ text: String) throws {
        let serialized = JSONText.object([("name", .string(text))]).serialized()
        #expect(!serialized.unicodeScalars.contains(where: Self.isLineBreaking), "\(serialized.debugDescription)")
        let parsed = try JSONSerialization.jsonObject(with: Data(serialized.utf8)) as? [String: String]
        #expect(parsed?["name"] == text)
        let emitted = NFTJSONEmitter().emit(Self.ruleset(text))
        #expect(Self.lines(emitted).count == Self.lines(NFTJSONEmitter().emit(Self.ruleset("benign"))).count)
        #expect(!emitted.unicodeScalars.contains(where: Self.isLineBreaking))
        _ = try JSONSerialization.jsonObject(with: Data(emitted.utf8))
    }

    @Test("a diagnostic is exactly one line whatever its object, field, file and reason hold", arguments: hostile)
    func diagnosticOneLine(_ text: String) {
        let diagnostics = [
            Diagnostic(at: SourceLocation(file: "f" + text, line: 3, column: 4), object: "Service ns/" + text, field: "spec." + text,
                       reason: "invalid value \"\(text)\""),
            Diagnostic(.warning, at: SourceLocation(file: "g", line: 1, column: 1), object: text, field: text, reason: text),
        ]
        for diagnostic in diagnostics {
            #expect(!diagnostic.description.unicodeScalars.contains(where: Self.isLineBreaking), "\(diagnostic.description.debugDescription)")
        }
        #expect(Self.lines(InputErrors(diagnostics).description).count == diagnostics.count)
    }

    static func report(_ text: String) -> ChangeReport {
        var report = ChangeReport()
        report.allowed = [.init(from: "ns/" + text, to: text + "/b", port: 80, transport: .tcp)]
        report.blocked = [.init(from: text, to: "x/y", port: 81, transport: .udp)]
        report.services = [.init(service: "svc/" + text, kind: "changed", details: ["backend " + text + " added"], before: [], after: [])]
        report.addedObjects = [.init(kind: "chain", name: "np-" + text, source: "ingress of " + text)]
        report.removedObjects = [.init(kind: "set", name: text, source: "from " + text)]
        return report
    }

    /// Splits a Markdown line into text outside code spans and the spans' contents, following
    /// CommonMark: a run of n backticks opens a span that the next run of exactly n backticks closes.
    static func codeSpans(_ line: Substring) -> (outside: String, spans: [String]) {
        let scalars = Array(line.unicodeScalars)
        var outside = "", spans: [String] = [], index = 0
        func run(at start: Int) -> Int {
            var end = start
            while end < scalars.count && scalars[end] == "`" { end += 1 }
            return end - start
        }
        while index < scalars.count {
            guard scalars[index] == "`" else { outside.unicodeScalars.append(scalars[index]); index += 1; continue }
            let length = run(at: index)
            var probe = index + length, close: Int?
            while probe < scalars.count {
                if scalars[probe] == "`" {
                    let other = run(at: probe)
                    if other == length { close = probe; break }
                    probe += other
                } else { probe += 1 }
            }
            guard let close else { outside += String(repeating: "`", count: length); index += length; continue }
            var content = String(String.UnicodeScalarView(scalars[(index + length)..<close]))
            if content.hasPrefix(" ") && content.hasSuffix(" ") && content.count >= 2 && content.contains(where: { $0 != " " }) {
                content = String(content.dropFirst().dropLast())
            }
            spans.append(content)
            outside += "<code>"
            index = close + length
        }
        return (outside, spans)
    }

    @Test("diff markdown: every name stays inside a code span on its own line", arguments: hostile)
    func markdownNames(_ text: String) {
        let markdown = Self.report(text).markdown
        let benign = Self.report("benign").markdown
        #expect(!markdown.unicodeScalars.contains(where: Self.isLineBreaking))
        let lines = Self.lines(markdown), benignLines = Self.lines(benign)
        #expect(lines.count == benignLines.count)
        for (line, reference) in zip(lines, benignLines) {
            let (outside, spans) = Self.codeSpans(line)
            let (benignOutside, benignSpans) = Self.codeSpans(reference)
            // Only the spans differ: nothing of the name is Markdown outside them.
            #expect(outside == benignOutside, "\(line)")
            #expect(spans.count == benignSpans.count, "\(line)")
            for span in spans where line.hasPrefix("|") {
                // In a table row, a pipe may appear only escaped.
                #expect(!span.replacingOccurrences(of: "\\|", with: "").contains("|"))
            }
        }
    }

    @Test("diff, trace and matrix text: hostile names never add lines", arguments: hostile)
    func reviewText(_ text: String) {
        #expect(Self.lines(Self.report(text).text(colour: false)).count == Self.lines(Self.report("benign").text(colour: false)).count)
        func matrix(_ name: String) -> ConnectivityMatrix {
            ConnectivityMatrix(pods: ["ns/" + name, name], ports: [80], protocols: [.tcp],
                               cells: [.init(from: name, to: "ns/" + name, port: 80, transport: .tcp, allowed: true)])
        }
        let rendered = matrix(text).text
        #expect(Self.lines(rendered).count == Self.lines(matrix("benign").text).count)
        #expect(!rendered.unicodeScalars.contains(where: Self.isLineBreaking))
        #expect(rendered.split(separator: "\n").allSatisfy { $0.hasPrefix("#") || $0.split(separator: "\t", omittingEmptySubsequences: false).count == 3 })
    }

    @Test("the kernel loads a table full of hostile names as exactly that table, in text and JSON",
          .enabled(if: Environment.labTestsEnabled), arguments: [false, true])
    func hostileTableInKernel(json: Bool) throws {
        let parts = Self.hostile.map(Self.ruleset)
        let combined = Ruleset(comment: Self.hostile.joined(), notes: parts.flatMap(\.notes), sets: parts.flatMap(\.sets),
                               chains: parts.flatMap(\.chains))
        let text = json ? NFTJSONEmitter().emit(combined) : NFTTextEmitter().emit(combined)
        try Kernel.withNamespace { namespace in
            try Kernel.run(["ip", "netns", "exec", namespace, "nft", "add", "table", "ip", "bystander"])
            try Kernel.run(["ip", "netns", "exec", namespace, "nft", "add", "chain", "ip", "bystander", "keep"])
            if !json { try Kernel.run(["ip", "netns", "exec", namespace, "nft", "-c", "-f", "-"], stdin: text) }
            try Kernel.load(text, json: json, in: namespace)
            let listing = try Kernel.run(["ip", "netns", "exec", namespace, "nft", "-j", "list", "ruleset"])
            let items = try #require((try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [String: Any])?["nftables"] as? [[String: Any]])
            func objects(_ kind: String) -> [[String: Any]] { items.compactMap { $0[kind] as? [String: Any] } }
            let tables = objects("table").map { "\($0["family"] ?? "") \($0["name"] ?? "")" }.sorted()
            #expect(tables == ["inet kubenft", "ip bystander"])
            #expect(objects("chain").filter { $0["table"] as? String == "bystander" }.count == 1)
            #expect(objects("chain").filter { $0["table"] as? String == "kubenft" }.count == combined.chains.count)
            #expect((objects("set") + objects("map")).count == combined.sets.count)
            #expect(objects("rule").count == combined.chains.reduce(0) { $0 + $1.rules.count })
        }
    }
}
