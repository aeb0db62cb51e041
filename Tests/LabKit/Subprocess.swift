import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The outcome of a finished command.
public struct CommandResult: Sendable, CustomStringConvertible {
    /// Exit status, or 128 + signal number when killed by a signal.
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var description: String {
        "exit \(status); stdout: \(stdout.trimmedLab); stderr: \(stderr.trimmedLab)"
    }
}

extension String {
    var trimmedLab: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Spawning child processes without Foundation's `Process`: pipes are created
/// close-on-exec and every spawn is serialized, so concurrent labs never leak
/// each other's pipe ends into long-running children.
enum Subprocess {
    private static let spawnLock = NSLock()

    /// Runs `body` while no other spawn of this process can start.
    static func withSpawnLock<R>(_ body: () throws -> R) rethrows -> R {
        try spawnLock.withLock { try body() }
    }

    /// Runs `argv` to completion, feeding `stdin`, collecting stdout and stderr.
    static func run(_ argv: [String], stdin: String? = nil, timeoutMs: Int = 120_000) throws -> CommandResult {
        let started = monotonicMsLab()
        let result = try runUntraced(argv, stdin: stdin, timeoutMs: timeoutMs)
        if tracing {
            print("[lab] \(monotonicMsLab() - started)ms exit \(result.status): \(argv.joined(separator: " "))")
        }
        return result
    }

    /// True when `KUBENFT_LAB_TRACE=1`: every command is printed with its duration.
    static let tracing = ProcessInfo.processInfo.environment["KUBENFT_LAB_TRACE"] == "1"

    static func runUntraced(_ argv: [String], stdin: String?, timeoutMs: Int) throws -> CommandResult {
        let pipes = try spawnLock.withLock { try makePipes(count: 3) }
        let pid: pid_t
        do {
            defer { closeAll([pipes[0].read, pipes[1].write, pipes[2].write]) }
            pid = try spawn(argv, stdin: pipes[0].read, stdout: pipes[1].write, stderr: pipes[2].write)
        } catch {
            closeAll([pipes[0].write, pipes[1].read, pipes[2].read])
            throw error
        }
        let input = Array((stdin ?? "").utf8)
        let output = Pump(stdin: pipes[0].write, stdout: pipes[1].read, stderr: pipes[2].read, input: input)
        let finished = output.run(deadline: monotonicMsLab() + Int64(timeoutMs))
        if !finished { kill(pid, SIGKILL) }
        let status = waitStatus(pid)
        return CommandResult(
            status: finished ? status : 124,
            stdout: String(decoding: output.out, as: UTF8.self),
            stderr: String(decoding: output.err, as: UTF8.self) + (finished ? "" : "\n(timed out after \(timeoutMs) ms)")
        )
    }

    /// A read/write pipe pair, both ends close-on-exec.
    struct PipePair {
        var read: Int32
        var write: Int32
    }

    static func makePipes(count: Int) throws -> [PipePair] {
        var result: [PipePair] = []
        for _ in 0..<count {
            var fds: [Int32] = [-1, -1]
            guard pipe(&fds) == 0 else {
                closeAll(result.flatMap { [$0.read, $0.write] })
                throw LabError.system("pipe", errno)
            }
            _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
            result.append(PipePair(read: fds[0], write: fds[1]))
        }
        return result
    }

    static func closeAll(_ fds: [Int32]) {
        for fd in fds where fd >= 0 { close(fd) }
    }

    /// Spawns `argv` (searched in PATH) with the given descriptors as 0, 1 and 2;
    /// the caller closes its copies of those child ends afterwards.
    static func spawn(_ argv: [String], stdin: Int32, stdout: Int32, stderr: Int32) throws -> pid_t {
        try spawnLock.withLock {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
            posix_spawn_file_actions_adddup2(&actions, stdout, 1)
            posix_spawn_file_actions_adddup2(&actions, stderr, 2)
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            resetSignals(&attributes)
            var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
            defer { cArgs.forEach { free($0) } }
            var pid: pid_t = 0
            let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
            guard rc == 0 else { throw LabError.system("spawn \(argv[0])", rc) }
            return pid
        }
    }

    /// Children start with no blocked signals and default dispositions, whatever
    /// the test runner set up, so SIGTERM ends them at once.
    static func resetSignals(_ attributes: inout posix_spawnattr_t) {
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGCHLD, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    }

    /// Waits for `pid` and returns its exit status (128 + signal when signalled).
    static func waitStatus(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// Moves bytes between a child and the parent until both output pipes close.
/// Owns (and closes) the three parent-side descriptors.
final class Pump {
    private var fds: [pollfd]
    private let input: [UInt8]
    private var written = 0
    private(set) var out: [UInt8] = []
    private(set) var err: [UInt8] = []

    init(stdin: Int32, stdout: Int32, stderr: Int32, input: [UInt8]) {
        self.input = input
        fds = [
            pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0),
            pollfd(fd: stdout, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stderr, events: Int16(POLLIN), revents: 0),
        ]
        for fd in [stdin, stdout, stderr] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        }
        if input.isEmpty { closeSlot(0) }
    }

    deinit {
        for index in fds.indices { closeSlot(index) }
    }

    /// How a pumping run ended.
    enum Ending { case done, closed, timedOut }

    /// Returns false when the deadline passed before the child closed its outputs.
    func run(deadline: Int64) -> Bool {
        runUntil(deadline: deadline) { _ in false } != .timedOut
    }

    /// Pumps until `done(stdout so far)` is true, both outputs close, or the deadline passes.
    func runUntil(deadline: Int64, _ done: ([UInt8]) -> Bool) -> Ending {
        while fds[1].fd >= 0 || fds[2].fd >= 0 {
            if done(out) { return .done }
            let remaining = deadline - monotonicMsLab()
            if remaining <= 0 { return .timedOut }
            let rc = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1000)))
            if rc < 0 && errno != EINTR { return .timedOut }
            if rc <= 0 { continue }
            if fds[0].fd >= 0 && fds[0].revents != 0 { writeInput() }
            if fds[1].fd >= 0 && fds[1].revents != 0 { drain(index: 1) }
            if fds[2].fd >= 0 && fds[2].revents != 0 { drain(index: 2) }
        }
        closeSlot(0)
        return done(out) ? .done : .closed
    }

    private func writeInput() {
        if fds[0].revents & Int16(POLLERR | POLLHUP) != 0 { return closeSlot(0) }
        let n = input[written...].withUnsafeBytes { write(fds[0].fd, $0.baseAddress, $0.count) }
        if n > 0 { written += n }
        if n < 0 && errno != EAGAIN && errno != EINTR { return closeSlot(0) }
        if written >= input.count { closeSlot(0) }
    }

    /// Closes a descriptor and makes poll ignore its slot.
    private func closeSlot(_ index: Int) {
        if fds[index].fd >= 0 {
            close(fds[index].fd)
            fds[index].fd = -1
        }
    }

    private func drain(index: Int) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = read(fds[index].fd, &buffer, buffer.count)
        if n > 0 {
            if index == 1 { out.append(contentsOf: buffer[0..<n]) } else { err.append(contentsOf: buffer[0..<n]) }
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            closeSlot(index)
        }
    }
}

/// Milliseconds on the monotonic clock.
func monotonicMsLab() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
