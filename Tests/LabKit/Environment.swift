import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Facts about the machine that decide whether kernel-lab tests can run.
public enum Environment {
    /// True when the environment variable `CI` is `true`: lab tests must then run, never skip.
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
    }

    private static let cache = LockedBox<String??>(nil)

    /// `nil` when this process can build labs (root, `ip` and `nft` present, a
    /// network namespace can be created), otherwise the reason it cannot.
    /// The check runs once per process.
    public static func requireKernelLab() -> String? {
        cache.withValue { cached in
            if let known = cached { return known }
            let reason = probeKernelLab()
            cached = .some(reason)
            return reason
        }
    }

    /// Throws `LabError.requiredButUnavailable` under CI, `LabUnavailable` elsewhere.
    public static func ensureKernelLab() throws {
        guard let reason = requireKernelLab() else { return }
        if isCI { throw LabError.requiredButUnavailable(reason) }
        throw LabUnavailable(reason)
    }

    /// For `.enabled(if:)` traits: true when the lab can run or CI demands it;
    /// prints the reason when lab tests are skipped.
    public static var labTestsEnabled: Bool {
        guard let reason = requireKernelLab() else { return true }
        if isCI { return true }
        let first = skipNoticePrinted.withValue { printed -> Bool in
            defer { printed = true }
            return !printed
        }
        if first { print("kernel lab tests skipped: \(reason)") }
        return false
    }

    private static let skipNoticePrinted = LockedBox(false)

    static func probeKernelLab() -> String? {
        #if !os(Linux)
        return "network namespaces need Linux"
        #else
        if geteuid() != 0 { return "needs root (euid \(geteuid()))" }
        for tool in ["ip", "nft"] where findExecutable(tool) == nil {
            return "'\(tool)' not found in PATH (install iproute2 and nftables)"
        }
        let name = "kn-" + randomLabID() + "-env"
        do {
            let add = try Subprocess.run(["ip", "netns", "add", name], timeoutMs: 20_000)
            guard add.status == 0 else { return "cannot create a network namespace: \(add.stderr.trimmedLab)" }
            defer { _ = try? Subprocess.run(["ip", "netns", "del", name], timeoutMs: 20_000) }
            let nft = try Subprocess.run(["ip", "netns", "exec", name, "nft", "list", "ruleset"], timeoutMs: 20_000)
            guard nft.status == 0 else { return "nft does not work in a namespace: \(nft.stderr.trimmedLab)" }
        } catch {
            return "cannot run ip: \(error)"
        }
        return nil
        #endif
    }

    /// The full path of `name` in PATH, if executable.
    static func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        for dir in dirs {
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}

/// A value guarded by a lock, for process-wide caches.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

/// Six random lowercase hex digits.
func randomLabID() -> String {
    let value = UInt32.random(in: 0...0xFF_FFFF)
    let hex = String(value, radix: 16)
    return String(repeating: "0", count: 6 - hex.count) + hex
}

extension Environment {
    /// True when this kernel can open SCTP sockets.
    public static var sctpAvailable: Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 132)
        if fd < 0 { return false }
        close(fd)
        return true
    }

    /// True when `KUBENFT_LAB_REQUIRE_SCTP=1`: SCTP checks then fail instead of skipping.
    public static var sctpRequired: Bool {
        ProcessInfo.processInfo.environment["KUBENFT_LAB_REQUIRE_SCTP"] == "1"
    }
}
