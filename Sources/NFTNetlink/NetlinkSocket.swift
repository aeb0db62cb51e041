#if canImport(Glibc)
import Glibc
#endif
import CNftnl
import CNftnlShim

/// A netfilter netlink socket, optionally opened inside a named network namespace.
final class NetlinkSocket {
    let pointer: OpaquePointer

    /// Opens a socket in the namespace at `namespacePath` (nil: the caller's namespace).
    init(namespacePath: String?) throws(NetlinkError) {
        var error: Int32 = 0
        let opened: OpaquePointer?
        if let namespacePath {
            opened = namespacePath.withCString { kubenft_nl_open($0, &error) }
        } else {
            opened = kubenft_nl_open(nil, &error)
        }
        guard let opened else { throw Self.openError(error, namespacePath) }
        pointer = opened
    }

    deinit { kubenft_nl_close(pointer) }

    static func openError(_ code: Int32, _ path: String?) -> NetlinkError {
        switch code {
        case ENOENT where path != nil:
            return NetlinkError(.missingNamespace, code: code, "network namespace \(path ?? "") does not exist")
        case EINVAL where path != nil:
            return NamespacePath.notANamespace(path ?? "")
        case EPERM, EACCES:
            let what = path.map { "entering network namespace \($0) needs CAP_SYS_ADMIN (run as root)" }
                ?? "opening a netfilter netlink socket was refused"
            return NetlinkError(.permission, code: code, what)
        case EPROTONOSUPPORT:
            return NetlinkError(.missingModule, code: code, "the kernel has no nfnetlink support (module nfnetlink / nf_tables not available)")
        default:
            return NetlinkError.system(code, "opening a netfilter netlink socket" + (path.map { " in \($0)" } ?? ""))
        }
    }

    func generation() throws(NetlinkError) -> UInt32 {
        var genid: UInt32 = 0
        let rc = kubenft_nl_get_genid(pointer, &genid)
        guard rc == 0 else { throw NetlinkError.system(rc, "reading the ruleset generation") }
        return genid
    }

    /// Sends a batch; returns the negative acknowledgements (empty when everything was accepted).
    func send(_ batch: NetlinkBatch) throws(NetlinkError) -> (errors: [KernelRefusal], acknowledged: Int) {
        let bytes = batch.byteCount
        let receive = min(max(4 << 20, batch.messageCount * 1024), 512 << 20)
        let sizing = kubenft_nl_set_buffers(pointer, UInt32(clamping: bytes + (1 << 16)), UInt32(clamping: receive))
        guard sizing == 0 else { throw NetlinkError.system(sizing, "sizing the netlink socket buffers") }
        var outcome = kubenft_nl_outcome()
        var slots = [kubenft_nl_error](repeating: kubenft_nl_error(), count: 64)
        let rc = slots.withUnsafeMutableBufferPointer { buffer in
            kubenft_nl_batch_send(pointer, batch.pointer, buffer.baseAddress, UInt32(buffer.count), &outcome)
        }
        guard rc == 0 else {
            if rc == EMSGSIZE || rc == ENOBUFS {
                throw NetlinkError(.noBufferSpace, code: rc, "sending a batch of \(bytes) bytes: \(NetlinkError.errnoText(rc)) (socket buffer too small)")
            }
            throw NetlinkError.system(rc, "sending the batch")
        }
        if outcome.lost_replies {
            throw NetlinkError(.noBufferSpace, code: ENOBUFS,
                               "kernel replies were lost (No buffer space available); re-read the table to see whether the batch applied")
        }
        let stored = Int(min(outcome.error_count, UInt32(slots.count)))
        let refusals = slots.prefix(stored).map { slot in
            var copy = slot
            let message = withUnsafeBytes(of: &copy.message) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return KernelRefusal(sequence: slot.seq, code: slot.error, attributeOffset: slot.attribute_offset, message: message)
        }
        try Self.checkAcknowledgements(messages: batch.messageCount, acknowledged: Int(outcome.acknowledged),
                                       refusals: Int(outcome.error_count))
        return (refusals, Int(outcome.acknowledged))
    }

    /// Every message of a batch asks for an acknowledgement (batch begin and end included, and a
    /// batch without an end, a dry run, is answered the same way). When nothing was refused, each
    /// must have been answered exactly once; a missing or extra answer means replies were lost or
    /// mixed up, and nothing tells whether the batch applied.
    static func checkAcknowledgements(messages: Int, acknowledged: Int, refusals: Int) throws(NetlinkError) {
        guard refusals == 0, acknowledged != messages else { return }
        throw NetlinkError(.system, code: EPROTO,
                           "the kernel acknowledged \(acknowledged) of \(messages) messages of the batch; "
                           + "whether it applied is unknown; re-read the table (kubenft verify) to see")
    }
}

/// One message the kernel refused.
struct KernelRefusal: Sendable, Hashable {
    var sequence: UInt32
    var code: Int32
    var attributeOffset: UInt32
    var message: String
}
