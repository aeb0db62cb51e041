import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Namespaces and processes the data-plane suite created, so that every exit path — normal
/// return, error, SIGINT or SIGTERM — stops the processes and deletes the namespaces.
final class DataplaneCleanup: @unchecked Sendable {
    private let lock = NSLock()
    /// Held for a whole `run()`, so that a second caller (the signal handler, or the normal path
    /// while a signal is being handled) returns only once the namespaces are gone.
    private let running = NSLock()
    private var namespaces: [String] = []
    private var processes: [pid_t] = []

    func add(namespace: String) { lock.withLock { namespaces.append(namespace) } }
    func add(process: pid_t) { lock.withLock { processes.append(process) } }
    /// Forgets a process that has been reaped, so its id is never signalled once reused.
    func remove(process: pid_t) { lock.withLock { processes.removeAll { $0 == process } } }

    /// Stops every recorded process (SIGTERM, then SIGKILL) and deletes every recorded namespace
    /// with `ip netns del`; idempotent. Returns the namespaces that could not be deleted.
    @discardableResult
    func run() -> [String] {
        running.lock()
        defer { running.unlock() }
        let (pids, names) = lock.withLock { () -> ([pid_t], [String]) in
            defer { processes = []; namespaces = [] }
            return (processes, namespaces)
        }
        for pid in pids { kill(pid, SIGTERM) }
        for pid in pids {
            var status: Int32 = 0
            var waited = 0
            while waitpid(pid, &status, WNOHANG) == 0 && waited < 100 {
                usleep(10_000)
                waited += 1
            }
            if waited == 100 {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
            }
        }
        return names.reversed().filter { !Spawner.run(["ip", "netns", "del", $0]).succeeded }
    }
}

/// A child process started without waiting for it: output to files, reaped with `wait()`.
struct BackgroundProcess {
    let pid: pid_t

    /// Starts `argv` with stdin from /dev/null and stdout/stderr to the given files.
    static func start(_ argv: [String], stdoutPath: String, stderrPath: String) -> BackgroundProcess? {
        Spawner.spawn(argv, stdoutPath: stdoutPath, stderrPath: stderrPath).map(BackgroundProcess.init(pid:))
    }

    /// Waits for the process to end; returns its exit status (128 + signal when killed).
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 126 }
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// The data-plane lab: three namespaces made with `ip netns add`, deleted again by `cleanup`.
///
/// ```
/// client ns  eth0 198.51.100.10.. /24, default via 198.51.100.1
///     |
/// node ns    dp-cli 198.51.100.1/24 · forwarding on · the ruleset under test · dp-srv (ee:ee:ee:ee:ee:ee)
///     |                                                       route <server address>/32 dev dp-srv
/// server ns  eth0 <server addresses>/32, default via 169.254.1.1 (static neighbour on the node's veth)
/// ```
///
/// Only addresses inside these namespaces are configured; the namespace the benchmark runs in is
/// never touched.
struct DataplaneLab {
    static let gateway = "198.51.100.1"
    static let podGateway = "169.254.1.1"
    static let hostMAC = "ee:ee:ee:ee:ee:ee"

    let node: String
    let server: String
    let client: String
    let serverAddresses: [String]
    let clientAddresses: [String]
    /// The iptables-legacy tables emptied before every load once any configuration uses them, so
    /// every configuration of a run passes the same (empty) legacy hooks; none when legacy is not
    /// measured.
    var legacyTables: [String] = []

    /// Names for a lab of this process; `clients` source addresses from 198.51.100.10 upwards.
    init(serverAddresses: [String], clients: Int) {
        let prefix = "kn-dp-\(getpid())"
        node = prefix + "-node"
        server = prefix + "-srv"
        client = prefix + "-cli"
        self.serverAddresses = serverAddresses
        clientAddresses = (0..<clients).map { "198.51.100.\(10 + $0)" }
    }

    /// Creates and wires the namespaces, recording each in `cleanup` as soon as it exists.
    func build(cleanup: DataplaneCleanup, scratch: String) throws(BenchError) {
        for name in [node, server, client] {
            try run(["ip", "netns", "add", name], scratch: scratch)
            cleanup.add(namespace: name)
            try ip(name, ["link", "set", "lo", "up"], scratch: scratch)
            try sysctls(name, forwarding: name == node, scratch: scratch)
        }
        try ip(node, ["link", "add", "dp-cli", "type", "veth", "peer", "name", "eth0", "netns", client], scratch: scratch)
        try ip(node, ["link", "add", "dp-srv", "address", Self.hostMAC, "type", "veth", "peer", "name", "eth0", "netns", server],
               scratch: scratch)
        try ip(node, ["addr", "add", Self.gateway + "/24", "dev", "dp-cli"], scratch: scratch)
        for name in ["dp-cli", "dp-srv"] { try ip(node, ["link", "set", name, "up"], scratch: scratch) }
        try ip(server, ["link", "set", "eth0", "up"], scratch: scratch)
        for address in serverAddresses {
            try ip(server, ["addr", "add", address + "/32", "dev", "eth0"], scratch: scratch)
            try ip(node, ["route", "add", address + "/32", "dev", "dp-srv"], scratch: scratch)
        }
        try ip(server, ["route", "add", Self.podGateway, "dev", "eth0", "scope", "link"], scratch: scratch)
        try ip(server, ["route", "add", "default", "via", Self.podGateway, "dev", "eth0"], scratch: scratch)
        try ip(server, ["neigh", "replace", Self.podGateway, "lladdr", Self.hostMAC, "dev", "eth0", "nud", "permanent"],
               scratch: scratch)
        try ip(client, ["link", "set", "eth0", "up"], scratch: scratch)
        for address in clientAddresses {
            try ip(client, ["addr", "add", address + "/24", "dev", "eth0"], scratch: scratch)
        }
        try ip(client, ["route", "add", "default", "via", Self.gateway, "dev", "eth0"], scratch: scratch)
    }

    /// Replaces the node's whole ruleset (inside the node namespace only) with `file`, or empties
    /// it: `nft flush ruleset` (which also removes iptables-nft's tables), the legacy tables emptied
    /// by a flushing restore, then `nft -f` or an `iptables-{nft,legacy}-restore` of the file.
    func load(ruleset file: String?, with loader: DataplaneLoader, scratch: String) throws(BenchError) {
        try run(["ip", "netns", "exec", node, "nft", "flush", "ruleset"], scratch: scratch)
        if !legacyTables.isEmpty {
            let empty = scratch + "/dp-legacy-empty.rules"
            let text = legacyTables.map { "*\($0)\nCOMMIT\n" }.joined()
            guard FileManager.default.createFile(atPath: empty, contents: Data(text.utf8)) else { throw BenchError("cannot write \(empty)") }
            try run(["ip", "netns", "exec", node, "iptables-legacy-restore", "-w", "10", empty], scratch: scratch)
        }
        guard let file else { return }
        switch loader {
        case .nft: try run(["ip", "netns", "exec", node, "nft", "-f", file], scratch: scratch)
        case .iptablesNft: try run(["ip", "netns", "exec", node, "iptables-nft-restore", "-w", "10", "--noflush", file], scratch: scratch)
        case .iptablesLegacy: try run(["ip", "netns", "exec", node, "iptables-legacy-restore", "-w", "10", "--noflush", file], scratch: scratch)
        }
    }

    /// The node's conntrack entries and the kernel's limit (`nf_conntrack_count`, `nf_conntrack_max`).
    func conntrack(scratch: String) -> (entries: Int, limit: Int)? {
        let output = scratch + "/dp-conntrack.out"
        let files = ["count", "max"].map { "/proc/sys/net/netfilter/nf_conntrack_\($0)" }
        guard Spawner.run(["ip", "netns", "exec", node, "cat"] + files, stdoutPath: output).succeeded,
              let text = try? String(contentsOfFile: output, encoding: .utf8) else { return nil }
        let numbers = text.split(separator: "\n").compactMap { Int($0) }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    /// Runs `argv` inside the namespace `name` (e.g. a benchmark agent).
    func exec(in name: String, _ argv: [String]) -> [String] { ["ip", "netns", "exec", name] + argv }

    /// Forwarding in the node only; reverse-path filtering off everywhere.
    private func sysctls(_ name: String, forwarding: Bool, scratch: String) throws(BenchError) {
        var lines = ["echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter", "echo 0 > /proc/sys/net/ipv4/conf/default/rp_filter"]
        lines.append("echo \(forwarding ? 1 : 0) > /proc/sys/net/ipv4/ip_forward")
        try run(["ip", "netns", "exec", name, "sh", "-c", lines.joined(separator: " && ")], scratch: scratch)
    }

    private func ip(_ name: String, _ args: [String], scratch: String) throws(BenchError) {
        try run(["ip", "-n", name] + args, scratch: scratch)
    }

    /// Runs a setup command; throws with its first line of stderr when it fails.
    private func run(_ argv: [String], scratch: String) throws(BenchError) {
        let errors = scratch + "/dp-command.err"
        let outcome = Spawner.run(argv, stderrPath: errors)
        guard outcome.succeeded else {
            let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
            let first = text.split(separator: "\n").first.map(String.init) ?? ""
            throw BenchError("`\(argv.joined(separator: " "))` exited \(outcome.status): \(first)")
        }
    }
}
