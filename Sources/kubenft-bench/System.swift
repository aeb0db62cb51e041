import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Monotonic wall-clock timing.
enum Clock {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Runs `body`, returning its result and the seconds it took.
    static func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = now()
        let result = try body()
        return (result, now() - start)
    }
}

/// Facts about this process from /proc.
enum ProcessInfoReader {
    /// The peak resident set size (VmHWM) in bytes, nil when /proc is unavailable.
    static func peakRSS() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }

    /// The path of the running executable, for re-executing it.
    static func executablePath() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The outcome of one child process: exit status, wall time and the CPU time it used.
struct ChildOutcome {
    var status: Int32
    var wallSeconds: Double
    var userSeconds: Double
    var systemSeconds: Double
    var succeeded: Bool { status == 0 }
}

/// Runs programs with posix_spawn and reaps them with wait4, which also reports their CPU time
/// (for `nft -f`, the system time is the kernel's share of a load).
enum Spawner {
    /// Starts `argv` (looked up in PATH) with stdin from /dev/null and stdout/stderr to the given
    /// files; nil when it cannot be started.
    static func spawn(_ argv: [String], stdoutPath: String, stderrPath: String) -> pid_t? {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, argv[0], &actions, nil, cArgs, environ) == 0 else { return nil }
        return pid
    }

    static func run(_ argv: [String], stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null") -> ChildOutcome {
        let start = Clock.now()
        guard let pid = spawn(argv, stdoutPath: stdoutPath, stderrPath: stderrPath) else {
            return ChildOutcome(status: 127, wallSeconds: 0, userSeconds: 0, systemSeconds: 0)
        }
        var rawStatus: Int32 = 0
        var usage = rusage()
        while wait4(pid, &rawStatus, 0, &usage) < 0 {
            if errno != EINTR { return ChildOutcome(status: 126, wallSeconds: 0, userSeconds: 0, systemSeconds: 0) }
        }
        let wall = Clock.now() - start
        // WIFEXITED / WEXITSTATUS spelled out: the macros are not imported into Swift.
        let exited = rawStatus & 0x7f == 0
        let status = exited ? (rawStatus >> 8) & 0xff : 128 + (rawStatus & 0x7f)
        return ChildOutcome(status: status, wallSeconds: wall, userSeconds: seconds(usage.ru_utime),
                            systemSeconds: seconds(usage.ru_stime))
    }

    private static func seconds(_ value: timeval) -> Double {
        Double(value.tv_sec) + Double(value.tv_usec) / 1e6
    }
}
