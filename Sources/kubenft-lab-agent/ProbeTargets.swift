#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One destination of `probe-many`: `ADDR,PORT,PROTO[,LABEL]`.
struct ProbeTarget {
    /// The address as given (numeric IPv4 or IPv6).
    let host: String
    let port: UInt16
    let proto: LabProto
    /// Free text echoed back in the result line; may contain commas, empty when not given.
    let label: String
    /// The parsed socket address.
    let address: SocketAddress

    /// Parses `ADDR,PORT,PROTO[,LABEL]`; the label is everything after the third comma.
    static func parse(_ text: String) throws(UsageError) -> ProbeTarget {
        let fields = text.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
        guard fields.count >= 3 else {
            throw UsageError("a target is ADDR,PORT,PROTO[,LABEL], got '\(text)'")
        }
        let host = fields[0].trimmed()
        guard let port = UInt16(fields[1].trimmed()), port > 0 else {
            throw UsageError("target '\(text)': port must be 1-65535")
        }
        guard let proto = LabProto(rawValue: fields[2].trimmed().lowercased()) else {
            throw UsageError("target '\(text)': protocol must be tcp, udp or sctp")
        }
        guard let address = SocketAddress(host: host, port: port) else {
            throw UsageError("target '\(text)': '\(host)' is not a numeric IP address")
        }
        let label = fields.count == 4 ? fields[3] : ""
        return ProbeTarget(host: host, port: port, proto: proto, label: label, address: address)
    }

    /// Targets from standard input, one per line; blank lines and `#` comments are skipped.
    static func readStandardInput() throws(UsageError) -> [ProbeTarget] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(0, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        var targets: [ProbeTarget] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let text = String(line).trimmed()
            if text.isEmpty || text.hasPrefix("#") { continue }
            targets.append(try parse(text))
        }
        return targets
    }
}

extension String {
    /// Drops leading and trailing spaces, tabs and carriage returns.
    func trimmed() -> String {
        let blanks: Set<Character> = [" ", "\t", "\r"]
        var text = Substring(self)
        while let first = text.first, blanks.contains(first) { text.removeFirst() }
        while let last = text.last, blanks.contains(last) { text.removeLast() }
        return String(text)
    }
}
