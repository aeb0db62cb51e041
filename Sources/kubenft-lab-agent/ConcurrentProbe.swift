#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One in-flight attempt of `probe-many`: a non-blocking socket moving from
/// connecting to reading to a final outcome.
struct PendingAttempt {
    enum Phase {
        case connecting
        case reading
        case finished(Outcome)
    }

    let target: ProbeTarget
    var fd: Int32 = -1
    var phase: Phase = .connecting
    var received: [UInt8] = []
    /// Milliseconds from the start of the run to the outcome.
    var elapsedMs: Int64 = 0

    init(target: ProbeTarget) { self.target = target }

    var isFinished: Bool {
        if case .finished = phase { return true }
        return false
    }

    /// The outcome; an unfinished attempt has timed out (or holds a partial reply).
    var outcome: Outcome {
        if case .finished(let outcome) = phase { return outcome }
        return received.isEmpty ? .timeout : .reply(Prober.lineOf(received))
    }

    /// The events to poll for in the current phase.
    var events: Int16 {
        switch phase {
        case .connecting: return Int16(POLLOUT)
        case .reading: return Int16(POLLIN)
        case .finished: return 0
        }
    }

    mutating func finish(_ outcome: Outcome, at elapsed: Int64) {
        phase = .finished(outcome)
        elapsedMs = elapsed
        if fd >= 0 {
            close(fd)
            fd = -1
        }
    }

    /// Opens the socket and starts the connection (TCP, SCTP) or sends the datagram (UDP).
    mutating func start(at elapsed: Int64) {
        let proto = target.proto
        fd = socket(target.address.family, proto.socketType | Int32(SOCK_CLOEXEC.rawValue), proto.ipProtocol)
        if fd < 0 { return finish(.other("socket: " + errnoText(errno)), at: elapsed) }
        setNonBlocking(fd)
        if proto == .udp { return startDatagram(at: elapsed) }
        Prober.enableErrorQueue(fd, v6: target.address.family == AF_INET6)
        if target.address.withSockaddr({ connect(fd, $0, $1) }) == 0 {
            phase = .reading
            return
        }
        let code = errno
        if code == EINPROGRESS || code == EINTR { return }
        finish(classify(code), at: elapsed)
    }

    private mutating func startDatagram(at elapsed: Int64) {
        if target.address.withSockaddr({ connect(fd, $0, $1) }) != 0 { return finish(classify(errno), at: elapsed) }
        let payload = Array("probe\n".utf8)
        let sent = payload.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if sent < 0 { return finish(classify(errno), at: elapsed) }
        phase = .reading
    }

    /// Advances after poll reported `revents` on this attempt's socket.
    mutating func advance(revents: Int16, at elapsed: Int64) {
        let isError = Int32(revents) & Int32(POLLERR) != 0
        switch phase {
        case .finished:
            return
        case .connecting:
            let pending = Prober.pendingError(fd)
            if pending != 0 { return finish(classify(pending), at: elapsed) }
            if isError, let queued = Prober.queuedError(fd) { return finish(classify(queued), at: elapsed) }
            if Int32(revents) & Int32(POLLOUT) != 0 {
                phase = .reading
            } else if isError || Int32(revents) & Int32(POLLHUP) != 0 {
                finish(.other("socket error while connecting"), at: elapsed)
            }
        case .reading:
            drain(revents: revents, at: elapsed)
        }
    }

    /// Drains what the socket holds; finishes on a full line (stream), one datagram, EOF or an error.
    private mutating func drain(revents: Int16, at elapsed: Int64) {
        let stream = target.proto != .udp
        var buffer = [UInt8](repeating: 0, count: 512)
        while true {
            let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                received.append(contentsOf: buffer[0..<count])
                if !stream || received.contains(UInt8(ascii: "\n")) { return finish(.reply(Prober.lineOf(received)), at: elapsed) }
                continue
            }
            if count == 0 {
                return finish(received.isEmpty ? .other("closed without reply") : .reply(Prober.lineOf(received)), at: elapsed)
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK {
                if Int32(revents) & Int32(POLLERR) != 0, let queued = Prober.queuedError(fd), received.isEmpty {
                    finish(classify(queued), at: elapsed)
                }
                return
            }
            if !received.isEmpty { return finish(.reply(Prober.lineOf(received)), at: elapsed) }
            return finish(stream && code == ECONNRESET ? .other("reset after connect") : classify(code), at: elapsed)
        }
    }
}

/// Runs every attempt at once under one deadline with a single poll loop.
enum ConcurrentProbe {
    /// Starts all `targets`, polls until each finished or `timeoutMs` passed, and
    /// returns the attempts in the order given (unfinished ones count as timeouts).
    static func run(_ targets: [ProbeTarget], timeoutMs: Int) -> [PendingAttempt] {
        let started = monotonicMs()
        let deadline = started + Int64(timeoutMs)
        var attempts = targets.map(PendingAttempt.init(target:))
        for index in attempts.indices {
            attempts[index].start(at: monotonicMs() - started)
        }
        while true {
            let open = attempts.indices.filter { !attempts[$0].isFinished }
            let remaining = deadline - monotonicMs()
            if open.isEmpty || remaining <= 0 { break }
            var fds = open.map { pollfd(fd: attempts[$0].fd, events: attempts[$0].events, revents: 0) }
            let rc = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1000)))
            if rc < 0 && errno != EINTR { break }
            if rc <= 0 { continue }
            let now = monotonicMs() - started
            for (slot, index) in open.enumerated() where fds[slot].revents != 0 {
                attempts[index].advance(revents: fds[slot].revents, at: now)
            }
        }
        let end = monotonicMs() - started
        for index in attempts.indices where !attempts[index].isFinished {
            attempts[index].finish(attempts[index].outcome, at: end)
        }
        return attempts
    }
}
