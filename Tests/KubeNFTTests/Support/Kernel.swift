import Foundation
import LabKit

/// Loads rulesets into throwaway network namespaces with the stock `nft` binary and reads them
/// back, as an independent witness of what the kernel accepted.
enum Kernel {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Loads the text (or JSON with `json: true`) in a fresh namespace and returns `nft list ruleset`.
    static func loadAndList(_ text: String, json: Bool = false) throws -> String {
        try withNamespace { name in
            try load(text, json: json, in: name)
            return try list(in: name)
        }
    }

    /// Runs `body` with a fresh network namespace that is deleted afterwards, whatever happens.
    static func withNamespace<T>(_ body: (String) throws -> T) throws -> T {
        try Environment.ensureKernelLab()
        let name = "kn-" + String(UInt32.random(in: 0...UInt32.max), radix: 36) + "-gld"
        _ = try run(["ip", "netns", "add", name])
        defer { _ = try? run(["ip", "netns", "del", name]) }
        return try body(name)
    }

    static func load(_ text: String, json: Bool = false, in namespace: String) throws {
        _ = try run(["ip", "netns", "exec", namespace, "nft"] + (json ? ["-j"] : []) + ["-f", "-"], stdin: text)
    }

    static func list(in namespace: String) throws -> String {
        try run(["ip", "netns", "exec", namespace, "nft", "list", "ruleset"])
    }

    /// Runs a command, returning stdout; throws with stderr on a non-zero exit.
    @discardableResult
    static func run(_ arguments: [String], stdin: String? = nil) throws -> String {
        try Command.output(arguments, stdin: stdin)
    }

    /// Drops object-level `comment` lines: nft 1.0.6 keeps table, set and chain comments from text
    /// but not from JSON; rule and element comments survive both and stay in the comparison.
    static func withoutObjectComments(_ listing: String) -> String {
        listing.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("comment \"") }.joined(separator: "\n")
    }
}
