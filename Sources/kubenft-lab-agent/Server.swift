#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One bound socket the server polls: a stream listener or a UDP socket.
struct Listener {
    let fd: Int32
    let proto: LabProto
}

/// The `serve` subcommand: answers every connection or datagram with `NAME\n`.
enum Server {
    static let known: Set<String> = ["name", "tcp", "udp", "sctp", "bind"]

    /// Binds every requested listener, prints `ready`, then serves until killed.
    static func run(_ options: Options) throws -> Int32 {
        let unknown = options.unknownKeys(known)
        guard unknown.isEmpty else { throw UsageError("unknown option --\(unknown[0])") }
        guard let name = options.string("name"), !name.isEmpty else { throw UsageError("--name is required") }
        let plan: [(LabProto, [UInt16])] = [
            (.tcp, try options.ports("tcp")), (.udp, try options.ports("udp")), (.sctp, try options.ports("sctp")),
        ]
        let hosts = options.list("bind").isEmpty ? ["0.0.0.0", "::"] : options.list("bind")
        var listeners: [Listener] = []
        for (proto, ports) in plan where !ports.isEmpty {
            let bound = try bindAll(proto: proto, ports: ports, hosts: hosts)
            listeners.append(contentsOf: bound)
        }
        guard !listeners.isEmpty else { throw UsageError("no listeners requested (give --tcp, --udp or --sctp)") }
        printFlush("ready\n")
        serveForever(listeners, reply: Array((name + "\n").utf8))
    }

    /// Binds `proto` on every port and host; SCTP is skipped with a warning when the kernel lacks it.
    static func bindAll(proto: LabProto, ports: [UInt16], hosts: [String]) throws -> [Listener] {
        var result: [Listener] = []
        for host in hosts {
            for port in ports {
                guard let address = SocketAddress(host: host, port: port) else {
                    throw UsageError("--bind expects a numeric IP address, got '\(host)'")
                }
                let fd = socket(address.family, proto.socketType, proto.ipProtocol)
                if fd < 0 {
                    let code = errno
                    if proto == .sctp && (code == EPROTONOSUPPORT || code == ESOCKTNOSUPPORT) {
                        warn("SCTP is not supported by this kernel (\(errnoText(code))); serving without it")
                        return result
                    }
                    throw BindError(what: "socket(\(proto.rawValue) \(host))", code: code)
                }
                try configureAndBind(fd: fd, proto: proto, address: address, host: host)
                result.append(Listener(fd: fd, proto: proto))
            }
        }
        return result
    }

    /// Applies socket options, binds and (for streams) listens.
    static func configureAndBind(fd: Int32, proto: LabProto, address: SocketAddress, host: String) throws {
        setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
        if address.family == AF_INET6 {
            setIntOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1)
        }
        setNonBlocking(fd)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        let rc = address.withSockaddr { bind(fd, $0, $1) }
        if rc != 0 {
            let code = errno
            close(fd)
            throw BindError(what: "bind(\(proto.rawValue) [\(host)]:\(portOf(address)))", code: code)
        }
        if proto != .udp && listen(fd, 128) != 0 {
            let code = errno
            close(fd)
            throw BindError(what: "listen(\(proto.rawValue) [\(host)])", code: code)
        }
    }

    static func portOf(_ address: SocketAddress) -> UInt16 {
        withUnsafeBytes(of: address.storage) { raw in
            UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
        }
    }

    /// The poll loop; never returns.
    static func serveForever(_ listeners: [Listener], reply: [UInt8]) -> Never {
        var fds = listeners.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        while true {
            let ready = poll(&fds, nfds_t(fds.count), -1)
            if ready < 0 {
                if errno == EINTR { continue }
                warn("poll failed: \(errnoText(errno))")
                usleep(10_000)
                continue
            }
            for index in fds.indices where fds[index].revents != 0 {
                fds[index].revents = 0
                if listeners[index].proto == .udp {
                    answerDatagrams(fd: listeners[index].fd, reply: reply)
                } else {
                    answerConnections(fd: listeners[index].fd, reply: reply)
                }
            }
        }
    }

    /// Accepts every pending connection, writes the reply and closes it.
    static func answerConnections(fd: Int32, reply: [UInt8]) {
        while true {
            let conn = accept(fd, nil, nil)
            if conn < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // EAGAIN or a transient error: back to poll
            }
            setNonBlocking(conn)
            _ = reply.withUnsafeBytes { send(conn, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            shutdown(conn, Int32(SHUT_WR))
            close(conn)
        }
    }

    /// Answers every queued datagram to its sender.
    static func answerDatagrams(fd: Int32, reply: [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    recvfrom(fd, &buffer, buffer.count, 0, sa, &peerLength)
                }
            }
            if count < 0 {
                if errno == EINTR { continue }
                return  // EAGAIN, or an ICMP error queued on the socket: nothing to answer
            }
            _ = withUnsafePointer(to: &peer) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    reply.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, peerLength) }
                }
            }
        }
    }
}

/// A failure to set up a listening socket.
struct BindError: Error, CustomStringConvertible {
    let what: String
    let code: Int32
    var description: String { "\(what) failed: \(errnoText(code))" }
}
