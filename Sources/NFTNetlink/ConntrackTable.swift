#if canImport(Glibc)
import Glibc
#endif
import CNftnlShim
import NetAddress
import NFTRuleset

/// What a conntrack cleanup found and did.
public struct ConntrackCleanupReport: Sendable {
    /// Entries of the cleaned protocols that were looked at.
    public var examined = 0
    /// The stale entries, each with the reason.
    public var stale: [(flow: ConntrackFlow, reason: String)] = []
    /// Entries the kernel deleted (0 in a dry run).
    public var removed = 0
    /// Stale entries that were already gone when deleted (expired or removed meanwhile).
    public var vanished = 0
}

/// The connection tracking table of the transport's network namespace, read and changed over
/// ctnetlink on the same socket as the ruleset, so `--netns` scopes it like the table.
public struct ConntrackTable {
    let socket: NetlinkSocket

    public init(transport: NetlinkTransport) {
        socket = transport.socket
    }

    /// Every entry of `family` with IP protocol `proto`.
    public func flows(family: IPFamily, proto: UInt8) throws(NetlinkError) -> [ConntrackFlow] {
        var items: UnsafeMutablePointer<kubenft_ct_flow>?
        var count: UInt32 = 0
        var rc: Int32 = EINTR
        for _ in 0..<KernelReader.attempts where rc == EINTR {
            free(items)
            items = nil
            rc = kubenft_ct_dump(socket.pointer, UInt8(family == .v4 ? AF_INET : AF_INET6), proto, &items, &count)
        }
        defer { free(items) }
        guard rc == 0 else { throw Self.error(rc, "reading the connection tracking table") }
        return (0..<Int(count)).compactMap { index in items.flatMap { Self.flow($0[index]) } }
    }

    /// Deletes one entry; false when it was already gone.
    public func delete(_ flow: ConntrackFlow) throws(NetlinkError) -> Bool {
        var raw = kubenft_ct_flow()
        raw.family = UInt8(flow.originalSource.family == .v4 ? AF_INET : AF_INET6)
        raw.l4proto = flow.proto
        raw.zone = flow.zone
        raw.id = flow.id
        withUnsafeMutableBytes(of: &raw.orig_src) { copy(flow.originalSource.bytes, into: $0) }
        withUnsafeMutableBytes(of: &raw.orig_dst) { copy(flow.originalDestination.bytes, into: $0) }
        raw.orig_sport = flow.originalSourcePort
        raw.orig_dport = flow.originalDestinationPort
        let rc = kubenft_ct_delete(socket.pointer, &raw)
        if rc == ENOENT { return false }
        guard rc == 0 else { throw Self.error(rc, "deleting conntrack entry \(flow)") }
        return true
    }

    /// Finds the entries `filter` calls stale in both families and, unless `dryRun`, deletes them.
    public func clean(_ filter: StaleFlowFilter, dryRun: Bool) throws(NetlinkError) -> ConntrackCleanupReport {
        var report = ConntrackCleanupReport()
        guard !filter.isEmpty else { return report }
        for family in IPFamily.allCases {
            for proto in StaleFlowFilter.protocols.sorted() {
                let flows = try flows(family: family, proto: proto)
                report.examined += flows.count
                for flow in flows {
                    guard let reason = filter.reason(flow) else { continue }
                    report.stale.append((flow, reason))
                    if dryRun { continue }
                    if try delete(flow) { report.removed += 1 } else { report.vanished += 1 }
                }
            }
        }
        return report
    }

    private func copy(_ bytes: [UInt8], into buffer: UnsafeMutableRawBufferPointer) {
        for (index, byte) in bytes.prefix(buffer.count).enumerated() { buffer[index] = byte }
    }

    static func flow(_ raw: kubenft_ct_flow) -> ConntrackFlow? {
        var copy = raw
        let length = Int32(raw.family) == AF_INET ? 4 : 16
        func address(_ pointer: UnsafeRawBufferPointer) -> IPAddress? { IPAddress(bytes: Array(pointer.prefix(length))) }
        guard let source = withUnsafeBytes(of: &copy.orig_src, address),
              let destination = withUnsafeBytes(of: &copy.orig_dst, address),
              let reply = withUnsafeBytes(of: &copy.reply_src, address) else { return nil }
        return ConntrackFlow(proto: raw.l4proto, originalSource: source, originalSourcePort: raw.orig_sport,
                             originalDestination: destination, originalDestinationPort: raw.orig_dport,
                             replySource: reply, replySourcePort: raw.reply_sport, zone: raw.zone, id: raw.id)
    }

    static func error(_ code: Int32, _ what: String) -> NetlinkError {
        switch code {
        case EPERM, EACCES:
            return NetlinkError(.permission, code: code, "\(what) needs CAP_NET_ADMIN (run as root)")
        case EOPNOTSUPP, EPROTONOSUPPORT:
            return NetlinkError(.missingModule, code: code, "\(what): the kernel has no ctnetlink (module nf_conntrack_netlink)")
        default:
            return NetlinkError.system(code, what)
        }
    }
}

extension RulesetApplier {
    /// The named sets of the table that exist, with their elements, each read on its own (no
    /// readback of the whole table); missing sets and a missing table give nothing.
    public func sets(family: String, table: String, named names: [String]) throws(NetlinkError) -> [NamedSet] {
        var found: [NamedSet] = []
        guard try transport.tableExists(family: family, table: table).exists else { return found }
        for name in names {
            if let snapshot = try transport.readSet(family: family, table: table, name: name) {
                found.append(KernelRaiser.namedSet(snapshot.kernel))
            }
        }
        return found
    }
}
