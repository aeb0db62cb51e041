import Foundation
import NFTRuleset
import NetAddress

/// What `iptables-save` shows of kubenft in one table: its chains with their rules in order, and the
/// jumps from built-in chains into them.
struct OwnedTable: Equatable {
    var chains: [String: [String]] = [:]
    /// `-A PREROUTING … -j KUBENFT-PREROUTING` lines, in listing order.
    var hooks: [String] = []

    var isEmpty: Bool { chains.isEmpty && hooks.isEmpty }

    /// Parses a whole `iptables-save` listing into its tables, keeping only kubenft's lines.
    static func parse(_ listing: String) -> [String: OwnedTable] {
        var tables: [String: OwnedTable] = [:]
        var table = ""
        let prefix = IPTablesNames.prefix
        for line in listing.split(separator: "\n").map(String.init) {
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
            } else if line.hasPrefix(":" + prefix) {
                let name = String(line.dropFirst().prefix { $0 != " " })
                tables[table, default: OwnedTable()].chains[name, default: []] += []
            } else if line.hasPrefix("-A ") {
                let words = line.split(separator: " ")
                guard words.count > 1 else { continue }
                let chain = String(words[1])
                if chain.hasPrefix(prefix) {
                    tables[table, default: OwnedTable()].chains[chain, default: []].append(line)
                } else if let jump = words.firstIndex(where: { $0 == "-j" || $0 == "-g" }), jump + 1 < words.count,
                          words[jump + 1].hasPrefix(prefix) {
                    tables[table, default: OwnedTable()].hooks.append(line)
                }
            }
        }
        return tables
    }
}

extension IPTablesKernel {
    /// Loads one family in one restore: the compiled chains replace the previous ones (declaring a
    /// chain empties it), hooks that already exist are not added again, and chains the new ruleset no
    /// longer has are emptied, unhooked and deleted in the same restore. Then reads the result back.
    /// Returns what changed, for the summary.
    public func apply(_ ruleset: Ruleset, family: IPFamily) throws -> String {
        let text = try IPTablesEmitter().emit(ruleset, family: family)
        let current = OwnedTable.parse(try save(family, in: namespace))
        var input = ""
        var tablesInText: Set<String> = []
        var stale: [String] = []
        for section in Self.sections(text) {
            tablesInText.insert(section.table)
            let existing = current[section.table] ?? OwnedTable()
            let declared = Set(section.lines.filter { $0.hasPrefix(":") }.map { String($0.dropFirst().prefix { $0 != " " }) })
            let old = existing.chains.keys.filter { !declared.contains($0) }.sorted()
            stale += old.map { "\(section.table) \($0)" }
            input += "*\(section.table)\n"
            for line in section.lines where line.hasPrefix(":") { input += line + "\n" }
            for name in old { input += ":\(name) - [0:0]\n" }
            var hooked = existing.hooks
            for line in section.lines where !line.hasPrefix(":") {
                if line.hasPrefix("-I "), let index = hooked.firstIndex(where: { Self.sameHook($0, line) }) {
                    hooked.remove(at: index)
                    continue
                }
                input += line + "\n"
            }
            // What remains hooked is a duplicate or a jump to a chain this ruleset no longer has.
            for line in hooked { input += "-D" + line.dropFirst(2) + "\n" }
            for name in old { input += "-X \(name)\n" }
            input += "COMMIT\n"
        }
        for (table, owned) in current.sorted(by: { $0.key < $1.key }) where !tablesInText.contains(table) && !owned.isEmpty {
            input += Self.removal(table: table, owned)
            stale += owned.chains.keys.sorted().map { "\(table) \($0)" }
        }
        try restore(input, family, in: namespace)
        let differences = try self.differences(ruleset, family: family)
        guard differences.isEmpty else {
            throw Failure(description: "after the restore, the \(family) rules differ: " + differences.prefix(5).joined(separator: "; "))
        }
        let chains = text.split(separator: "\n").filter { $0.hasPrefix(":") }.count
        let rules = text.split(separator: "\n").filter { $0.hasPrefix("-A ") }.count
        return "\(family == .v4 ? "iptables" : "ip6tables"): \(chains) chains with \(rules) rules" + (stale.isEmpty ? "" : ", \(stale.count) old chains deleted")
    }

    /// Every difference between what the kernel holds and the compiled rules, after both are put in
    /// `iptables-save`'s own form: the compiled file is restored into a scratch namespace and saved.
    public func differences(_ ruleset: Ruleset, family: IPFamily) throws -> [String] {
        let text = try IPTablesEmitter().emit(ruleset, family: family)
        let expected = OwnedTable.parse(try canonical(text, family: family))
        let actual = OwnedTable.parse(try save(family, in: namespace))
        var report: [String] = []
        for table in Set(expected.keys).union(actual.keys).sorted() {
            let want = expected[table] ?? OwnedTable(), have = actual[table] ?? OwnedTable()
            for chain in Set(want.chains.keys).union(have.chains.keys).sorted() {
                switch (want.chains[chain], have.chains[chain]) {
                case (nil, _?): report.append("\(table) chain \(chain) is not in the compiled rules")
                case (_?, nil): report.append("\(table) chain \(chain) is missing")
                case (let wanted?, let had?) where wanted != had:
                    let index = Array(zip(wanted, had)).firstIndex { $0.0 != $0.1 } ?? min(wanted.count, had.count)
                    report.append("\(table) chain \(chain) differs at rule \(index + 1): expected "
                                  + (index < wanted.count ? wanted[index] : "<end>") + ", found " + (index < had.count ? had[index] : "<end>"))
                default: break
                }
            }
            if want.hooks.sorted() != have.hooks.sorted() {
                report.append("\(table) hooks: expected \(want.hooks.sorted()), found \(have.hooks.sorted())")
            }
        }
        return report
    }

    /// Removes every kubenft chain and hook of one family; false when there was none.
    public func delete(family: IPFamily) throws -> Bool {
        let current = OwnedTable.parse(try save(family, in: namespace))
        let input = current.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }.map { Self.removal(table: $0.key, $0.value) }.joined()
        guard !input.isEmpty else { return false }
        try restore(input, family, in: namespace)
        return true
    }

    /// The listing `iptables-save` gives for the file, from a scratch namespace deleted afterwards.
    func canonical(_ text: String, family: IPFamily) throws -> String {
        let name = "kubenft-canon-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        _ = try Self.run(["ip", "netns", "add", name])
        defer { _ = try? Self.run(["ip", "netns", "del", name]) }
        try restore(text, family, in: name)
        return try save(family, in: name)
    }

    static func removal(table: String, _ owned: OwnedTable) -> String {
        var input = "*\(table)\n"
        for name in owned.chains.keys.sorted() { input += ":\(name) - [0:0]\n" }
        for line in owned.hooks { input += "-D" + line.dropFirst(2) + "\n" }
        for name in owned.chains.keys.sorted() { input += "-X \(name)\n" }
        return input + "COMMIT\n"
    }

    /// Whether a saved `-A BUILTIN … -j KUBENFT-X` line is the compiled `-I BUILTIN 1 … -j KUBENFT-X`.
    static func sameHook(_ saved: String, _ compiled: String) -> Bool {
        let savedWords = saved.split(separator: " "), compiledWords = compiled.split(separator: " ")
        return savedWords.count > 1 && compiledWords.count > 1 && savedWords[1] == compiledWords[1]
            && savedWords.last == compiledWords.last && saved.contains("kubenft hook")
    }

    /// The `*table … COMMIT` sections of a restore file, without comments.
    static func sections(_ text: String) -> [(table: String, lines: [String])] {
        var result: [(String, [String])] = []
        for line in text.split(separator: "\n").map(String.init) where !line.hasPrefix("#") {
            if line.hasPrefix("*") {
                result.append((String(line.dropFirst()), []))
            } else if line != "COMMIT", !result.isEmpty {
                result[result.count - 1].1.append(line)
            }
        }
        return result
    }
}
