/// A named counter object of the table (`counter NAME { comment "…" }`). It exists so that drops
/// and rejects can be counted per NetworkPolicy and per Service and read back in one dump of the
/// table's objects (`kubenft stats`), instead of one read per rule.
public struct CounterObject: Sendable, Hashable {
    public var name: String
    /// What the counter counts, in words (`ingress isolated by shop/deny-all`).
    public var comment: String?

    public init(name: String, comment: String? = nil) {
        self.name = name
        self.comment = comment
    }
}

/// Where a `log` statement sends a packet: an nflog group, with a prefix naming what dropped it.
/// It exists so that drop logging reaches the emitters, the tracer and the netlink encoder as one
/// typed value.
public struct LogTarget: Sendable, Hashable {
    /// At most `maximumPrefixLength` bytes (the kernel's NF_LOG_PREFIXLEN less its NUL).
    public var prefix: String
    public var group: UInt16

    public static let maximumPrefixLength = 127

    public init(prefix: String, group: UInt16) {
        self.prefix = prefix
        self.group = group
    }

    /// `log prefix "…" group N`.
    public var text: String { "log prefix \"\(NFTQuoting.comment(prefix))\" group \(group)" }
}
