#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How one probe attempt ended.
enum Outcome {
    case reply(String)
    case refused
    case timeout
    case unreachable
    case other(String)
}

/// The tally printed as one JSON line.
struct Tally {
    var replies: [String: Int] = [:]
    var refused = 0
    var timeout = 0
    var unreachable = 0
    var other = 0
    var errors: [String: Int] = [:]

    mutating func add(_ outcome: Outcome) {
        switch outcome {
        case .reply(let name): replies[name, default: 0] += 1
        case .refused: refused += 1
        case .timeout: timeout += 1
        case .unreachable: unreachable += 1
        case .other(let text):
            other += 1
            errors[text, default: 0] += 1
        }
    }

    func json(elapsedMs: Int64) -> String {
        "{\"replies\":\(jsonObject(replies)),\"refused\":\(refused),\"timeout\":\(timeout)"
            + ",\"unreachable\":\(unreachable),\"other\":\(other),\"elapsedMs\":\(elapsedMs)"
            + ",\"errors\":\(jsonObject(errors))}"
    }
}

func jsonObject(_ dict: [String: Int]) -> String {
    "{" + dict.keys.sorted().map { "\(jsonString($0)):\(dict[$0] ?? 0)" }.joined(separator: ",") + "}"
}

func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// Maps a socket error to an outcome.
func classify(_ code: Int32) -> Outcome {
    switch code {
    case ECONNREFUSED: return .refused
    case EHOSTUNREACH, ENETUNREACH, EACCES: return .unreachable
    case ETIMEDOUT: return .timeout
    default: return .other(errnoText(code))
    }
}

/// The `probe` subcommand: K independent attempts, one JSON line of results.
enum Prober {
    static let known: Set<String> = ["to", "port", "proto", "count", "timeout-ms", "source", "source-port"]

    static func run(_ options: Options) throws -> Int32 {
        let unknown = options.unknownKeys(known)
        guard unknown.isEmpty else { throw UsageError("unknown option --\(unknown[0])") }
        guard let host = options.string("to") else { throw UsageError("--to is required") }
        guard let port = try options.int("port"), (1...65535).contains(port) else {
            throw UsageError("--port 1-65535 is required")
        }
        guard let proto = LabProto(rawValue: options.string("proto") ?? "tcp") else {
            throw UsageError("--proto must be tcp, udp or sctp")
        }
        guard let target = SocketAddress(host: host, port: UInt16(port)) else {
            throw UsageError("--to expects a numeric IP address, got '\(host)'")
        }
        var source: SocketAddress?
        // A fixed source port makes every attempt the same flow (one conntrack entry).
        let sourcePort = try options.int("source-port") ?? 0
        guard (0...65535).contains(sourcePort) else { throw UsageError("--source-port expects 0-65535") }
        if let text = options.string("source") ?? (sourcePort != 0 ? (target.family == AF_INET6 ? "::" : "0.0.0.0") : nil) {
            guard let parsed = SocketAddress(host: text, port: UInt16(sourcePort)) else {
                throw UsageError("--source expects a numeric IP address, got '\(text)'")
            }
            source = parsed
        }
        let count = max(0, try options.int("count") ?? 1)
        let timeoutMs = max(1, try options.int("timeout-ms") ?? 1000)
        let started = monotonicMs()
        var tally = Tally()
        for _ in 0..<count {
            tally.add(attempt(proto: proto, target: target, source: source, timeoutMs: timeoutMs))
        }
        printFlush(tally.json(elapsedMs: monotonicMs() - started) + "\n")
        return 0
    }

    /// One attempt on a fresh socket.
    static func attempt(proto: LabProto, target: SocketAddress, source: SocketAddress?, timeoutMs: Int) -> Outcome {
        let deadline = monotonicMs() + Int64(timeoutMs)
        let fd = socket(target.family, proto.socketType | Int32(SOCK_CLOEXEC.rawValue), proto.ipProtocol)
        if fd < 0 { return .other("socket: " + errnoText(errno)) }
        defer { close(fd) }
        setNonBlocking(fd)
        if let source, source.withSockaddr({ bind(fd, $0, $1) }) != 0 {
            return .other("bind source: " + errnoText(errno))
        }
        if proto == .udp {
            return datagramExchange(fd: fd, target: target, deadline: deadline)
        }
        return streamExchange(fd: fd, target: target, deadline: deadline)
    }

    /// Waits for `events` on `fd` until `deadline`; returns revents, or 0 on timeout.
    static func wait(fd: Int32, events: Int32, deadline: Int64) -> Int32 {
        var pfd = pollfd(fd: fd, events: Int16(events), revents: 0)
        while true {
            let remaining = deadline - monotonicMs()
            if remaining <= 0 { return 0 }
            let rc = poll(&pfd, 1, Int32(min(remaining, Int64(Int32.max))))
            if rc > 0 { return Int32(pfd.revents) }
            if rc == 0 { return 0 }
            if errno != EINTR { return Int32(POLLERR) }
        }
    }

    static func pendingError(_ fd: Int32) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        return code
    }

    /// TCP/SCTP: connect, then read the server's one-line reply.
    ///
    /// The error queue is enabled because an ICMP error that arrives while
    /// `connect()` still holds the socket (veth delivers synchronously) only
    /// lands there: the kernel does not abort the handshake in that case.
    static func streamExchange(fd: Int32, target: SocketAddress, deadline: Int64) -> Outcome {
        enableErrorQueue(fd, v6: target.family == AF_INET6)
        if target.withSockaddr({ connect(fd, $0, $1) }) != 0 {
            let code = errno
            guard code == EINPROGRESS || code == EINTR else { return classify(code) }
            while true {
                let revents = wait(fd: fd, events: Int32(POLLOUT), deadline: deadline)
                let err = pendingError(fd)
                if err != 0 { return classify(err) }
                if revents & Int32(POLLERR) != 0, let queued = queuedError(fd) { return classify(queued) }
                if revents == 0 { return .timeout }
                if revents & Int32(POLLOUT) != 0 { break }
            }
        }
        return readReply(fd: fd, deadline: deadline, stream: true)
    }

    static func enableErrorQueue(_ fd: Int32, v6: Bool) {
        if v6 {
            setIntOption(fd, Int32(IPPROTO_IPV6), 25 /* IPV6_RECVERR */, 1)
        } else {
            setIntOption(fd, Int32(IPPROTO_IP), 11 /* IP_RECVERR */, 1)
        }
    }

    /// The errno of the first ICMP error in the socket's error queue, if any.
    static func queuedError(_ fd: Int32) -> Int32? {
        var control = [UInt8](repeating: 0, count: 512)
        var data = [UInt8](repeating: 0, count: 64)
        return data.withUnsafeMutableBytes { dataBytes -> Int32? in
            control.withUnsafeMutableBytes { controlBytes -> Int32? in
                var iov = iovec(iov_base: dataBytes.baseAddress, iov_len: dataBytes.count)
                return withUnsafeMutablePointer(to: &iov) { iovPtr -> Int32? in
                    var msg = msghdr()
                    msg.msg_iov = iovPtr
                    msg.msg_iovlen = 1
                    msg.msg_control = controlBytes.baseAddress
                    msg.msg_controllen = controlBytes.count
                    guard recvmsg(fd, &msg, Int32(MSG_ERRQUEUE)) >= 0 else { return nil }
                    return firstExtendedErrno(UnsafeRawBufferPointer(start: controlBytes.baseAddress, count: Int(msg.msg_controllen)))
                }
            }
        }
    }

    /// Walks cmsghdr records for IP_RECVERR / IPV6_RECVERR and returns `ee_errno`.
    static func firstExtendedErrno(_ control: UnsafeRawBufferPointer) -> Int32? {
        let headerSize = MemoryLayout<cmsghdr>.size
        var offset = 0
        while offset + headerSize <= control.count {
            let length = Int(control.loadUnaligned(fromByteOffset: offset, as: Int.self))
            let level = control.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self)
            let type = control.loadUnaligned(fromByteOffset: offset + 12, as: Int32.self)
            guard length >= headerSize, offset + length <= control.count else { return nil }
            let isRecvErr = (level == Int32(IPPROTO_IP) && type == 11) || (level == Int32(IPPROTO_IPV6) && type == 25)
            if isRecvErr && length >= headerSize + 4 {
                return Int32(bitPattern: control.loadUnaligned(fromByteOffset: offset + headerSize, as: UInt32.self))
            }
            offset += (length + 7) & ~7
        }
        return nil
    }

    /// UDP: send one datagram on a connected socket and wait for the answer.
    static func datagramExchange(fd: Int32, target: SocketAddress, deadline: Int64) -> Outcome {
        if target.withSockaddr({ connect(fd, $0, $1) }) != 0 { return classify(errno) }
        let payload = Array("probe\n".utf8)
        let sent = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 { return classify(errno) }
        return readReply(fd: fd, deadline: deadline, stream: false)
    }

    /// Reads until a newline (stream) or one datagram arrives.
    static func readReply(fd: Int32, deadline: Int64, stream: Bool) -> Outcome {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            if wait(fd: fd, events: Int32(POLLIN), deadline: deadline) == 0 {
                return received.isEmpty ? .timeout : .reply(lineOf(received))
            }
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                let code = errno
                if code == EAGAIN || code == EINTR { continue }
                if !received.isEmpty { return .reply(lineOf(received)) }
                return stream && code == ECONNRESET ? .other("reset after connect") : classify(code)
            }
            if count == 0 {
                return received.isEmpty ? .other("closed without reply") : .reply(lineOf(received))
            }
            received.append(contentsOf: buffer[0..<count])
            if !stream || received.contains(UInt8(ascii: "\n")) { return .reply(lineOf(received)) }
        }
    }

    static func lineOf(_ bytes: [UInt8]) -> String {
        let line = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).first ?? []
        return String(decoding: line, as: UTF8.self).trimmingCharacters()
    }
}

extension String {
    /// Drops trailing carriage returns and spaces.
    func trimmingCharacters() -> String {
        var text = self
        while let last = text.last, last == "\r" || last == " " { text.removeLast() }
        return text
    }
}
