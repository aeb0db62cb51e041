import Foundation
import IPTablesRuleset
import LabKit
import NetAddress

/// The two iptables implementations Debian's `iptables` package ships, as the tests drive them.
enum IPTablesBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case nft, legacy

    var description: String { "iptables-\(rawValue)" }

    /// `iptables-nft-restore`, `ip6tables-legacy-save`, ...
    func tool(_ family: IPFamily, _ verb: String) -> String {
        (family == .v4 ? "iptables" : "ip6tables") + "-\(rawValue)-\(verb)"
    }

    /// Loads an iptables-restore file into a namespace (`--noflush`, waiting for the lock).
    func restore(_ text: String, family: IPFamily, in namespace: String, test: Bool = false) throws {
        try Command.output(["ip", "netns", "exec", namespace, tool(family, "restore"), "-w", "--noflush"] + (test ? ["--test"] : []), stdin: text)
    }

    func save(_ family: IPFamily, in namespace: String) throws -> String {
        try Command.output(["ip", "netns", "exec", namespace, tool(family, "save")])
    }
}

/// Whether the iptables tools are installed: under `CI=true` their absence fails the test, elsewhere
/// the test is skipped with a printed reason, as for the other kernel-lab tests.
enum IPTablesTools {
    struct Missing: Error, CustomStringConvertible { var description: String }

    /// True when the tests may run; prints why not, or throws under CI.
    static func available() throws -> Bool {
        try Environment.ensureKernelLab()
        let missing = IPTablesBackend.allCases.flatMap { backend in
            IPFamily.allCases.flatMap { family in ["restore", "save"].map { backend.tool(family, $0) } }
        }.filter { (try? Command.run(["sh", "-c", "command -v \($0)"]))?.status != 0 }
        guard !missing.isEmpty else { return true }
        let reason = "iptables tests need \(missing.joined(separator: ", ")) (Debian package iptables)"
        if Environment.isCI { throw Missing(description: reason) }
        print("skipped: \(reason)")
        return false
    }

    /// The compiled file without its `-I` hook lines, as `apply` restores it once the hooks exist.
    static func withoutHookJumps(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("-I ") }.joined(separator: "\n")
    }

    /// The `-A KUBENFT-…` lines of an `iptables-save` listing, without counters, sorted.
    static func kubenftRules(_ saved: String) -> [String] {
        saved.split(separator: "\n").map(String.init).filter { $0.hasPrefix("-A " + IPTablesEmitter.chainPrefix) }.sorted()
    }
}
