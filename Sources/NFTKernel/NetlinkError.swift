#if canImport(Glibc)
import Glibc
#endif

/// A failure talking to the kernel or turning a ruleset into netlink messages: an errno-style code
/// (0 when the problem was found before anything was sent) and a readable message that names the
/// nftables object and, when known, the Kubernetes object it came from.
public struct NetlinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, for callers that react differently (exit codes, retries).
    public enum Kind: String, Sendable, Hashable {
        /// The ruleset cannot be expressed as netlink messages (a shape kubenft does not encode).
        case unsupported
        /// The caller lacks CAP_NET_ADMIN (or CAP_SYS_ADMIN to enter a namespace).
        case permission
        /// The table has flags owner and belongs to another process's netlink socket.
        case owned
        /// The network namespace does not exist.
        case missingNamespace
        /// The kernel refused a message of the batch; nothing was applied.
        case refused
        /// The ruleset changed between reading it and committing (generation id moved).
        case concurrentChange
        /// The socket ran out of buffer space.
        case noBufferSpace
        /// A kernel module the ruleset needs is not available.
        case missingModule
        /// Anything else: socket errors, malformed replies.
        case system
    }

    public var kind: Kind
    /// The errno value, or 0.
    public var code: Int32
    public var message: String

    public init(_ kind: Kind, code: Int32 = 0, _ message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    /// An error from an errno value, classified.
    public static func system(_ code: Int32, _ context: String) -> NetlinkError {
        let kind: Kind
        switch code {
        case EPERM, EACCES: kind = .permission
        case ENOBUFS: kind = .noBufferSpace
        case ERESTART: kind = .concurrentChange
        default: kind = .system
        }
        return NetlinkError(kind, code: code, "\(context): \(errnoText(code))")
    }

    public var description: String { message }

    /// `strerror` text for an errno value.
    public static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }
}
