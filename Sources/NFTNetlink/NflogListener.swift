#if canImport(Glibc)
import Glibc
#endif
import CNftnlShim
import NetAddress

/// One packet a `log … group N` statement sent to an nflog group: the rule's prefix (kubenft's
/// names the counter, hence the policy) and the addresses and ports read from the packet.
public struct LoggedPacket: Sendable, Hashable, CustomStringConvertible {
    public var group: UInt16
    public var prefix: String
    public var source: IPAddress?
    public var destination: IPAddress?
    /// `tcp`, `udp`, `sctp`, `icmp`, `ipv6-icmp` or the protocol number.
    public var transport: String?
    public var sourcePort: UInt16?
    public var destinationPort: UInt16?

    /// `kubenft np-drop-in-y/allow-from-x-in-y 10.244.1.31:40000 -> 10.244.1.21:80 udp`.
    public var description: String {
        func end(_ address: IPAddress?, _ port: UInt16?) -> String {
            guard let address else { return "?" }
            let host = address.family == .v6 ? "[\(address)]" : "\(address)"
            return port.map { "\(host):\($0)" } ?? host
        }
        let head = prefix.hasSuffix(" ") ? String(prefix.dropLast()) : prefix
        return "\(head) \(end(source, sourcePort)) -> \(end(destination, destinationPort))" + (transport.map { " \($0)" } ?? "")
    }

    /// Reads the network and transport headers at the start of `bytes`.
    init(group: UInt16, prefix: String, packet bytes: [UInt8]) {
        self.group = group
        self.prefix = prefix
        guard let first = bytes.first else { return }
        var protocolNumber: UInt8
        var transportOffset: Int
        switch first >> 4 {
        case 4 where bytes.count >= 20:
            source = IPAddress(bytes: Array(bytes[12..<16]))
            destination = IPAddress(bytes: Array(bytes[16..<20]))
            protocolNumber = bytes[9]
            transportOffset = Int(first & 0x0f) * 4
        case 6 where bytes.count >= 40:
            source = IPAddress(bytes: Array(bytes[8..<24]))
            destination = IPAddress(bytes: Array(bytes[24..<40]))
            protocolNumber = bytes[6]
            transportOffset = 40
        default:
            return
        }
        let names: [UInt8: String] = [1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp", 132: "sctp"]
        transport = names[protocolNumber] ?? String(protocolNumber)
        guard [6, 17, 132].contains(protocolNumber), bytes.count >= transportOffset + 4 else { return }
        sourcePort = UInt16(bytes[transportOffset]) << 8 | UInt16(bytes[transportOffset + 1])
        destinationPort = UInt16(bytes[transportOffset + 2]) << 8 | UInt16(bytes[transportOffset + 3])
    }
}

/// Listens on an nflog group (nfnetlink_log) in a network namespace: what `kubenft stats --follow`
/// prints, so drop logging needs no other program. One listener per group at a time.
public final class NflogListener {
    private let socket: NetlinkSocket
    public let group: UInt16

    /// Binds `group` in the namespace (a name under /var/run/netns or a path; nil: this one).
    public init(namespace: String? = nil, group: UInt16) throws(NetlinkError) {
        let path = try NamespacePath.resolve(namespace)
        socket = try NetlinkSocket(namespacePath: path)
        self.group = group
        let rc = kubenft_nflog_bind(socket.pointer, group, 128)
        guard rc == 0 else {
            let hint = rc == EBUSY ? " (another program, such as ulogd, listens on it)" : ""
            throw NetlinkError.system(rc, "binding nflog group \(group)\(hint)")
        }
    }

    /// The packets logged since the last call, waiting up to `timeoutMs` (-1: until one arrives)
    /// for the first; empty on timeout. Packets the kernel could not queue are reported as an error
    /// (ENOBUFS) so a reader never silently misses some.
    public func next(timeoutMs: Int32) throws(NetlinkError) -> [LoggedPacket] {
        var entries = [kubenft_nflog_entry](repeating: kubenft_nflog_entry(), count: 64)
        var count: UInt32 = 0
        let rc = kubenft_nflog_read(socket.pointer, timeoutMs, &entries, UInt32(entries.count), &count)
        guard rc == 0 else { throw NetlinkError.system(rc, "reading nflog group \(group)") }
        return entries.prefix(Int(count)).map { entry in
            var entry = entry
            let prefix = withUnsafeBytes(of: &entry.prefix) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let payload = withUnsafeBytes(of: &entry.payload) { Array($0.prefix(Int(min(entry.payload_length, 128)))) }
            return LoggedPacket(group: entry.group, prefix: prefix, packet: payload)
        }
    }
}
