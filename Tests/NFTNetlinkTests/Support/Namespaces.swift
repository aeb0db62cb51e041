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
        sortingElements(try nft(["list", "table", "inet", "kubenft"], in: namespace))
    }

    static func listRuleset(in namespace: String) throws -> String {
        sortingElements(try nft(["list", "ruleset"], in: namespace))
    }

    /// `nft list` output with the entries of every `elements = { … }` block sorted. The kernel
    /// lists a hash set's elements in its own internal order, which no batch programs; a table
    /// replaced in one batch has (rarely) listed a verdict map's elements in another order than a
    /// fresh load of the same ruleset. Comparisons of two listings compare the elements each set
    /// holds, and everything else in its order.
    static func sortingElements(_ listing: String) -> String {
        var output = ""
        var rest = Substring(listing)
        while let start = rest.range(of: "elements = {") {
            output += rest[..<start.upperBound]
            rest = rest[start.upperBound...]
            var entries: [String] = [], current = "", quoted = false
            while let character = rest.first, quoted || character != "}" {
                rest.removeFirst()
                if character == "\"" { quoted.toggle() }
                if character == ",", !quoted {
                    entries.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            entries.append(current)
            let tidy = entries.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }.filter { !$0.isEmpty }
            output += " " + tidy.sorted().joined(separator: ", ") + " "
        }
        return output + rest
    }

    /// Runs a command and returns stdout; throws with stderr on a non-zero exit.
    @discardableResult
    static func run(_ arguments: [String], stdin: String? = nil) throws -> String {
        try Command.output(arguments, stdin: stdin)
    }
}
