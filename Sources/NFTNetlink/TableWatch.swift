#if canImport(Glibc)
import Glibc
#endif
import CNftnlShim

/// Tells whether anyone committed a change to one table while kubenft read it or prepared a batch
/// for it. The ruleset generation id moves on every commit in any table, so comparing it before and
/// after a readback fails whenever another process is busy with its own tables (a large readback
/// then never completes); the change events of the kernel (NFNLGRP_NFTABLES, one per changed object,
/// each naming its table, then NEWGEN with the commit's generation) say which table each commit
/// changed. A separate subscribed socket receives them.
final class TableWatch {
    let family: UInt16
    let table: String
    private let events: NetlinkSocket
    private var state = kubenft_nl_watch()
    /// The generation the watch started at: commits after it are looked at.
    private(set) var start: UInt32 = 0
    /// The generation the last consistent read was taken at, when nothing happened since.
    var confirmed: UInt32?

    /// How long to wait for the change events of a commit that already happened.
    static let eventTimeoutMilliseconds: Int32 = 2_000

    init(namespacePath: String?, family: UInt16, table: String) throws(NetlinkError) {
        self.family = family
        self.table = table
        events = try NetlinkSocket(namespacePath: namespacePath)
        let rc = kubenft_nl_subscribe(events.pointer)
        guard rc == 0 else { throw NetlinkError.system(rc, "subscribing to nftables change events") }
        _ = kubenft_nl_set_buffers(events.pointer, 0, 8 << 20)
    }

    /// Drops the events queued so far and starts watching at the current generation, read through
    /// `requests` after the subscription, so every later commit is seen.
    func begin(requests: NetlinkSocket) throws(NetlinkError) -> UInt32 {
        confirmed = nil
        _ = scan(wait: false, until: 0)
        state = kubenft_nl_watch()
        start = try requests.generation()
        return start
    }

    /// The current generation when no commit since `start` changed the table; nil when one did, or
    /// when that cannot be known (events lost or late).
    func unchangedGeneration(requests: NetlinkSocket) throws(NetlinkError) -> UInt32? {
        let now = try requests.generation()
        let rc = scan(wait: now != start, until: now)
        guard rc == 0 else {
            if rc == ENOBUFS || rc == ETIMEDOUT { return nil }
            throw NetlinkError.system(rc, "reading nftables change events")
        }
        if state.pending { return nil }
        if state.touched && Int32(bitPattern: state.last_touch &- start) > 0 { return nil }
        return now
    }

    private func scan(wait: Bool, until: UInt32) -> Int32 {
        table.withCString { name in
            kubenft_nl_monitor_scan(events.pointer, family, name, wait, until, Self.eventTimeoutMilliseconds, &state)
        }
    }
}
