import Foundation
import LabKit
import NFTKernel
import NFTRuleset
import Testing

/// The pure linearizer against nft itself, without root: for representative rules of the golden
/// cases (every expression and statement shape kubenft emits), `fixtures/netlink-expressions/
/// expressions.txt` holds what `nft --debug=netlink` (nft 1.0.6) prints for the same rule, and our
/// kernel expressions printed in that notation must equal it. Re-record (root, nft installed) with
/// `KUBENFT_RECORD_NETLINK=1 swift test --skip-build --filter NetlinkNotationTests`.
@Suite("Linearized rules against nft --debug=netlink")
struct NetlinkNotationTests {
    static let path = GoldenCases.root + "/netlink-expressions/expressions.txt"
    static let recording = ProcessInfo.processInfo.environment["KUBENFT_RECORD_NETLINK"] == "1"

    /// One recorded rule: where it comes from, its text, and nft's expression lines.
    struct Entry: Equatable {
        var fixture: String
        var chain: String
        var index: Int
        var text: String
        var lines: [String]
    }

    @Test("representative rules linearize exactly as nft 1.0.6 does")
    func goldenDumps() throws {
        if Self.recording { try Self.record() }
        let entries = try Self.load()
        #expect(entries.count >= 20, "the recorded file covers too few rules")
        var rulesets: [String: Ruleset] = [:]
        for entry in entries {
            let ruleset = try rulesets[entry.fixture] ?? #require(GoldenCases.named(entry.fixture)).compile()
            rulesets[entry.fixture] = ruleset
            let chain = try #require(ruleset.chains.first { $0.name == entry.chain }, "\(entry.fixture): no chain \(entry.chain)")
            try #require(entry.index < chain.rules.count && NFTTextEmitter.rule(chain.rules[entry.index]) == entry.text,
                         "\(entry.fixture) \(entry.chain) rule \(entry.index) changed: re-record with KUBENFT_RECORD_NETLINK=1")
            let ours = try Self.ourLines(chain.rules[entry.index], in: ruleset)
            #expect(ours == entry.lines.map(Self.asStored), "\(entry.fixture) \(entry.chain) rule \(entry.index): `\(entry.text)`")
        }
    }

    @Test("every IR field has exactly one row of kernel facts, and the raiser reads back what the linearizer loads")
    func fieldFacts() throws {
        let payloads: [PayloadField] = [.ipSaddr, .ipDaddr, .ip6Saddr, .ip6Daddr, .thSport, .thDport]
        for field in payloads {
            #expect(KernelFields.payloads.filter { $0.field == field }.count == 1, "\(field)")
            let fact = KernelFields.payload(field)
            #expect(KernelFields.payload(base: fact.base, offset: fact.offset, family: fact.family)?.field == field)
        }
        let metas: [MetaKey] = [.l4proto, .nfproto, .mark, .iifname, .oifname]
        for key in metas { #expect(KernelFields.metas.filter { $0.key == key }.count == 1 && KernelFields.meta(number: KernelFields.meta(key).number)?.key == key) }
        let cts: [ConntrackKey] = [.state, .status, .mark]
        for key in cts { #expect(KernelFields.conntracks.filter { $0.key == key }.count == 1 && KernelFields.conntrack(number: KernelFields.conntrack(key).number)?.key == key) }
    }

    /// nft's line in the form the kernel stores and dumps it, which is what kubenft sends so that
    /// its encoding equals a readback. One difference is known: for `dnat to … map @m` with an
    /// address and a port, nft 1.0.6 sends no NAT flags, and the kernel sets
    /// NF_NAT_RANGE_PROTO_SPECIFIED (0x2) itself whenever a proto register is given.
    static func asStored(_ line: String) -> String {
        guard line.hasPrefix("[ nat dnat "), line.contains(" proto_min "), !line.contains(" flags ") else { return line }
        return String(line.dropLast()) + "flags 0x2 ]"
    }

    static func ourLines(_ rule: Rule, in ruleset: Ruleset) throws -> [String] {
        let linearizer = Linearizer(sets: Dictionary(ruleset.sets.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
        return NetlinkNotation.lines(try linearizer.linearize(rule).expressions)
    }

    static func load() throws -> [Entry] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var entries: [Entry] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("## ") {
                let parts = line.dropFirst(3).split(separator: " ", maxSplits: 2).map(String.init)
                guard parts.count == 3, let index = Int(parts[2]) else { throw Namespaces.Failure(description: "bad header \(line)") }
                entries.append(Entry(fixture: parts[0], chain: parts[1], index: index, text: "", lines: []))
            } else if line.hasPrefix("#: "), !entries.isEmpty {
                entries[entries.count - 1].text = String(line.dropFirst(3))
            } else if line.hasPrefix("[ "), !entries.isEmpty {
                entries[entries.count - 1].lines.append(line)
            }
        }
        return entries
    }

    // MARK: - Recording (root and nft 1.0.6)

    /// Picks rules that bring an expression shape not seen yet, loads each golden case with
    /// `nft --debug=netlink -f` in a throwaway namespace and writes nft's lines for the picked rules.
    static func record() throws {
        var seen: Set<String> = []
        var out = "# nft --debug=netlink output (nft 1.0.6) for representative rules of the golden cases.\n"
        out += "# Recorded with KUBENFT_RECORD_NETLINK=1 swift test --skip-build --filter NetlinkNotationTests; do not edit.\n"
        for golden in GoldenCases.all {
            guard let ruleset = try? golden.compile() else { continue }
            var picked: [(chain: String, index: Int)] = []
            for chain in ruleset.chains {
                for (index, rule) in chain.rules.enumerated() {
                    guard let lines = try? ourLines(rule, in: ruleset) else { continue }
                    let shapes = Set(lines.map(shape))
                    if !shapes.isSubset(of: seen) {
                        seen.formUnion(shapes)
                        picked.append((chain.name, index))
                    }
                }
            }
            guard !picked.isEmpty else { continue }
            let dump = try Namespaces.with { names in
                try Namespaces.nft(["--debug=netlink", "-f", "-"], in: names[0], stdin: NFTTextEmitter().emit(ruleset))
            }
            let blocks = ruleBlocks(dump, family: ruleset.family, table: ruleset.name)
            for (chainName, index) in picked {
                guard let lines = blocks[chainName], index < lines.count,
                      let rule = ruleset.chains.first(where: { $0.name == chainName })?.rules[index] else {
                    throw Namespaces.Failure(description: "\(golden.name): nft printed no rule \(index) of \(chainName)")
                }
                out += "\n## \(golden.name) \(chainName) \(index)\n#: \(NFTTextEmitter.rule(rule))\n" + lines[index].joined(separator: "\n") + "\n"
            }
        }
        try out.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// An expression line without its values: what kind of expression and which of its fields.
    static func shape(_ line: String) -> String {
        let tokens = line.split(separator: " ").map(String.init)
        return tokens.indices.map { index in
            let token = tokens[index]
            if index > 0, ["set", "->", "name", "prefix", "group", "mod"].contains(tokens[index - 1]) { return "N" }
            return token.hasPrefix("0x") ? "V" : token.contains("/") ? "R" : token
        }.joined(separator: " ")
    }

    /// nft's expression lines per chain, rule by rule, in the order it printed them.
    static func ruleBlocks(_ dump: String, family: String, table: String) -> [String: [[String]]] {
        var blocks: [String: [[String]]] = [:]
        var current: String?
        for line in dump.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let header = line.split(separator: " ").map(String.init)
            if header.count == 3, header[0] == family, header[1] == table {
                current = header[2]
                blocks[header[2], default: []].append([])
            } else if line.hasPrefix("  ["), let chain = current {
                blocks[chain]![blocks[chain]!.count - 1].append(String(line.dropFirst(2)))
            } else if !line.hasPrefix("  ") {
                current = nil
            }
        }
        return blocks
    }
}
