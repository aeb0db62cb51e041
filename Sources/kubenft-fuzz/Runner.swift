import Foundation
@_spi(ReaderCheck) import KubeManifest

/// Runs one case through the real `kubenft` binary and every oracle that applies to it.
struct Runner {
    let kubenft: String
    let namespace: ThrowawayNamespace?
    let scratch: String

    var caseDirectory: String { scratch + "/case" }

    /// Writes the case to disk and returns the flags with `@DIR@` resolved.
    func materialize(_ fuzzCase: FuzzCase) throws -> [String] {
        let manager = FileManager.default
        try? manager.removeItem(atPath: caseDirectory)
        try manager.createDirectory(atPath: caseDirectory + "/manifests", withIntermediateDirectories: true)
        for file in fuzzCase.manifests {
            let path = caseDirectory + "/manifests/" + file.name
            try manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(file.text.utf8).write(to: URL(fileURLWithPath: path))
        }
        for file in fuzzCase.extraFiles {
            try Data(file.text.utf8).write(to: URL(fileURLWithPath: caseDirectory + "/" + file.name))
        }
        return fuzzCase.flags.map { $0.replacingOccurrences(of: "@DIR@", with: caseDirectory) }
    }

    func run(_ fuzzCase: FuzzCase) throws -> [Finding] {
        let flags = try materialize(fuzzCase)
        let input = ["-f", caseDirectory + "/manifests"] + flags
        var findings = Self.readerCheck(fuzzCase)
        let text = try kubenftRun(["compile"] + input, timeout: fuzzCase.timeout)
        findings += check(text, command: "compile") { try self.loadCheck(text.stdout, json: false) + Oracles.textShape(text.stdoutText) }
        let jsonPath = scratch + "/out.json"
        try? FileManager.default.removeItem(atPath: jsonPath)
        let json = try kubenftRun(["compile", "--format", "json", "-o", jsonPath] + input, timeout: fuzzCase.timeout)
        findings += check(json, command: "compile --format json -o FILE") {
            let data = FileManager.default.contents(atPath: jsonPath) ?? Data()
            return try self.loadCheck(data, json: true) + Oracles.jsonShape(data)
        }
        if json.exitStatus == 2, FileManager.default.fileExists(atPath: jsonPath) {
            findings.append(Finding(kind: "output-file-on-error", reason: "compile -o exited 2 but created the output file"))
        }
        if let a = text.exitStatus, let b = json.exitStatus, a != b {
            findings.append(Finding(kind: "text-json-disagree", reason: "compile exited \(a) for text, \(b) for JSON"))
        }
        findings += try expectations(fuzzCase, compiled: text, input: input)
        return findings
    }

    /// Every YAML file of the case read by the block reader and by libyaml: they must agree
    /// wherever the block reader does not decline.
    static func readerCheck(_ fuzzCase: FuzzCase) -> [Finding] {
        fuzzCase.manifests.compactMap { file in
            guard file.name.hasSuffix(".yaml") || file.name.hasSuffix(".yml"),
                  let difference = YAMLReaderCheck.mismatch(Array(file.text.utf8)) else { return nil }
            return Finding(kind: "yaml-reader-mismatch", reason: "\(file.name): block reader and libyaml differ: \(difference)")
        }
    }

    private func expectations(_ fuzzCase: FuzzCase, compiled: ProcessOutcome, input: [String]) throws -> [Finding] {
        switch fuzzCase.expectation {
        case .anyOutcome:
            return []
        case .mustReject(let why):
            guard compiled.exitStatus == 0 else { return [] }
            return [Finding(kind: "accepted-invalid", reason: "compile exited 0 on input the API server refuses: \(why)")]
        case .matrix(let world):
            guard compiled.exitStatus == 0 else {
                guard compiled.exitStatus == 2 else { return [] }
                let first = compiled.stderrText.split(separator: "\n").first.map(String.init) ?? ""
                return [Finding(kind: "rejected-valid", reason: "compile exited 2 on a valid cluster: \(first)")]
            }
            let ports = world.ports.map(String.init).joined(separator: ",")
            let protocols = world.protocols.map { $0.lowercased() }.joined(separator: ",")
            let matrix = try kubenftRun(["matrix", "--ports", ports, "--protocols", protocols, "--output", "json"] + input,
                                        timeout: fuzzCase.timeout)
            let status = Oracles.exitStatus(matrix, command: "matrix")
            guard status.isEmpty, matrix.exitStatus == 0 else { return status }
            return MatrixOracle.compare(matrix.stdout, world: world)
        }
    }

    /// The exit-status oracle, then the exit-2 or exit-0 oracles.
    private func check(_ outcome: ProcessOutcome, command: String, onSuccess: () throws -> [Finding]) -> [Finding] {
        var findings = Oracles.exitStatus(outcome, command: command)
        switch outcome.exitStatus {
        case 2: findings += Oracles.rejection(outcome, command: command)
        case 0:
            do { findings += try onSuccess() } catch {
                findings.append(Finding(kind: "harness-error", reason: "\(error)"))
            }
        default: break
        }
        return findings
    }

    /// `nft -c -f` (or `-j -f`) of an output inside the throwaway namespace.
    private func loadCheck(_ output: Data, json: Bool) throws -> [Finding] {
        guard let namespace else { return [] }
        let path = scratch + (json ? "/check.json" : "/check.nft")
        try output.write(to: URL(fileURLWithPath: path))
        let result = try namespace.nft(json ? ["-c", "-j", "-f", path] : ["-c", "-f", path], scratch: scratch)
        guard result.exitStatus != 0 else { return [] }
        let reason = result.stderrText.split(separator: "\n").prefix(3).joined(separator: " | ")
        let kind = json ? "nft-rejects-json" : "nft-rejects-text"
        return [Finding(kind: kind, reason: "compile exited 0 but nft -c \(json ? "-j " : "")-f refuses it: \(reason.prefix(400))")]
    }

    private func kubenftRun(_ arguments: [String], timeout: Double) throws -> ProcessOutcome {
        try Subprocess.run([kubenft] + arguments, timeout: timeout, scratch: scratch)
    }
}

/// Compares `kubenft matrix --output json` with the reference model, cell by cell, for live pods.
enum MatrixOracle {
    static func compare(_ data: Data, world: PolicyWorld) -> [Finding] {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cells = object["cells"] as? [[String: Any]], object["warnings"] is [String] else {
            return [Finding(kind: "matrix-unreadable", reason: "matrix --output json is not an object with cells and warnings")]
        }
        var pods: [String: PolicyWorld.Pod] = [:]
        for pod in world.pods where pod.live { pods[pod.key] = pod }
        var wrongAllow: [String] = [], wrongDeny: [String] = []
        var seen = Set<String>()
        for cell in cells {
            guard let from = cell["from"] as? String, let to = cell["to"] as? String, let port = cell["port"] as? Int,
                  let proto = cell["protocol"] as? String, let allowed = cell["allowed"] as? Bool,
                  let source = pods[from], let destination = pods[to] else { continue }
            seen.insert(from)
            seen.insert(to)
            let expected = ReferenceModel.allowed(world, from: source, to: destination, port: port, proto: proto.uppercased())
            let line = "\(from) -> \(to) \(proto)/\(port)"
            if allowed && !expected { wrongAllow.append(line) }
            if !allowed && expected { wrongDeny.append(line) }
        }
        var findings: [Finding] = []
        if !wrongAllow.isEmpty {
            findings.append(Finding(kind: "allow-where-deny", reason: "kubenft allows what the policies deny: " + summary(wrongAllow)))
        }
        if !wrongDeny.isEmpty {
            findings.append(Finding(kind: "deny-where-allow", reason: "kubenft denies what the policies allow: " + summary(wrongDeny)))
        }
        let missing = pods.keys.filter { !seen.contains($0) }.sorted()
        if !missing.isEmpty, pods.count > 1 {
            findings.append(Finding(kind: "matrix-missing-pod", reason: "matrix leaves out live pods \(missing.joined(separator: ", "))"))
        }
        return findings
    }

    private static func summary(_ lines: [String]) -> String {
        lines.prefix(4).joined(separator: "; ") + (lines.count > 4 ? " (\(lines.count) cells)" : "")
    }
}
