import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The two programs the data-plane suite runs inside its network namespaces, as hidden
/// subcommands of this executable (`ip netns exec NS kubenft-bench dp-serve|dp-connect ...`).
///
/// `dp-serve` answers every TCP connection with its name and a newline, then closes it;
/// several copies share one port through `SO_REUSEPORT`, so the kernel spreads connections over them.
/// `dp-connect` makes sequential short-lived connections and prints one JSON line with the tally.
enum DataplaneAgent {
    /// `dp-serve --port P --name NAME`: accepts and answers until killed.
    static func serve(_ arguments: Arguments) throws(BenchError) {
        let port = try arguments.int("port", default: 8080)
        let reply = Array(((arguments.values["name"] ?? "dp-server") + "\n").utf8)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
        setOption(listener, SOL_SOCKET, SO_REUSEADDR, 1)
        setOption(listener, SOL_SOCKET, SO_REUSEPORT, 1)
        var address = DataplaneAgent.address("0.0.0.0", port: port)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 4096) == 0 else {
            throw BenchError("bind/listen on port \(port): \(String(cString: strerror(errno)))")
        }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 { continue }
            _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            close(connection)
        }
    }

    /// `dp-connect --to IP --port P --count K [--time-limit S] [--source IP]`: K sequential
    /// connections (fewer when the time limit passes first), each closed with a reset.
    static func connectLoop(_ arguments: Arguments) throws(BenchError) {
        guard let target = arguments.values["to"], inet_addr(target) != INADDR_NONE else {
            throw BenchError("dp-connect needs --to with an IPv4 address")
        }
        let plan = ConnectPlan(target: target, port: try arguments.int("port", default: 80),
                               count: try arguments.int("count", default: 1000),
                               timeLimit: Double(try arguments.int("time-limit", default: 20)),
                               source: arguments.values["source"])
        print(plan.run().json())
    }

    static func address(_ text: String, port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(text)
        return address
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var copy = value
        _ = setsockopt(fd, level, name, &copy, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// What one `dp-connect` loop did.
struct ConnectTally: Codable {
    /// Connections that received the server's reply line.
    var ok = 0
    var failed = 0
    var elapsedSeconds = 0.0
    /// Failure reasons (errno text or "no reply") and how often each happened.
    var errors: [String: Int] = [:]
    /// The first reply line seen, to check which server answered.
    var reply: String?

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A bounded loop of new TCP connections to one address.
struct ConnectPlan {
    var target: String
    var port: Int
    var count: Int
    var timeLimit: Double
    var source: String?

    /// Linux's IP_BIND_ADDRESS_NO_PORT: bind the source address now, pick the port at connect time.
    static let bindAddressNoPort: Int32 = 24

    /// Runs the loop: stops after `count` connections or when `timeLimit` seconds have passed.
    func run() -> ConnectTally {
        var tally = ConnectTally()
        var destination = DataplaneAgent.address(target, port: port)
        let start = Clock.now()
        for _ in 0..<count {
            if Clock.now() - start > timeLimit { break }
            switch once(&destination) {
            case .success(let line):
                tally.ok += 1
                if tally.reply == nil { tally.reply = line }
            case .failure(let problem):
                tally.failed += 1
                tally.errors[problem.message, default: 0] += 1
            }
        }
        tally.elapsedSeconds = Clock.now() - start
        return tally
    }

    /// One connection: connect, read the reply line, close with a reset (`SO_LINGER` 0), so the
    /// client keeps no TIME_WAIT socket and its ephemeral ports are never exhausted.
    private func once(_ destination: inout sockaddr_in) -> Result<String, BenchError> {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(BenchError("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            DataplaneAgent.setOption(fd, Int32(IPPROTO_IP), Self.bindAddressNoPort, 1)
            var local = DataplaneAgent.address(source, port: 0)
            let bound = withUnsafePointer(to: &local) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound != 0 { return .failure(BenchError("bind: \(String(cString: strerror(errno)))")) }
        }
        let connected = withUnsafePointer(to: &destination) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { return .failure(BenchError("connect: \(String(cString: strerror(errno)))")) }
        return readLine(fd)
    }

    /// Reads until a newline or the end of the stream.
    private func readLine(_ fd: Int32) -> Result<String, BenchError> {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while !received.contains(0x0A) {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return .failure(BenchError("recv: \(String(cString: strerror(errno)))")) }
            if count == 0 { break }
            received.append(contentsOf: buffer[0..<count])
        }
        guard let end = received.firstIndex(of: 0x0A) else { return .failure(BenchError("no reply")) }
        return .success(String(decoding: received[..<end], as: UTF8.self))
    }
}
