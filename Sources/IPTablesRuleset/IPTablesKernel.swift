import Foundation
import NFTRuleset
import NetAddress

/// Applies, compares and deletes the iptables form of a ruleset with the stock tools
/// (`iptables-restore -w --noflush`, `iptables-save`, and the ip6tables pair), in the caller's
/// network namespace or a named one. kubenft owns only chains named `KUBENFT-…` and one jump per
/// built-in chain; nothing else is read or changed.
public struct IPTablesKernel: Sendable {
    /// Which implementation: the one Debian's alternatives select, or one named explicitly.
    public enum Variant: String, Sendable, CaseIterable {
        case system = "iptables"
        case nft = "iptables-nft"
        case legacy = "iptables-legacy"
    }

    /// A failed tool run, or a state kubenft refuses to change.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public var variant: Variant
    /// A name under /var/run/netns (entered with `ip netns exec`) or a path (entered with `nsenter`).
    public var namespace: String?

    public init(variant: Variant, namespace: String?) {
        self.variant = variant
        self.namespace = namespace
    }

    /// The tool's command line: `ip6tables-legacy-save`, inside the namespace when one is given.
    func command(_ family: IPFamily, _ verb: String, in namespace: String?) -> [String] {
        let base = family == .v4 ? "iptables" : "ip6tables"
        let tool = variant == .system ? "\(base)-\(verb)" : "\(base)-\(variant == .nft ? "nft" : "legacy")-\(verb)"
        guard let namespace else { return [tool] }
        if namespace.contains("/") { return ["nsenter", "--net=" + namespace, tool] }
        return ["ip", "netns", "exec", namespace, tool]
    }

    /// `iptables-save` of one family: the whole listing (kubenft reads only its own lines).
    func save(_ family: IPFamily, in namespace: String?) throws(Failure) -> String {
        try Self.run(command(family, "save", in: namespace))
    }

    func restore(_ text: String, _ family: IPFamily, in namespace: String?) throws(Failure) {
        _ = try Self.run(command(family, "restore", in: namespace) + ["-w", "--noflush"], stdin: text)
    }

    /// Runs a program found in PATH; its standard output, or a failure with its standard error.
    static func run(_ argv: [String], stdin: String? = nil) throws(Failure) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run \(argv[0]): \(error)")
        }
        let writer = Thread {
            if let data = stdin?.data(using: .utf8) { try? input.fileHandleForWriting.write(contentsOf: data) }
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let errorData = LockedData()
        let reader = Thread { errorData.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errorData.isSet { usleep(1000) }
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errorData.value, as: UTF8.self).split(separator: "\n").prefix(4).joined(separator: "; ")
            throw Failure(description: "\(argv.joined(separator: " ")) failed (exit \(process.terminationStatus)): \(message)")
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Standard error collected on another thread while standard output is read.
private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?

    func set(_ value: Data) { lock.withLock { data = value } }
    var isSet: Bool { lock.withLock { data != nil } }
    var value: Data { lock.withLock { data ?? Data() } }
}
