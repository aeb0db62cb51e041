#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The machine cannot host a kernel lab (not root, no `ip`/`nft`, no network
/// namespaces). Outside CI, tests turn this into a skip and print `reason`.
public struct LabUnavailable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "kernel lab unavailable: \(reason)" }
}

/// A failure while building or driving a lab.
public enum LabError: Error, CustomStringConvertible, Sendable {
    /// The kernel lab is required (CI=true) but cannot run here.
    case requiredButUnavailable(String)
    /// A command exited non-zero.
    case commandFailed(command: [String], result: CommandResult)
    /// `nft -f -` rejected a ruleset; `stderr` is nft's message.
    case rulesetRejected(stderr: String)
    /// A server did not print `ready`.
    case serverNotReady(role: String, detail: String)
    /// The caller asked for something inconsistent (unknown role, duplicate name, bad address).
    case invalidRequest(String)
    /// A system call failed.
    case system(String, Int32)
    /// The probe agent printed something that is not a result line.
    case badProbeOutput(String)

    public var description: String {
        switch self {
        case .requiredButUnavailable(let reason):
            return "kernel lab required (CI=true) but unavailable: \(reason)"
        case .commandFailed(let command, let result):
            return "command failed: \(command.joined(separator: " ")): \(result)"
        case .rulesetRejected(let stderr):
            return "nft rejected the ruleset:\n\(stderr)"
        case .serverNotReady(let role, let detail):
            return "server in \(role) did not become ready: \(detail)"
        case .invalidRequest(let message):
            return "invalid lab request: \(message)"
        case .system(let what, let code):
            return "\(what) failed: \(String(cString: strerror(code)))"
        case .badProbeOutput(let text):
            return "unexpected probe output: \(text)"
        }
    }
}
