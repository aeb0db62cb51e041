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
        try Command.output(arguments, stdin: stdin)
    }
}
