import Foundation
import KubeNFT
import NFTNetlink
import NFTRuleset
#if canImport(Glibc)
import Glibc
#endif

/// One edit of one rule of one NetworkPolicy in a cluster written by the policies suite of
/// kubenft-bench (its `allow-frontend-Q` policies: an ingress rule from `tier: frontend` pods on
/// the named port `http`). Edits are made on the YAML text so the rest of the file stays identical.
struct PolicyEdit: Sendable {
    var label: String
    /// Rewrites the text of one policy document; nil when the document has no place for the edit.
    var transform: @Sendable (String) -> String?

    /// A second port (9090, the pods' `metrics` port) added to the ingress rule.
    static let addPort = PolicyEdit(label: "port added to an ingress rule") { document in
        guard let port = document.range(of: "- port: http\n") else { return nil }
        let lineStart = document[..<port.lowerBound].lastIndex(of: "\n").map { document.index(after: $0) } ?? document.startIndex
        let indent = String(document[lineStart..<port.lowerBound])
        guard let proto = document.range(of: "\n", range: port.upperBound..<document.endIndex) else { return nil }
        let item = "\(indent)- port: 9090\n\(indent)  protocol: TCP\n"
        return document.replacingCharacters(in: proto.upperBound..<proto.upperBound, with: item)
    }

    /// The rule's peer selects `tier: worker` pods instead of `tier: frontend` ones.
    static let changePeer = PolicyEdit(label: "peer selector changed") { document in
        guard let range = document.range(of: "tier: frontend\n") else { return nil }
        return document.replacingCharacters(in: range, with: "tier: worker\n")
    }
}

/// The figures of one policy edit on one cluster.
struct PolicyRow {
    var label = ""
    var edit = ""
    var policy = ""
    var size = ""
    var full: [Double] = []
    var readback: [Double] = []
    var cached: [Double] = []
    var stateFile: [Double] = []
    var messages = 0
    var stateFileMessages = 0
    /// How each change was applied (`incremental`, or `replaced` when the planner chose a full replacement).
    var modes: Set<String> = []
    var equal = true
}

/// The cluster text with `edit` applied to the first `allow-frontend-Q` policy (Q = 1, 11, 21, …)
/// for which the compiled ruleset of node-1 changes; policies selecting no pod of node-1 compile
/// to nothing on it. Returns the changed file's path, the policy's name and its ruleset.
func editedCluster(_ path: String, base: Ruleset, edit: PolicyEdit) throws -> (String, String, Ruleset) {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let baseText = NFTTextEmitter().emit(base)
    for q in stride(from: 1, to: 400, by: 10) {
        let name = "allow-frontend-\(q)"
        guard let marker = text.range(of: "\n  name: \(name)\n") else { continue }
        let start = text.range(of: "\n---\n", options: .backwards, range: text.startIndex..<marker.lowerBound)?.upperBound ?? text.startIndex
        let end = text.range(of: "\n---\n", range: marker.upperBound..<text.endIndex)?.lowerBound ?? text.endIndex
        guard let document = edit.transform(String(text[start..<end])) else { continue }
        let target = path + ".policy.yaml"
        try (String(text[..<start]) + document + String(text[end...])).write(toFile: target, atomically: true, encoding: .utf8)
        let (changed, _) = try compile(target)
        if NFTTextEmitter().emit(changed) != baseText { return (target, name, changed) }
    }
    throw BenchFailure(description: "no allow-frontend policy of \(path) changes the ruleset of node-1 with \(edit.label)")
}

/// Full load, then the edited cluster applied incrementally after a readback, from the remembered
/// state and from a state file, each from the base table; the result must list as a fresh load.
func measurePolicy(_ path: String, edit: PolicyEdit, repeats: Int) throws -> PolicyRow {
    var row = PolicyRow()
    let (base, _) = try compile(path)
    let (changedPath, policy, changed) = try editedCluster(path, base: base, edit: edit)
    defer { try? FileManager.default.removeItem(atPath: changedPath) }
    let rules = base.chains.reduce(0) { $0 + $1.rules.count }
    let elements = base.sets.reduce(0) { $0 + $1.elements.count }
    row.label = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
    row.edit = edit.label
    row.policy = policy
    row.size = "\(base.chains.count) chains, \(rules) rules, \(elements) elements"
    for _ in 0..<repeats {
        try withNamespace { name in
            let applier = RulesetApplier(transport: try NetlinkTransport(namespace: name))
            var start = now()
            _ = try applier.apply(base)
            row.full.append(now() - start)
            start = now()
            _ = try applier.apply(changed)
            row.readback.append(now() - start)
            let restored = try applier.apply(base)
            start = now()
            let cached = try applier.apply(changed, previous: restored.state)
            row.cached.append(now() - start)
            row.messages = cached.report?.messages ?? 0
            row.modes.insert(cached.mode.rawValue)
            let afterIncremental = try run(["ip", "netns", "exec", name, "nft", "list", "table", "inet", "kubenft"])
            let (fromFile, fileSeconds) = try applyFromStateFile(applier, base: base, changed: changed)
            row.stateFile.append(fileSeconds)
            row.stateFileMessages = fromFile.report?.messages ?? 0
            row.modes.insert(fromFile.mode.rawValue)
            let afterFile = try run(["ip", "netns", "exec", name, "nft", "list", "table", "inet", "kubenft"])
            try withNamespace { fresh in
                _ = try RulesetApplier(transport: try NetlinkTransport(namespace: fresh)).apply(changed)
                let full = try run(["ip", "netns", "exec", fresh, "nft", "list", "table", "inet", "kubenft"])
                row.equal = row.equal && full == afterIncremental && full == afterFile
            }
        }
    }
    return row
}

/// Measures both edits on each cluster and prints their table.
func runPolicyChanges(_ paths: [String], repeats: Int) throws {
    print("| cluster | ruleset (node-1) | change | policy | full load | with readback | from remembered state | from state file | batch | applied as | equals full load |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---|---|")
    func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
    for path in paths {
        for edit in [PolicyEdit.addPort, .changePeer] {
            let row = try measurePolicy(path, edit: edit, repeats: repeats)
            print("| \(row.label) | \(row.size) | \(row.edit) | \(row.policy) | \(String(format: "%.2f s", median(row.full))) "
                + "| \(ms(median(row.readback))) | \(ms(median(row.cached))) | \(ms(median(row.stateFile))) "
                + "| \(row.messages) / \(row.stateFileMessages) messages | \(row.modes.sorted().joined(separator: ", ")) | \(row.equal ? "yes" : "NO") |")
        }
    }
}
