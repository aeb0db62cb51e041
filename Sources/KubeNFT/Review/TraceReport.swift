import KubeManifest
import NFTRuleset
import NFTTrace

/// The answer to a trace: every path, the backends DNAT may choose, and the overall verdict.
public struct TraceReport: Sendable {
    /// One DNAT target and its probability.
    public struct Backend: Sendable, Hashable {
        public var address: IPAddress
        public var port: UInt16
        public var probability: Double
        public var verdict: TraceVerdict
    }

    public var query: TraceQuery
    public var packet: TracePacket
    public var origin: TraceOrigin
    public var result: TraceResult

    /// DNAT targets merged over paths, sorted by address and port.
    public var backends: [Backend] {
        var merged: [String: Backend] = [:]
        for path in result.paths {
            guard let address = path.translatedDestination, let port = path.translatedPort else { continue }
            let key = "\(address)|\(port)|\(path.verdict.rawValue)"
            merged[key, default: Backend(address: address, port: port, probability: 0, verdict: path.verdict)].probability += path.probability
        }
        return merged.values.sorted { ($0.address, $0.port, $0.verdict) < ($1.address, $1.port, $1.verdict) }
    }

    /// `accept`, `drop`, `reject`, or `mixed` when paths end differently.
    public var verdict: String { result.verdict?.rawValue ?? "mixed" }

    public var text: String {
        var out = "trace \(packet.transport) \(packet.source) -> \(packet.destination):\(packet.destinationPort)"
        out += " (from \(DisplayText.escaped(query.from.description)), to \(DisplayText.escaped(query.to.description))), entering \(origin == .node ? "from the node itself" : "from the network")\n"
        let paths = result.paths.sorted {
            ($0.probability, $1.translatedDestination.map(\.description) ?? "", $1.translatedPort ?? 0)
                > ($1.probability, $0.translatedDestination.map(\.description) ?? "", $0.translatedPort ?? 0)
        }
        for (number, path) in paths.enumerated() {
            out += "\npath \(number + 1) of \(paths.count), probability \(Self.percent(path.probability)): \(path.verdict.rawValue)\n"
            for step in path.steps {
                out += "  \(step.hook.padding(12)) \(DisplayText.escaped(step.chain))\n      \(DisplayText.escaped(step.text))\n"
            }
            if let address = path.translatedDestination, let port = path.translatedPort {
                out += "  DNAT to \(address.family == .v6 ? "[\(address)]" : address.description):\(port)\n"
            }
            if path.masqueraded { out += "  source masqueraded to the node's address\n" }
            for note in path.notes { out += "  note: \(DisplayText.escaped(note))\n" }
        }
        if !backends.isEmpty {
            out += "\nbackends:\n"
            for backend in backends {
                out += "  \(backend.address):\(backend.port)  \(Self.percent(backend.probability))  \(backend.verdict.rawValue)\n"
            }
        }
        return out + "\nverdict: \(verdict)\n"
    }

    public var json: String {
        let backends: [JSONText] = self.backends.map { backend in
            .object([("address", .string(backend.address.description)), ("port", .number(Int64(backend.port))),
                     ("probability", .decimal(Self.decimal(backend.probability))), ("verdict", .string(backend.verdict.rawValue))])
        }
        let paths: [JSONText] = result.paths.map { path in
            var members: [(String, JSONText)] = [("probability", .decimal(Self.decimal(path.probability))), ("verdict", .string(path.verdict.rawValue))]
            members.append(("steps", .array(path.steps.map { step in
                .object([("hook", .string(step.hook)), ("chain", .string(step.chain)), ("rule", step.rule.map { .number(Int64($0)) } ?? .null),
                         ("text", .string(step.text)), ("comment", step.comment.map { .string($0) } ?? .null)])
            })))
            members.append(("masquerade", .bool(path.masqueraded)))
            return .object(members)
        }
        let object: JSONText = .object([
            ("from", .string(query.from.description)), ("to", .string(query.to.description)),
            ("source", .string(packet.source.description)), ("destination", .string(packet.destination.description)),
            ("protocol", .string(packet.transport)), ("port", .number(Int64(packet.destinationPort))),
            ("verdict", .string(verdict)), ("backends", .array(backends)), ("paths", .array(paths)),
        ])
        return object.serialized() + "\n"
    }

    /// `40.00%`.
    static func percent(_ value: Double) -> String { decimal(value * 100, places: 2) + "%" }

    /// Fixed-point text without Foundation (probabilities in JSON keep 6 places).
    static func decimal(_ value: Double, places: Int = 6) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < places { fraction = "0" + fraction }
        return "\(whole).\(fraction)"
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
