import NFTRuleset
import NetAddress

/// One condition of an iptables rule. A translated nft rule is a conjunction of these; set
/// lookups and verdict maps become several rules, one per element.
enum IPTablesMatch: Sendable, Hashable {
    enum Direction: Sendable, Hashable { case source, destination }

    case address(Direction, AddressRange, negated: Bool)
    case proto(String, negated: Bool)
    case port(Direction, low: UInt16, high: UInt16, negated: Bool)
    case interface(Direction, name: String, negated: Bool)
    case mark(value: UInt32, mask: UInt32, negated: Bool)
    case connectionState([String], negated: Bool)
    case connectionStatus([String], negated: Bool)
    case originalDestination(CIDR, negated: Bool)
    case addressType(Direction, type: String, negated: Bool)
    /// `-m recent --rcheck`: the source is in the affinity list and was seen within `seconds`.
    case recentCheck(name: String, seconds: Int)
    /// `-m recent --set`: records the source (nft `update @set { ip saddr }`).
    case recentSet(name: String)
    /// `-m hashlimit --hashlimit-above`: the packet is over a token bucket of `rate` per `unit` with
    /// `burst` (nft `limit rate over`); per source address with an expiry when `perSource` (nft
    /// `update @set { ip saddr limit rate over … }`).
    case hashlimitAbove(name: String, limit: RateLimit, perSource: Bool, expireSeconds: UInt64?)
    /// `-m limit --limit R/unit --limit-burst B`: matches while the rate is under the limit.
    case limitUnder(RateLimit)
    /// `-m statistic --mode random --probability numerator/denominator`: always the last match.
    case random(numerator: Int, denominator: Int)
}

/// What an iptables rule does when it matches.
enum IPTablesTarget: Sendable, Hashable {
    case accept, drop, `return`
    case jump(String)
    case goto(String)
    case dnat(IPAddress, UInt16)
    case masquerade
    case reject(String?)
    case orMark(UInt32)
    /// `-j NFLOG --nflog-prefix "…" --nflog-group N` (the prefix at most 63 bytes, xt_NFLOG's limit).
    case nflog(group: UInt16, prefix: String)

    var isAccept: Bool { if case .accept = self { return true } else { return false } }
}

/// One `-A` line before rendering: chain, conditions, target (none for a rule that only records, like
/// `-m recent --set`), and the comment naming the Kubernetes object.
struct IPTablesRule: Sendable, Hashable {
    var chain: String
    var matches: [IPTablesMatch]
    var target: IPTablesTarget?
    var comment: String
}

/// One iptables chain with the nft chain it came from (shown in a `#` line for review).
struct IPTablesChain: Sendable, Hashable {
    var name: String
    var origin: String
    var rules: [IPTablesRule]
}

/// The two iptables tables kubenft writes.
public enum IPTablesTableName: String, Sendable, Hashable, CaseIterable {
    case nat, filter
}

/// Why a ruleset cannot be written as iptables rules. The translation refuses rather than drops:
/// every nft statement either has an exact counterpart or stops the compile with this error.
public struct IPTablesTranslationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var chain: String
    public var rule: String?
    public var reason: String

    public init(chain: String, rule: String?, reason: String) {
        self.chain = chain
        self.rule = rule
        self.reason = reason
    }

    public var description: String {
        "chain \(chain)" + (rule.map { " rule \"\($0)\"" } ?? "") + ": cannot be expressed in iptables: \(reason)"
    }
}
