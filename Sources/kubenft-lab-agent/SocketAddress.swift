#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Transport protocols the agent speaks.
enum LabProto: String {
    case tcp, udp, sctp

    /// The socket type for this protocol.
    var socketType: Int32 {
        switch self {
        case .udp: return Int32(SOCK_DGRAM.rawValue)
        case .tcp, .sctp: return Int32(SOCK_STREAM.rawValue)
        }
    }

    /// The IP protocol number for this protocol.
    var ipProtocol: Int32 {
        switch self {
        case .tcp: return Int32(IPPROTO_TCP)
        case .udp: return Int32(IPPROTO_UDP)
        case .sctp: return 132
        }
    }
}

/// An IPv4 or IPv6 socket address stored in a `sockaddr_storage`.
struct SocketAddress {
    var storage = sockaddr_storage()
    var length: socklen_t = 0
    var family: Int32 { Int32(storage.ss_family) }

    /// Parses a numeric IPv4 or IPv6 address (brackets and a `%scope` suffix are not supported).
    init?(host: String, port: UInt16) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = v4
            self.length = socklen_t(MemoryLayout<sockaddr_in>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.storeBytes(of: sin, as: sockaddr_in.self)
            }
        } else if inet_pton(AF_INET6, host, &v6) == 1 {
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_addr = v6
            self.length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.storeBytes(of: sin6, as: sockaddr_in6.self)
            }
        } else {
            return nil
        }
    }

    /// The IPv4 or IPv6 wildcard address.
    static func wildcard(v6: Bool, port: UInt16) -> SocketAddress? {
        SocketAddress(host: v6 ? "::" : "0.0.0.0", port: port)
    }

    /// Runs `body` with a `sockaddr` pointer to this address.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

/// The text of `errno` for diagnostics.
func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

/// Writes a line to standard error.
func warn(_ message: String) {
    writeAll(2, "kubenft-lab-agent: " + message + "\n")
}

/// Sets `O_NONBLOCK` on a file descriptor.
func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL, 0)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
}

/// Sets an integer socket option, ignoring failures.
func setIntOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
    var v = value
    _ = setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size))
}

/// Milliseconds on the monotonic clock.
func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Writes a whole string to standard output and flushes it.
func printFlush(_ text: String) {
    writeAll(1, text)
}

/// Writes all of `text` to a file descriptor, retrying short writes.
func writeAll(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        offset += n
    }
}
