import Foundation
import KubeManifest
import KubeNFT

/// One line of a fixture's `expectations.txt`:
/// `allow|deny FROM -> TO PROTO/PORT  # why`, where FROM and TO are `namespace/pod` or
/// `external:IP` (a client in the lab's external subnet).
struct ConnectionExpectation: Sendable, CustomStringConvertible {
    var allowed: Bool
    var from: TraceEndpoint
    var to: TraceEndpoint
    var transport: L4Protocol
    var port: UInt16
    /// The comment after `#`: which documented effect the line illustrates.
    var note: String
    var line: Int

    var description: String {
        "line \(line): \(allowed ? "allow" : "deny") \(from) -> \(to) \(transport.nftName)/\(port)  # \(note)"
    }

    var query: TraceQuery { TraceQuery(from: from, to: to, port: port, transport: transport) }

    /// The lab role of an end: the pod's `namespace/name`, or `external:IP`.
    static func role(_ endpoint: TraceEndpoint) -> String { endpoint.description }

    /// The client address of an `external:IP` end.
    static func externalAddress(_ endpoint: TraceEndpoint) -> IPAddress? {
        if case .external(let address) = endpoint { return address }
        return nil
    }
}

/// A line of an `expectations.txt` that does not parse.
struct ExpectationParseError: Error, CustomStringConvertible {
    var line: Int
    var reason: String
    var description: String { "expectations.txt line \(line): \(reason)" }
}

/// Reads `expectations.txt` files.
enum ConnectionExpectations {
    /// External clients must sit in the lab's client subnet, off the node's own address.
    static let externalPrefix = "198.51.100."
    static let nodeAddress = "198.51.100.1"

    /// Parses the file; blank lines and `#` lines are skipped, every other line must be complete.
    static func parse(_ text: String) throws -> [ConnectionExpectation] {
        var expectations: [ConnectionExpectation] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            expectations.append(try parseLine(trimmed, number: index + 1))
        }
        return expectations
    }

    static func parseLine(_ text: String, number: Int) throws -> ConnectionExpectation {
        let parts = text.split(separator: "#", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        let words = parts[0].split(whereSeparator: \.isWhitespace).map(String.init)
        guard words.count == 5, words[2] == "->" else {
            throw ExpectationParseError(line: number, reason: "expected 'allow|deny FROM -> TO PROTO/PORT', got '\(parts[0])'")
        }
        guard words[0] == "allow" || words[0] == "deny" else {
            throw ExpectationParseError(line: number, reason: "verdict '\(words[0])' is neither allow nor deny")
        }
        let from = try endpoint(words[1], line: number), to = try endpoint(words[3], line: number)
        let service = words[4].split(separator: "/").map(String.init)
        guard service.count == 2, let transport = L4Protocol(rawValue: service[0].uppercased()),
              let port = UInt16(service[1]), port > 0 else {
            throw ExpectationParseError(line: number, reason: "'\(words[4])' is not PROTO/PORT (tcp, udp or sctp)")
        }
        guard parts.count == 2, !parts[1].isEmpty else {
            throw ExpectationParseError(line: number, reason: "every expectation needs a '# why' comment")
        }
        return ConnectionExpectation(allowed: words[0] == "allow", from: from, to: to, transport: transport, port: port,
                                     note: parts[1], line: number)
    }

    /// A pod (`namespace/name`) or an external client in the lab's subnet (`external:IP`).
    static func endpoint(_ text: String, line: Int) throws -> TraceEndpoint {
        switch TraceEndpoint(text) {
        case .pod(let namespace, let name)?:
            return .pod(namespace: namespace, name: name)
        case .external(let address)?:
            let written = address.description
            guard written.hasPrefix(externalPrefix), written != nodeAddress else {
                throw ExpectationParseError(line: line, reason: "external clients live in \(externalPrefix)0/24, off \(nodeAddress)")
            }
            return .external(address)
        default:
            throw ExpectationParseError(line: line, reason: "'\(text)' is neither namespace/pod nor external:IP")
        }
    }
}
