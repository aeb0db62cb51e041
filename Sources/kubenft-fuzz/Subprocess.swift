import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one child process ended, as a user would observe it.
struct ProcessOutcome: Sendable {
    enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut(seconds: Double)
    }

    var ending: Ending
    var stdout: Data
    var stderr: Data
    var seconds: Double

    var exitStatus: Int32? {
        if case .exited(let status) = ending { return status }
        return nil
    }

    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs children with stdout/stderr captured through files (no pipe deadlocks) and a wall-clock
/// timeout after which the child is killed.
enum Subprocess {
    struct LaunchFailure: Error, CustomStringConvertible { var description: String }

    static func run(_ arguments: [String], timeout: Double, stdin: Data? = nil, scratch: String) throws -> ProcessOutcome {
        let outPath = scratch + "/.stdout", errPath = scratch + "/.stderr"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try resolve(arguments[0]))
        process.arguments = Array(arguments.dropFirst())
        // Every descriptor opened here is closed here: a long run starts tens of thousands of
        // children, and leaving them to deinitialisers ran the harness out of descriptors.
        guard let outHandle = FileHandle(forWritingAtPath: outPath), let errHandle = FileHandle(forWritingAtPath: errPath) else {
            throw LaunchFailure(description: "cannot open \(scratch) for the child's output")
        }
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        let input = stdin == nil ? nil : Pipe()
        defer {
            try? input?.fileHandleForReading.close()
            try? input?.fileHandleForWriting.close()
        }
        process.standardInput = input ?? FileHandle.nullDevice
        let done = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in done.signal() }
        let start = Date()
        do { try process.run() } catch { throw LaunchFailure(description: "cannot run \(arguments[0]): \(error)") }
        if let stdin, let input {
            try? input.fileHandleForWriting.write(contentsOf: stdin)
            try? input.fileHandleForWriting.close()
        }
        var ending: ProcessOutcome.Ending
        if done.wait(timeout: .now() + timeout) == .timedOut {
            kill(process.processIdentifier, SIGKILL)
            done.wait()
            ending = .timedOut(seconds: timeout)
        } else if process.terminationReason == .uncaughtSignal {
            ending = .signalled(process.terminationStatus)
        } else {
            ending = .exited(process.terminationStatus)
        }
        let stdout = FileManager.default.contents(atPath: outPath) ?? Data()
        let stderr = FileManager.default.contents(atPath: errPath) ?? Data()
        return ProcessOutcome(ending: ending, stdout: stdout, stderr: stderr, seconds: Date().timeIntervalSince(start))
    }

    /// The full path of a program, searched in PATH plus the sbin directories when not absolute.
    static func resolve(_ program: String) throws -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin"] {
            let candidate = directory + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw LaunchFailure(description: "\(program) not found in PATH")
    }
}
