import Foundation
import KubeNFT
import LabKit
import Testing

// The upstream NetworkPolicy e2e truth tables with real packets: the `np-model` fixture (namespaces
// x, y, z with pods a, b, c, each with its own Service) is compiled together with one scenario of
// `fixtures/np-scenarios/<name>/policies.yaml`, loaded into a lab node, and every pod probes every
// other pod, directly and through the Service, on each port listed in the scenario's `expected.txt`.
// The expectations are written from the Kubernetes semantics, never from the compiler's output.

/// One pod of the e2e model: `<namespace>/<name>` with its numbered addresses.
struct ModelPod: Sendable, Hashable {
    var namespace: String
    var name: String
    /// Namespace digit then pod digit: x/a = 11, z/c = 33.
    var number: Int

    /// `x/a`: the table label, the lab role and the server's reply.
    var id: String { namespace + "/" + name }
    var podV4: String { "10.244.1.\(number)" }
    var podV6: String { "fd00:10:244:1::\(number)" }
    var serviceV4: String { "10.96.1.\(number)" }
    var serviceV6: String { "fd00:10:96::1:\(number)" }

    /// The nine pods in table order.
    static let all: [ModelPod] = ["x", "y", "z"].enumerated().flatMap { nsIndex, namespace in
        ["a", "b", "c"].enumerated().map { podIndex, name in
            ModelPod(namespace: namespace, name: name, number: (nsIndex + 1) * 10 + podIndex + 1)
        }
    }
    static let ids = all.map(\.id)
}

/// A port probed in a scenario: protocol, port and address family (`# tcp/80`, `# udp/81 ipv6`).
struct ProbeBlock: Sendable, Hashable, CustomStringConvertible {
    var proto: LabProtocol
    var port: Int
    var ipv6: Bool

    static let knownPorts: Set<Int> = [80, 81]

    var description: String { "\(proto.rawValue)/\(port)" + (ipv6 ? " ipv6" : "") }

    /// Parses `tcp/80`, `udp/81 ipv6`, `sctp/80 ipv4`; nil for anything else.
    init?(_ text: String) {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard (1...2).contains(words.count) else { return nil }
        let parts = words[0].split(separator: "/").map(String.init)
        guard parts.count == 2, let proto = LabProtocol(rawValue: parts[0]), let port = Int(parts[1]),
              ProbeBlock.knownPorts.contains(port) else { return nil }
        let family = words.count == 2 ? words[1] : "ipv4"
        guard family == "ipv4" || family == "ipv6" else { return nil }
        self.proto = proto
        self.port = port
        self.ipv6 = family == "ipv6"
    }
}

/// A reachability table over the nine model pods: `allowed[from][to]`.
struct TruthTable: Sendable, Equatable {
    var allowed: [[Bool]]

    init(allowed: [[Bool]]) { self.allowed = allowed }

    /// Every cell set to `value`.
    init(filled value: Bool) {
        allowed = Array(repeating: Array(repeating: value, count: ModelPod.all.count), count: ModelPod.all.count)
    }

    /// Only the loopback cells allowed: the starting point of an observed table.
    static var loopbackOnly: TruthTable {
        var table = TruthTable(filled: false)
        for index in table.allowed.indices { table.allowed[index][index] = true }
        return table
    }

    /// Cells that differ from `other`, loopback cells (a pod to itself) excluded.
    func differences(from other: TruthTable) -> [(from: Int, to: Int)] {
        var cells: [(from: Int, to: Int)] = []
        for from in allowed.indices {
            for to in allowed[from].indices where from != to && allowed[from][to] != other.allowed[from][to] {
                cells.append((from, to))
            }
        }
        return cells
    }

    /// Table lines in the `expected.txt` format; cells listed in `marked` get a `!`.
    func lines(marked: Set<Int> = []) -> [String] {
        let width = 5
        func pad(_ text: String) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
        var lines = [pad("-") + ModelPod.ids.map(pad).joined()]
        for (from, row) in allowed.enumerated() {
            let cells = row.enumerated().map { to, ok in
                pad((ok ? "." : "X") + (marked.contains(from * row.count + to) ? "!" : ""))
            }
            lines.append(pad(ModelPod.ids[from]) + cells.joined())
        }
        return lines
    }
}

/// A parse error in an `expected.txt`.
struct TruthTableError: Error, CustomStringConvertible {
    var line: Int
    var reason: String
    var description: String { "line \(line): \(reason)" }
}

/// A scenario's `expected.txt`: one table per probed block, and the `# Covers:` line that lists them.
struct ExpectedTables: Sendable {
    var blocks: [(block: ProbeBlock, table: TruthTable)]

    /// Parses the file; every block must be complete (header row and nine rows of nine cells), the
    /// blocks unique, and the `# Covers:` line must list exactly the blocks, in order.
    static func parse(_ text: String) throws -> ExpectedTables {
        var blocks: [(block: ProbeBlock, table: TruthTable)] = []
        var covers: [String]?
        var current: (block: ProbeBlock, rows: [[Bool]], sawHeader: Bool)?
        func finish(at line: Int) throws {
            guard let open = current else { return }
            guard open.rows.count == ModelPod.all.count else {
                throw TruthTableError(line: line, reason: "block \(open.block) has \(open.rows.count) rows, expected 9")
            }
            blocks.append((open.block, TruthTable(allowed: open.rows)))
            current = nil
        }
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let body = line.dropFirst().trimmingCharacters(in: .whitespaces)
                if body.hasPrefix("Covers:") {
                    covers = body.dropFirst("Covers:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                } else if let block = ProbeBlock(body) {
                    try finish(at: number)
                    guard !blocks.contains(where: { $0.block == block }) else {
                        throw TruthTableError(line: number, reason: "block \(block) appears twice")
                    }
                    current = (block, [], false)
                } else if body.first.map({ $0.isLetter && $0.isLowercase }) == true, body.contains("/") {
                    throw TruthTableError(line: number, reason: "'\(line)' is not a block header (tcp|udp|sctp)/(80|81) [ipv4|ipv6]")
                }
                continue
            }
            guard var open = current else { throw TruthTableError(line: number, reason: "table line outside a block") }
            let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if !open.sawHeader {
                guard fields == ["-"] + ModelPod.ids else {
                    throw TruthTableError(line: number, reason: "header must be '-' then \(ModelPod.ids.joined(separator: " "))")
                }
                open.sawHeader = true
            } else {
                let row = open.rows.count
                guard row < ModelPod.all.count, fields.count == ModelPod.all.count + 1, fields[0] == ModelPod.ids[row] else {
                    throw TruthTableError(line: number, reason: "row \(row + 1) must be \(ModelPod.ids[min(row, 8)]) then 9 cells")
                }
                let cells = try fields.dropFirst().map { cell -> Bool in
                    switch cell {
                    case ".": return true
                    case "X": return false
                    default: throw TruthTableError(line: number, reason: "cell '\(cell)' is neither '.' nor 'X'")
                    }
                }
                open.rows.append(cells)
            }
            current = open
        }
        try finish(at: text.split(separator: "\n", omittingEmptySubsequences: false).count)
        guard !blocks.isEmpty else { throw TruthTableError(line: 1, reason: "no block") }
        let listed = blocks.map(\.block.description)
        guard let covers, covers == listed else {
            throw TruthTableError(line: 1, reason: "'# Covers:' must list \(listed.joined(separator: ", "))")
        }
        return ExpectedTables(blocks: blocks)
    }
}

/// A scenario directory `fixtures/np-scenarios/<name>/`.
struct PolicyScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var directory: String

    var testDescription: String { name }
    var policies: String { directory + "/policies.yaml" }
    var expectedFile: String { directory + "/expected.txt" }

    static let root = Fixtures.root + "/np-scenarios"
    static let modelManifests = Fixtures.root + "/np-model/manifests"
    static let nodeOptions = NodeOptions(nodeName: "node-1", clusterCIDRs: ["10.244.0.0/16", "fd00:10:244::/56"])

    static let all: [PolicyScenario] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().compactMap { name in
            let directory = root + "/" + name
            guard FileManager.default.fileExists(atPath: directory + "/expected.txt") else { return nil }
            return PolicyScenario(name: name, directory: directory)
        }
    }()

    func expected() throws -> ExpectedTables {
        try ExpectedTables.parse(try String(contentsOfFile: expectedFile, encoding: .utf8))
    }
}

/// Well-formedness of the scenarios, checked everywhere (no lab needed).
@Suite("NetworkPolicy scenarios are well formed")
struct NetworkPolicyScenarioFileTests {
    @Test("there are scenarios, with the no-policy baseline among them")
    func scenariosExist() {
        #expect(PolicyScenario.all.count >= 25)
        #expect(PolicyScenario.all.contains { $0.name == "allow-all-baseline" })
    }

    @Test("expected.txt parses: known ports, 9x9 tables, Covers line; README and policies present",
          arguments: PolicyScenario.all)
    func expectedParses(_ scenario: PolicyScenario) throws {
        let tables = try scenario.expected()
        #expect(!tables.blocks.isEmpty)
        for file in ["README.md", "policies.yaml"] {
            #expect(FileManager.default.fileExists(atPath: scenario.directory + "/" + file), "\(scenario.name) lacks \(file)")
        }
        let result = Pipeline.run(paths: [PolicyScenario.modelManifests, scenario.policies], node: PolicyScenario.nodeOptions)
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description).joined(separator: "\n"))")
    }
}

/// The observed tables of one block: pod IPs and Service ClusterIPs. Loopback cells are not probed
/// and read `.` (a pod can always reach itself).
struct ObservedBlock {
    var direct = TruthTable.loopbackOnly
    var service = TruthTable.loopbackOnly
    /// Unexpected answers (a reply from the wrong pod, socket errors), for the report.
    var notes: [String] = []
}

/// The real-packet runs.
@Suite("NetworkPolicy truth tables with real packets", .enabled(if: Environment.labTestsEnabled), .serialized)
struct NetworkPolicyLabTests {
    static let timeoutMs = 700
    static let retryTimeoutMs = 2000

    @Test("observed reachability matches the expected truth tables", arguments: PolicyScenario.all)
    func truthTables(_ scenario: PolicyScenario) async throws {
        let expected = try scenario.expected()
        let sctp = Environment.sctpAvailable
        let blocks = expected.blocks.filter { entry in
            guard entry.block.proto == .sctp, !sctp else { return true }
            if Environment.sctpRequired { Issue.record("\(scenario.name): \(entry.block) needs SCTP, which this kernel lacks") }
            print("\(scenario.name): \(entry.block) skipped, this kernel has no SCTP")
            return false
        }
        let result = Pipeline.run(paths: [PolicyScenario.modelManifests, scenario.policies], node: PolicyScenario.nodeOptions,
                                  shape: RulesetForm.current.shape)
        let ruleset = try #require(result.ruleset, "\(scenario.name) must compile: \(result.errors.map(\.description))")
        let started = Date()
        try await withLab(tag: "np-" + scenario.name) { lab in
            try Self.buildModel(lab, sctp: sctp)
            let built = Date()
            try RulesetForm.current.load(ruleset, into: lab)
            let observed = try Self.probeAll(lab, expected: blocks)
            let finished = Date()
            print("\(scenario.name): lab \(Self.ms(started, built)) ms, load and probe \(Self.ms(built, finished)) ms")
            for (block, table) in blocks {
                guard let seen = observed[block] else { continue }
                for (via, table2) in [("pod IP", seen.direct), ("Service", seen.service)] {
                    let differing = table.differences(from: table2)
                    if differing.isEmpty { continue }
                    Issue.record(Comment(rawValue: Self.report(scenario: scenario.name, block: block, via: via,
                                                               expected: table, observed: table2, differing: differing)))
                }
                if !seen.notes.isEmpty { print("\(scenario.name) \(block) notes:\n  " + seen.notes.joined(separator: "\n  ")) }
            }
        }
    }

    static func ms(_ from: Date, _ to: Date) -> Int { Int(to.timeIntervalSince(from) * 1000) }

    /// The node and the nine pods, each serving TCP and UDP (and SCTP when available) on 80 and 81
    /// and answering with its `<ns>/<pod>` id.
    static func buildModel(_ lab: Lab, sctp: Bool) throws {
        try lab.addNode(addresses: ["198.51.100.1", "fd00:198:51:100::1"], clientSubnetV4: "198.51.100.0/24",
                        clientSubnetV6: "fd00:198:51:100::/64")
        try LabSweep.addPods(lab, ModelPod.all.map { pod in
            (LabPod(name: pod.id, addresses: [pod.podV4, pod.podV6], hostInterface: "knp\(pod.number)"),
             ServeSpec(name: pod.id, tcp: [80, 81], udp: [80, 81], sctp: sctp ? [80, 81] : []))
        })
    }

    /// The np-model compiled with `policies` in the current form, loaded into a lab holding the
    /// model's node and pods (TCP and UDP servers), for `body` to probe.
    static func withModel<T>(policies: String, tag: String, _ body: (Lab) throws -> T) async throws -> T {
        let result = Pipeline.run(paths: [PolicyScenario.modelManifests, policies], node: PolicyScenario.nodeOptions,
                                  shape: RulesetForm.current.shape)
        let ruleset = try #require(result.ruleset, "\(result.errors.map(\.description))")
        return try await withLab(tag: tag) { lab in
            try buildModel(lab, sctp: false)
            try RulesetForm.current.load(ruleset, into: lab)
            return try body(lab)
        }
    }

    /// The target of `to` in `block`, through its pod IP or its Service.
    static func target(_ to: ModelPod, _ block: ProbeBlock, service: Bool) -> ProbeTarget {
        let address = service ? (block.ipv6 ? to.serviceV6 : to.serviceV4) : (block.ipv6 ? to.podV6 : to.podV4)
        return ProbeTarget(address: address, port: block.port, proto: block.proto,
                           label: "\(block)|\(to.id)|\(service ? "svc" : "pod")")
    }

    /// Probes every pod to every other pod for every block, directly and through the Service: one
    /// `probeMany` per source pod, all sources at once. The cells expected allowed that were not
    /// answered are probed once more with a longer timeout, so a slow machine does not turn into a
    /// failure; they then count as allowed (and are noted). A cell expected blocked is never retried.
    static func probeAll(_ lab: Lab, expected: [(block: ProbeBlock, table: TruthTable)]) throws -> [ProbeBlock: ObservedBlock] {
        let pods = ModelPod.all
        var cells: [(block: ProbeBlock, from: Int, to: Int, service: Bool)] = []
        var probes: [SweepProbe] = []
        for (fromIndex, from) in pods.enumerated() {
            for (block, table) in expected {
                for (toIndex, to) in pods.enumerated() where toIndex != fromIndex {
                    for service in [false, true] {
                        cells.append((block, fromIndex, toIndex, service))
                        probes.append(SweepProbe(from: from.id, target: target(to, block, service: service), expectedReply: to.id,
                                                 retryIfSilent: table.allowed[fromIndex][toIndex]))
                    }
                }
            }
        }
        let results = try LabSweep.run(lab, probes, timeoutMs: timeoutMs, retryTimeoutMs: retryTimeoutMs)
        var observed: [ProbeBlock: ObservedBlock] = [:]
        for (block, _) in expected { observed[block] = ObservedBlock() }
        for (cell, result) in zip(cells, results) {
            if cell.service {
                observed[cell.block]?.service.allowed[cell.from][cell.to] = result.reached
            } else {
                observed[cell.block]?.direct.allowed[cell.from][cell.to] = result.reached
            }
            if result.unexpected { observed[cell.block]?.notes.append("\(pods[cell.from].id) -> \(result.first)") }
        }
        for (cell, result) in zip(cells, results) where result.answeredOnlyOnRetry {
            guard let retry = result.retry else { continue }
            observed[cell.block]?.notes.append("\(pods[cell.from].id) -> \(retry) (answered only on the slow retry)")
        }
        return observed
    }

    /// Expected and observed side by side, differing cells marked `!` in the observed table.
    static func report(scenario: String, block: ProbeBlock, via: String, expected: TruthTable, observed: TruthTable,
                       differing: [(from: Int, to: Int)]) -> String {
        let marked = Set(differing.map { $0.from * ModelPod.all.count + $0.to })
        let left = expected.lines()
        let right = observed.lines(marked: marked)
        let width = left.map(\.count).max() ?? 0
        var lines = ["\(scenario) \(block) via \(via): \(differing.count) cell(s) differ (rows from, columns to)",
                     "expected" + String(repeating: " ", count: width - 8 + 4) + "observed"]
        for (l, r) in zip(left, right) {
            lines.append(l + String(repeating: " ", count: width - l.count + 4) + r)
        }
        let cells = differing.map { "\(ModelPod.ids[$0.from])->\(ModelPod.ids[$0.to]) expected \(expected.allowed[$0.from][$0.to] ? "allowed" : "blocked")" }
        lines.append("differing: " + cells.joined(separator: ", "))
        return lines.joined(separator: "\n")
    }
}
