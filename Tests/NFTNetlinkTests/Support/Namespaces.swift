import Foundation
import LabKit

/// Throwaway network namespaces and the stock `nft` binary as an independent witness.
enum Namespaces {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `body` with fresh namespaces that are deleted afterwards, whatever happens.
    static func with<T>(_ count: Int = 1, _ body: ([String]) throws -> T) throws -> T {
        try Environment.ensureKernelLab()
        var names: [String] = []
        defer { for name in names { _ = try? run(["ip", "netns", "del", name]) } }
        for _ in 0..<count {
            let name = "kn-" + String(UInt32.random(in: 0...UInt32.max), radix: 36) + "-nl"
            try run(["ip", "netns", "add", name])
            names.append(name)
        }
        return try body(names)
    }

    static func nft(_ arguments: [String], in namespace: String, stdin: String? = nil) throws -> String {
        try run(["ip", "netns", "exec", namespace, "nft"] + arguments, stdin: stdin)
    }

    static func listTable(in namespace: String) throws -> String {
        try nft(["list", "table", "inet", "kubenft"], in: namespace)
    }

    static func listRuleset(in namespace: String) throws -> String {
        try nft(["list", "ruleset"], in: namespace)
    }

    /// Runs a command and returns stdout; throws with stderr on a non-zero exit.
    @discardableResult
    static func run(_ arguments: [String], stdin: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe(), errors = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input
        try process.run()
        let writer = Thread {
            if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let errorBox = Box()
        let reader = Thread {
            errorBox.data = errors.fileHandleForReading.readDataToEndOfFile()
            errorBox.done.signal()
        }
        reader.start()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorBox.done.wait()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): "
                + String(decoding: errorBox.data, as: UTF8.self))
        }
        return String(decoding: outData, as: UTF8.self)
    }

    final class Box: @unchecked Sendable {
        var data = Data()
        let done = DispatchSemaphore(value: 0)
    }
}
