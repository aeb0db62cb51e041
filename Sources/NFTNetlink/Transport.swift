#if canImport(Glibc)
import Glibc
#endif
import CNftnlShim
import NFTRuleset

/// Where rulesets go: the kernel over netlink, or a recording fake for tests. Every change is one
/// `RulesetBatch`, applied by the kernel all or nothing.
public protocol RulesetTransport: AnyObject {
    /// The ruleset generation id; a batch guarded by it fails if anything changed meanwhile.
    func generation() throws(NetlinkError) -> UInt32
    /// The table as the kernel holds it; nil when there is no such table.
    func read(family: String, table: String) throws(NetlinkError) -> TableSnapshot?
    /// Whether the table exists, and the generation that answer holds at (nil: unknown), without
    /// reading its contents: what `apply --full` and `delete` need.
    func tableExists(family: String, table: String) throws(NetlinkError) -> (exists: Bool, generation: UInt32?)
    /// Sends one transaction.
    func send(_ batch: RulesetBatch) throws(NetlinkError) -> BatchReport
    /// One named set of the table with its elements; nil when the table or the set is missing.
    func readSet(family: String, table: String, name: String) throws(NetlinkError) -> SetSnapshot?
    /// A number that identifies the network namespace for as long as the machine runs (nil when
    /// unknown): a remembered state is only trusted in the namespace it was recorded in.
    func namespaceIdentity() throws(NetlinkError) -> UInt64?
}

extension RulesetTransport {
    /// Reads the whole table and picks the set.
    public func readSet(family: String, table: String, name: String) throws(NetlinkError) -> SetSnapshot? {
        try read(family: family, table: table)?.kernel.sets.first { $0.name == name }.map(SetSnapshot.init)
    }

    public func namespaceIdentity() throws(NetlinkError) -> UInt64? { nil }

    /// Reads the whole table back; transports that can ask for the table alone do so.
    public func tableExists(family: String, table: String) throws(NetlinkError) -> (exists: Bool, generation: UInt32?) {
        let snapshot = try read(family: family, table: table)
        return (snapshot != nil, snapshot?.generation)
    }
}

/// One named set read back, at the kernel's level of detail.
public struct SetSnapshot: Sendable {
    let kernel: KernelSet
}

/// A table read back: decoded into the IR (for printing and element-level changes) and at the
/// kernel's level of detail (for exact comparisons).
public struct TableSnapshot: Sendable {
    let kernel: KernelTable
    let family: String
    let name: String
    let stored: Ruleset?
    /// The ruleset generation the table was read at (nil: unknown), for the batch's guard.
    let generation: UInt32?

    init(kernel: KernelTable, family: String, name: String, ruleset: Ruleset? = nil, generation: UInt32? = nil) {
        self.kernel = kernel
        self.family = family
        self.name = name
        self.stored = ruleset
        self.generation = generation
    }

    /// The table in the IR; decoded on each access when it was read from the kernel.
    public var ruleset: Ruleset { stored ?? KernelRaiser.ruleset(kernel, family: family, name: name) }

    /// What the table holds that `ruleset` cannot show, one readable line each: table flags,
    /// objects of kinds kubenft never creates, chain and set attributes it never sends.
    public var unrepresented: [String] {
        var lines: [String] = []
        if kernel.flags != 0 {
            lines.append("table flags " + KernelTable.flagNames(kernel.flags).joined(separator: ", ")
                         + (kernel.owner.map { " (owned by netlink port \($0))" } ?? ""))
        }
        lines += kernel.foreignObjects.map { "\($0.kind) \($0.name)" }
        lines += kernel.sets.compactMap { set in set.extra.map { "set \(set.name): \($0)" } }
        lines += kernel.chains.compactMap { chain in chain.extra.map { "chain \(chain.name): \($0)" } }
        return lines
    }
}

/// The real transport: libnftnl objects, batched and sent through the C shim over one netlink
/// socket, in the caller's network namespace or the one at `namespacePath`.
public final class NetlinkTransport: RulesetTransport {
    let socket: NetlinkSocket
    private var sequence: UInt32
    private let namespacePath: String?
    var ownerNamespacePath: String? { namespacePath }
    /// Change events for the table last read, opened on the first read.
    private var watch: TableWatch?

    /// Opens the socket; `namespace` is a name under /var/run/netns or an absolute path.
    public init(namespace: String? = nil) throws(NetlinkError) {
        let path = try NamespacePath.resolve(namespace)
        socket = try NetlinkSocket(namespacePath: path)
        namespacePath = path
        sequence = UInt32(truncatingIfNeeded: time(nil)) &* 16
    }

    /// The path a `--netns` argument names (nil: the caller's namespace), or why it names none:
    /// the check `init` makes, for callers that enter the namespace with other tools.
    public static func namespacePath(_ namespace: String?) throws(NetlinkError) -> String? {
        try NamespacePath.resolve(namespace)
    }

    public func generation() throws(NetlinkError) -> UInt32 { try socket.generation() }

    public func read(family: String, table: String) throws(NetlinkError) -> TableSnapshot? {
        let watch = try self.watch(family: family, table: table)
        let (kernel, generation) = try KernelReader(socket: socket).readKernel(family: family, table: table, watch: watch)
        guard let kernel else { return nil }
        return TableSnapshot(kernel: kernel, family: family, name: table, generation: generation)
    }

    /// One dump of the namespace's tables (no chain, set or rule of any of them), checked like a
    /// readback against commits to this table, so a batch guarded by its generation is safe.
    public func tableExists(family: String, table: String) throws(NetlinkError) -> (exists: Bool, generation: UInt32?) {
        let watch = try self.watch(family: family, table: table)
        let (exists, generation) = try KernelReader(socket: socket).tableExists(family: family, table: table, watch: watch)
        return (exists, generation)
    }

    private func watch(family: String, table: String) throws(NetlinkError) -> TableWatch? {
        guard let number = BatchEncoder.familyNumber(family) else { return nil }
        if let watch, watch.family == UInt16(number), watch.table == table { return watch }
        watch = try TableWatch(namespacePath: namespacePath, family: UInt16(number), table: table)
        return watch
    }

    /// The generation to guard a batch with: when the batch was planned from the last read and no
    /// commit changed the table since, the current one (commits to other tables do not matter);
    /// otherwise the batch's own.
    private func guardGeneration(for batch: RulesetBatch) throws(NetlinkError) -> UInt32? {
        guard let planned = batch.generation, let watch, watch.confirmed == planned, watch.table == batch.table,
              BatchEncoder.familyNumber(batch.family).map(UInt16.init) == watch.family else { return batch.generation }
        guard let current = try watch.unchangedGeneration(requests: socket) else {
            throw NetlinkError(.concurrentChange, code: ERESTART,
                               "another process changed table \(batch.family) \(batch.table) while the update was prepared; nothing was applied; run it again")
        }
        return current
    }

    public func readSet(family: String, table: String, name: String) throws(NetlinkError) -> SetSnapshot? {
        let watch = try self.watch(family: family, table: table)
        return try KernelReader(socket: socket).readSet(family: family, table: table, name: name, watch: watch).map(SetSnapshot.init)
    }

    /// The namespace cookie (SO_NETNS_COOKIE), unique per namespace and never reused until reboot;
    /// nil on kernels without it (before 5.14), where remembered states are then never trusted.
    public func namespaceIdentity() throws(NetlinkError) -> UInt64? {
        var cookie: UInt64 = 0
        return kubenft_nl_netns_cookie(socket.pointer, &cookie) == 0 ? cookie : nil
    }

    public func send(_ batch: RulesetBatch) throws(NetlinkError) -> BatchReport {
        var encoder = try BatchEncoder(batch: batch)
        let first = sequence
        let encoded = try encoder.encode(batch, firstSequence: first)
        sequence = sequence &+ UInt32(truncatingIfNeeded: encoded.messageCount) &+ 1
        if let planned = batch.generation, let current = try guardGeneration(for: batch), current != planned {
            try encoded.check(kubenft_nl_batch_set_genid(encoded.pointer, current), "generation guard")
        }
        // The guard is settled: close the event socket before sending. While anyone in the
        // namespace listens to NFNLGRP_NFTABLES, the kernel builds one event per element and rule
        // at commit (most of a full load's kernel time); the next read opens a new watch.
        watch = nil
        let (refusals, _) = try socket.send(encoded)
        if let refusal = refusals.first {
            let error = Self.error(for: refusal, in: encoded, beginSequence: first, total: refusals.count, commit: batch.commit)
            if error.kind == .permission, let owned = ownerError(family: batch.family, table: batch.table, refusal: error) { throw owned }
            throw error
        }
        return BatchReport(messages: encoded.messageCount, bytes: encoded.byteCount, committed: batch.commit)
    }

    static func error(for refusal: KernelRefusal, in batch: NetlinkBatch, beginSequence: UInt32, total: Int, commit: Bool) -> NetlinkError {
        let text = NetlinkError.errnoText(refusal.code) + (refusal.message.isEmpty ? "" : " (\(refusal.message))")
        let outcome = commit ? "nothing was applied" : "dry run"
        if refusal.sequence == beginSequence {
            switch refusal.code {
            case ERESTART:
                return NetlinkError(.concurrentChange, code: refusal.code,
                                    "the ruleset changed while the update was prepared (generation id moved); \(outcome); run it again")
            case EPERM, EACCES:
                return NetlinkError(.permission, code: refusal.code, "changing nftables needs CAP_NET_ADMIN (run as root): \(text)")
            default:
                return NetlinkError(.refused, code: refusal.code, "the kernel refused the batch: \(text); \(outcome)")
            }
        }
        let object = batch.describe(refusal.sequence) ?? "message \(refusal.sequence &- beginSequence)"
        if refusal.code == EPERM || refusal.code == EACCES {
            return NetlinkError(.permission, code: refusal.code, "changing nftables needs CAP_NET_ADMIN (run as root): \(text)")
        }
        if refusal.code == ENOENT || refusal.code == EOPNOTSUPP {
            let missing = KernelModules.missing(batch.modules[refusal.sequence] ?? [])
            if !missing.isEmpty {
                return NetlinkError(.missingModule, code: refusal.code,
                                    "the kernel lacks module\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) needed by \(object): \(text); \(outcome)")
            }
        }
        if refusal.code == ENOBUFS {
            return NetlinkError(.noBufferSpace, code: refusal.code, "the kernel ran out of buffer space at \(object): \(text); \(outcome)")
        }
        let others = total > 1 ? " (and \(total - 1) more refusal\(total == 2 ? "" : "s"))" : ""
        return NetlinkError(.refused, code: refusal.code, "the kernel refused \(object): \(text)\(others); \(outcome)")
    }
}
