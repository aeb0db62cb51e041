import NFTRuleset

/// The matrix for spreadsheets (CSV) and for drawing (Graphviz DOT).
extension ConnectivityMatrix {
    /// One row per cell: from, to, protocol, port, allowed, reason.
    public var csv: String {
        var out = CSV.row(["from", "to", "protocol", "port", "allowed", "reason"])
        for cell in cells {
            out += CSV.row([cell.from, cell.to, cell.transport.nftName, String(cell.port), cell.allowed ? "true" : "false", cell.reason])
        }
        return out
    }

    /// A directed graph: pods, outside peers and service entry points as nodes, one edge per allowed
    /// (source, destination) labelled with its ports. A pod's connections to itself are left out.
    public var dot: String {
        var out = "digraph connectivity {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n"
        for pod in pods { out += "  \(Self.quoted(pod));\n" }
        for peer in peers { out += "  \(Self.quoted(peer)) [shape=ellipse, style=dashed];\n" }
        for entry in entries { out += "  \(Self.quoted(entry)) [shape=diamond];\n" }
        var order: [String] = [], ports: [String: [String]] = [:], ends: [String: (String, String)] = [:]
        for cell in cells where cell.allowed && cell.from != cell.to {
            let key = cell.from + "\u{0}" + cell.to
            if ports[key] == nil { order.append(key); ends[key] = (cell.from, cell.to) }
            ports[key, default: []].append("\(cell.transport.nftName)/\(cell.port)")
        }
        for key in order {
            guard let (from, to) = ends[key], let list = ports[key] else { continue }
            out += "  \(Self.quoted(from)) -> \(Self.quoted(to)) [label=\(Self.quoted(list.joined(separator: ",")))];\n"
        }
        return out + "}\n"
    }

    /// A DOT string literal: quotes and backslashes escaped, line breaks and other control
    /// characters shown as escapes, so a name can neither end the literal nor add statements.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in DisplayText.escaped(text).unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
