import Foundation

/// One failed oracle: a short class name (findings are grouped by it) and the reason in words.
struct Finding: Sendable {
    var kind: String
    var reason: String
}

/// The checks every run of kubenft must pass, whatever the input.
enum Oracles {
    /// Exit status: compile and matrix document only 0 (done) and 2 (bad input).
    static func exitStatus(_ outcome: ProcessOutcome, command: String) -> [Finding] {
        switch outcome.ending {
        case .signalled(let number): return [Finding(kind: "crash", reason: "\(command) killed by signal \(number)")]
        case .timedOut(let seconds): return [Finding(kind: "timeout", reason: "\(command) still running after \(Int(seconds)) s")]
        case .exited(let status) where status != 0 && status != 2:
            let first = outcome.stderrText.split(separator: "\n").first.map(String.init) ?? ""
            return [Finding(kind: "exit-status", reason: "\(command) exited \(status): \(first)")]
        case .exited: return []
        }
    }

    /// Exit 2: stdout empty, and stderr made of clean diagnostic lines: each `file:line:column: …`
    /// (or a `kubenft:` line), no control characters, and as many error lines as the summary counts.
    static func rejection(_ outcome: ProcessOutcome, command: String) -> [Finding] {
        var findings: [Finding] = []
        if !outcome.stdout.isEmpty {
            findings.append(Finding(kind: "stdout-on-error", reason: "\(command) exited 2 but wrote \(outcome.stdout.count) bytes to stdout"))
        }
        let text = outcome.stderrText
        if let bad = text.unicodeScalars.first(where: isControl) {
            findings.append(Finding(kind: "stderr-control-character",
                                    reason: "\(command) stderr contains U+\(String(bad.value, radix: 16, uppercase: true))"))
        }
        var errorLines = 0
        var counted: Int?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            if let summary = summaryCount(line) {
                counted = summary
            } else if line.hasPrefix("kubenft: ") {
                continue
            } else if isDiagnostic(line) {
                if !line.contains(": warning: ") { errorLines += 1 }
            } else {
                findings.append(Finding(kind: "stderr-forged-line", reason: "\(command) stderr line is not a diagnostic: \(Printer.jsonQuoted(String(line.prefix(200))))"))
            }
        }
        if let counted, counted != errorLines {
            findings.append(Finding(kind: "stderr-forged-line", reason: "\(command) summary counts \(counted) errors, stderr shows \(errorLines)"))
        }
        return findings
    }

    /// Exit 0, text form: no control characters; at top level only the documented prologue
    /// (`table inet kubenft`, `delete table inet kubenft`) and one `table inet kubenft { … }` block;
    /// no line inside it that starts another command.
    static func textShape(_ text: String) -> [Finding] {
        var findings: [Finding] = []
        if let bad = text.unicodeScalars.first(where: { isControl($0) && $0 != "\t" }) {
            findings.append(Finding(kind: "output-control-character", reason: "nft text contains U+\(String(bad.value, radix: 16, uppercase: true))"))
        }
        var blocks = 0
        let commands = ["table", "delete", "flush", "add", "insert", "replace", "create", "destroy", "reset", "include", "define", "list"]
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            if line.isEmpty || line.hasPrefix("#") || line == "}" { continue }
            if line == "table inet kubenft {" { blocks += 1; continue }
            if line == "table inet kubenft" || line == "delete table inet kubenft" { continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let word = trimmed.split(separator: " ").first.map(String.init) ?? ""
            if !line.hasPrefix("\t") || commands.contains(word) {
                findings.append(Finding(kind: "output-extra-command", reason: "nft text has a command outside the table: \(Printer.jsonQuoted(String(line.prefix(200))))"))
                break
            }
        }
        if blocks != 1 { findings.append(Finding(kind: "output-extra-command", reason: "nft text has \(blocks) table blocks")) }
        return findings
    }

    /// Exit 0, JSON form: only metainfo, the table add/delete for inet kubenft, and adds of objects
    /// inside that table.
    static func jsonShape(_ data: Data) -> [Finding] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = root["nftables"] as? [[String: Any]] else {
            return [Finding(kind: "json-unreadable", reason: "JSON output is not an {\"nftables\": [...]} document")]
        }
        for item in items {
            if item["metainfo"] != nil { continue }
            guard item.count == 1, let (verb, body) = item.first, let object = body as? [String: Any], object.count == 1,
                  let (type, fields) = object.first, let fields = fields as? [String: Any] else {
                return [Finding(kind: "output-extra-command", reason: "JSON command of unexpected shape: \(item)")]
            }
            let table = type == "table" ? fields["name"] as? String : fields["table"] as? String
            let allowed = verb == "add" || (verb == "delete" && type == "table")
            if !allowed || fields["family"] as? String != "inet" || table != "kubenft" {
                return [Finding(kind: "output-extra-command", reason: "JSON command \(verb) \(type) outside table inet kubenft")]
            }
        }
        return []
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\n") || scalar.value == 0x7f || (0x80...0x9f).contains(scalar.value)
            || scalar.value == 0x2028 || scalar.value == 0x2029 || scalar.value == 0xFEFF || (0x202A...0x202E).contains(scalar.value)
    }

    /// `file:line:column: …` with a file name free of control characters.
    static func isDiagnostic(_ line: Substring) -> Bool {
        let pattern = #"^[^\t]+?:[0-9]+:[0-9]+: \S"#
        return line.range(of: pattern, options: .regularExpression) != nil
    }

    /// N from `kubenft: N error(s), nothing written`.
    static func summaryCount(_ line: Substring) -> Int? {
        guard line.hasPrefix("kubenft: "), line.hasSuffix(", nothing written") else { return nil }
        let words = line.dropFirst("kubenft: ".count).split(separator: " ")
        guard words.count >= 2, words[1].hasPrefix("error") else { return nil }
        return Int(words[0])
    }
}
