import Foundation
import KubeNFT
import NFTNetlink
import NFTRuleset
#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: kubenft-apply-bench [--repeats N] [--shape maps|cascade] [--policy] CLUSTER.yaml ...

    For each synthetic cluster written by kubenft-bench (--keep --workdir DIR), as root, in fresh
    network namespaces: a full load through libnftnl against `nft -f` of the same ruleset text, and
    a one-endpoint change that alters the service's backend count (the first endpoint turned
    not-ready) applied incrementally, after a readback, from the remembered state in memory and
    from a state file (loaded, used and written again, as a new `kubenft apply` process does), and
    a one-endpoint change that keeps the count (the first endpoint's address replaced) from the
    remembered state and from a state file. Prints two markdown tables.

    With --policy, for clusters of the policies suite (kubenft-bench --suites policies --keep
    --workdir DIR writes DIR/policies/np-PxQ/cluster.yaml), a change of one NetworkPolicy rule
    instead: a port added to the ingress rule of one allow-frontend policy, and that rule's peer
    selector changed, each applied to the full load of node-1's table after a readback, from the
    remembered state and from a state file. Prints one markdown table.
    """

/// Seconds of monotonic time.
func now() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}

@discardableResult
func run(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.standardError
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw BenchFailure(description: "\(arguments.joined(separator: " ")) failed") }
    return String(decoding: data, as: UTF8.self)
}

/// Runs `body` in a fresh namespace, deleted afterwards.
func withNamespace<T>(_ body: (String) throws -> T) throws -> T {
    let name = "kn-abench-\(getpid())-\(Int.random(in: 1000...9999))"
    try run(["ip", "netns", "add", name])
    defer { _ = try? run(["ip", "netns", "del", name]) }
    return try body(name)
}

/// The Service shape compiled (`--shape cascade` gives the baseline of the map shape).
nonisolated(unsafe) var shape = ServiceShape.maps

let node = NodeOptions(nodeName: "node-1", nodeIPs: ["192.168.50.11"], clusterCIDRs: ["10.128.0.0/9"], configPath: nil)

func compile(_ path: String) throws -> (Ruleset, Double) {
    let start = now()
    let result = Pipeline.run(paths: [path], node: node, shape: shape)
    guard let ruleset = result.ruleset else { throw BenchFailure(description: "\(path) does not compile") }
    return (ruleset, now() - start)
}

/// The cluster with its first ready endpoint turned not-ready.
func changedCopy(_ path: String) throws -> String {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let range = text.range(of: "\n    ready: true\n") else { throw BenchFailure(description: "no ready endpoint in \(path)") }
    let changed = text.replacingCharacters(in: range, with: "\n    ready: false\n")
    let target = path + ".changed.yaml"
    try changed.write(toFile: target, atomically: true, encoding: .utf8)
    return target
}

/// The cluster with its first endpoint's address replaced by an unused one: same backend count.
func replacedCopy(_ path: String) throws -> String {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    guard let slice = text.range(of: "kind: EndpointSlice"), let range = text.range(of: "- addresses:\n", range: slice.upperBound..<text.endIndex),
          let line = text.range(of: "- 10.128.", range: range.upperBound..<text.endIndex), let end = text[line.upperBound...].firstIndex(of: "\n") else {
        throw BenchFailure(description: "no endpoint address in \(path)")
    }
    let changed = text.replacingCharacters(in: line.lowerBound..<end, with: "- 10.255.255.1")
    let target = path + ".replaced.yaml"
    try changed.write(toFile: target, atomically: true, encoding: .utf8)
    return target
}

/// Applies `base`, saves its state to a file, and applies `changed` from that file as a new
/// `kubenft apply` process would (load, apply, save); returns the timed apply and its seconds.
func applyFromStateFile(_ applier: RulesetApplier, base: Ruleset, changed: Ruleset) throws -> (ApplyOutcome, Double) {
    let file = AppliedStateFile(path: NSTemporaryDirectory() + "kubenft-apply-bench-\(getpid()).state")
    defer { file.remove() }
    if let state = try applier.apply(base).state { try file.save(state) }
    let start = now()
    let outcome = try applier.apply(changed, previous: file.load())
    if let state = outcome.state { try file.save(state) }
    return (outcome, now() - start)
}

struct Row {
    var label = ""
    var size = ""
    var compile = 0.0
    var netlink: [Double] = []
    var nft: [Double] = []
    var messages = 0
    var readback: [Double] = []
    var cached: [Double] = []
    var stateFile: [Double] = []
    var incrementalMessages = 0
    var sameCached: [Double] = []
    var sameStateFile: [Double] = []
    var sameMessages = 0
    var equal = true
}

func measure(_ path: String, repeats: Int) throws -> Row {
    var row = Row()
    let (base, compileTime) = try compile(path)
    let (changed, _) = try compile(try changedCopy(path))
    let (replaced, _) = try compile(try replacedCopy(path))
    row.compile = compileTime
    let rules = base.chains.reduce(0) { $0 + $1.rules.count }
    let elements = base.sets.reduce(0) { $0 + $1.elements.count }
    row.label = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
    row.size = "\(base.chains.count) chains, \(rules) rules, \(elements) elements"
    let text = NFTTextEmitter().emit(base)
    let textPath = NSTemporaryDirectory() + "kubenft-apply-bench-\(getpid()).nft"
    try text.write(toFile: textPath, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: textPath) }
    for _ in 0..<repeats {
        try withNamespace { name in
            let applier = RulesetApplier(transport: try NetlinkTransport(namespace: name))
            var start = now()
            let outcome = try applier.apply(base)
            row.netlink.append(now() - start)
            row.messages = outcome.report?.messages ?? 0
            start = now()
            let incremental = try applier.apply(changed)
            row.readback.append(now() - start)
            row.incrementalMessages = incremental.report?.messages ?? 0
            let afterIncremental = try run(["ip", "netns", "exec", name, "nft", "list", "table", "inet", "kubenft"])
            let restored = try applier.apply(base)
            start = now()
            _ = try applier.apply(changed, previous: restored.state)
            row.cached.append(now() - start)
            let (fromFile, fileSeconds) = try applyFromStateFile(applier, base: base, changed: changed)
            row.stateFile.append(fileSeconds)
            guard fromFile.mode == .incremental else { throw BenchFailure(description: "the state file was not used (\(fromFile.mode))") }
            let again = try applier.apply(base)
            start = now()
            let same = try applier.apply(replaced, previous: again.state)
            row.sameCached.append(now() - start)
            row.sameMessages = same.report?.messages ?? 0
            row.sameStateFile.append(try applyFromStateFile(applier, base: base, changed: replaced).1)
            _ = try applier.apply(changed)
            try withNamespace { fresh in
                _ = try RulesetApplier(transport: try NetlinkTransport(namespace: fresh)).apply(changed)
                let full = try run(["ip", "netns", "exec", fresh, "nft", "list", "table", "inet", "kubenft"])
                row.equal = row.equal && full == afterIncremental
            }
        }
        try withNamespace { name in
            let start = now()
            try run(["ip", "netns", "exec", name, "nft", "-f", textPath])
            row.nft.append(now() - start)
        }
    }
    return row
}

func main() -> Int32 {
    var arguments = Array(CommandLine.arguments.dropFirst())
    var repeats = 3
    if let index = arguments.firstIndex(of: "--repeats"), index + 1 < arguments.count, let value = Int(arguments[index + 1]), value > 0 {
        repeats = value
        arguments.removeSubrange(index...(index + 1))
    }
    if let index = arguments.firstIndex(of: "--shape"), index + 1 < arguments.count {
        switch arguments[index + 1] {
        case "maps": shape = .maps
        case "cascade": shape = .cascade
        default:
            print(usage)
            return 2
        }
        arguments.removeSubrange(index...(index + 1))
    }
    let policy = arguments.contains("--policy")
    arguments.removeAll { $0 == "--policy" }
    guard !arguments.isEmpty, !arguments.contains("--help") else {
        print(usage)
        return arguments.contains("--help") ? 0 : 2
    }
    guard geteuid() == 0 else {
        FileHandle.standardError.write(Data("kubenft-apply-bench: needs root (network namespaces, CAP_NET_ADMIN)\n".utf8))
        return 2
    }
    if policy {
        do {
            try runPolicyChanges(arguments, repeats: repeats)
            return 0
        } catch {
            FileHandle.standardError.write(Data("kubenft-apply-bench: \(error)\n".utf8))
            return 1
        }
    }
    print("| cluster | ruleset | compile | libnftnl full load | nft -f | speed-up | messages | one-endpoint change, with readback | from remembered state | from state file | batch | equals full load |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    var rows: [Row] = []
    for path in arguments {
        do {
            let row = try measure(path, repeats: repeats)
            rows.append(row)
            let netlink = median(row.netlink), nft = median(row.nft)
            func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
            func s(_ seconds: Double) -> String { String(format: "%.2f s", seconds) }
            print("| \(row.label) | \(row.size) | \(s(row.compile)) | \(s(netlink)) | \(s(nft)) | \(String(format: "%.1f×", nft / netlink)) "
                + "| \(row.messages) | \(ms(median(row.readback))) | \(ms(median(row.cached))) | \(ms(median(row.stateFile))) | \(row.incrementalMessages) messages | \(row.equal ? "yes" : "NO") |")
        } catch {
            FileHandle.standardError.write(Data("kubenft-apply-bench: \(path): \(error)\n".utf8))
            return 1
        }
    }
    print("")
    print("| cluster | one-endpoint change, same count: from remembered state | from state file | batch |")
    print("|---|---:|---:|---:|")
    for row in rows {
        func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
        print("| \(row.label) | \(ms(median(row.sameCached))) | \(ms(median(row.sameStateFile))) | \(row.sameMessages) messages |")
    }
    return 0
}

exit(main())
