import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What `kubenft-lab-agent serve` listens on. The server answers each
/// connection or datagram with `name` followed by a newline.
public struct ServeSpec: Sendable {
    /// The reply; `nil` means the pod's (or client's) name.
    public var name: String?
    public var tcp: [Int]
    public var udp: [Int]
    public var sctp: [Int]
    /// Specific addresses to bind; empty means the IPv4 and IPv6 wildcards.
    public var bind: [String]

    public init(name: String? = nil, tcp: [Int] = [], udp: [Int] = [], sctp: [Int] = [], bind: [String] = []) {
        self.name = name
        self.tcp = tcp
        self.udp = udp
        self.sctp = sctp
        self.bind = bind
    }

    /// The same ports on TCP, UDP and SCTP.
    public static func all(_ ports: [Int], name: String? = nil) -> ServeSpec {
        ServeSpec(name: name, tcp: ports, udp: ports, sctp: ports)
    }

    func arguments(defaultName: String) -> [String] {
        var args = ["serve", "--name", name ?? defaultName]
        let lists: [(String, [Int])] = [("--tcp", tcp), ("--udp", udp), ("--sctp", sctp)]
        for (flag, ports) in lists where !ports.isEmpty {
            args += [flag, ports.map(String.init).joined(separator: ",")]
        }
        for address in bind { args += ["--bind", address] }
        return args
    }
}

/// A running `serve` agent inside a namespace.
final class ServerProcess {
    let pid: pid_t
    let role: String
    /// What the server wrote to stderr before `ready` (e.g. the SCTP warning).
    private(set) var startupWarnings = ""
    private var stopped = false

    /// Starts `argv` and waits up to `timeoutMs` for a `ready` line.
    init(role: String, argv: [String], timeoutMs: Int = 10_000) throws {
        let pipes = try LockedSpawn.pipes(2)
        do {
            defer { Subprocess.closeAll([pipes[0].write, pipes[1].write]) }
            let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
            defer { if devnull >= 0 { close(devnull) } }
            pid = try Subprocess.spawn(argv, stdin: devnull, stdout: pipes[0].write, stderr: pipes[1].write)
        } catch {
            Subprocess.closeAll([pipes[0].read, pipes[1].read])
            throw error
        }
        self.role = role
        let pump = Pump(stdin: -1, stdout: pipes[0].read, stderr: pipes[1].read, input: [])
        let ready = pump.runUntil(deadline: monotonicMsLab() + Int64(timeoutMs)) { out in
            String(decoding: out, as: UTF8.self).contains("ready\n")
        } == .done
        startupWarnings = String(decoding: pump.err, as: UTF8.self)
        if !ready {
            stop()
            let detail = "stdout: \(String(decoding: pump.out, as: UTF8.self).trimmedLab); stderr: \(startupWarnings.trimmedLab)"
            throw LabError.serverNotReady(role: role, detail: detail)
        }
    }

    /// Terminates the server (SIGTERM, then SIGKILL after a second) and reaps it.
    func stop() {
        ServerProcess.stopAll([self])
    }

    /// Sends SIGTERM to every server at once, then reaps them (SIGKILL after a second).
    static func stopAll(_ servers: [ServerProcess]) {
        let running = servers.filter { !$0.stopped }
        running.forEach { server in
            server.stopped = true
            kill(server.pid, SIGTERM)
        }
        let deadline = monotonicMsLab() + 1000
        var pending = running.map(\.pid)
        while !pending.isEmpty && monotonicMsLab() < deadline {
            pending.removeAll { pid in
                var status: Int32 = 0
                let rc = waitpid(pid, &status, WNOHANG)
                return rc == pid || (rc < 0 && errno == ECHILD)
            }
            if !pending.isEmpty { usleep(2_000) }
        }
        for pid in pending {
            kill(pid, SIGKILL)
            _ = Subprocess.waitStatus(pid)
        }
    }

    deinit { stop() }
}

/// Pipe creation under the spawn lock (see `Subprocess`).
enum LockedSpawn {
    static func pipes(_ count: Int) throws -> [Subprocess.PipePair] {
        try Subprocess.withSpawnLock { try Subprocess.makePipes(count: count) }
    }
}
