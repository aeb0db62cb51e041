import KubeManifest
import NFTRuleset

/// Text (optionally coloured), Markdown and JSON forms of a change report. All are deterministic.
extension ChangeReport {
    static func describe(_ connection: Connection) -> String {
        "\(DisplayText.escaped(connection.from)) -> \(DisplayText.escaped(connection.to)) \(connection.transport.nftName)/\(ports(connection))"
    }

    /// The port, or `FIRST-LAST` for a class of ports probed at its first (`tcp/8000-8079`).
    static func ports(_ connection: Connection) -> String {
        guard let range = connection.portRange, range.lowerBound < range.upperBound else { return String(connection.port) }
        return "\(range.lowerBound)-\(range.upperBound)"
    }

    /// The group a connection end is counted under: its namespace, or the kind of outside peer.
    static func group(_ end: String) -> String {
        for prefix in ["outside:", "nodeport:", "loadbalancer:", "externalip:"] where end.hasPrefix(prefix) { return String(prefix.dropLast()) }
        if end == "node" || end.hasPrefix("node@") { return "node" }
        return end.split(separator: "/").first.map(String.init) ?? ""
    }

    /// Counts of changed connections per namespace pair, for the summary line.
    private func namespaceSummary(_ connections: [Connection]) -> [String] {
        var counts: [String: Int] = [:]
        for connection in connections {
            let from = Self.group(connection.from), to = Self.group(connection.to)
            counts["\(DisplayText.escaped(from)) -> \(DisplayText.escaped(to))", default: 0] += 1
        }
        return counts.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
    }

    /// `explain` adds each connection's reason on the line below it.
    public func text(colour: Bool, explain: Bool = false) -> String {
        let green = colour ? "\u{1B}[32m" : "", red = colour ? "\u{1B}[31m" : "", yellow = colour ? "\u{1B}[33m" : ""
        let bold = colour ? "\u{1B}[1m" : "", reset = colour ? "\u{1B}[0m" : ""
        if isEmpty { return "no changes\n" }
        var out = "\(bold)Connectivity\(reset): \(allowed.count) newly allowed, \(blocked.count) newly blocked\n"
        for line in namespaceSummary(allowed) { out += "  allowed \(line)\n" }
        for line in namespaceSummary(blocked) { out += "  blocked \(line)\n" }
        for connection in allowed {
            out += "\(green)+ allowed  \(Self.describe(connection))\(reset)\n"
            if explain { out += "      because \(DisplayText.escaped(connection.reason))\n" }
        }
        for connection in blocked {
            out += "\(red)- blocked  \(Self.describe(connection))\(reset)\n"
            if explain { out += "      because \(DisplayText.escaped(connection.reason))\n" }
        }
        if !services.isEmpty {
            out += "\n\(bold)Services\(reset): \(services.count) changed\n"
            for change in services {
                let marker = change.kind == "added" ? green + "+" : (change.kind == "removed" ? red + "-" : yellow + "~")
                out += "\(marker) \(DisplayText.escaped(change.service)) \(change.kind)\(reset)\n"
                for detail in change.details { out += "    \(DisplayText.escaped(detail))\n" }
            }
        }
        if !addedObjects.isEmpty || !removedObjects.isEmpty || !changedObjects.isEmpty {
            out += "\n\(bold)Ruleset\(reset): \(addedObjects.count) added, \(removedObjects.count) removed, \(changedObjects.count) changed\n"
            for object in addedObjects { out += "\(green)+ \(Self.name(object))\(reset)\(Self.source(object))\n" }
            for object in removedObjects { out += "\(red)- \(Self.name(object))\(reset)\(Self.source(object))\n" }
            for object in changedObjects { out += "\(yellow)~ \(Self.name(object))\(reset)\(Self.source(object))\n" }
        }
        if !uncheckedPolicies.isEmpty {
            out += "\n\(bold)Policies changed beyond the input\(reset): \(uncheckedPolicies.count) (not checked)\n"
            for line in uncheckedPolicies { out += "\(yellow)? \(DisplayText.escaped(line))\(reset)\n" }
        }
        return out
    }

    private static func name(_ object: ObjectChange) -> String { DisplayText.escaped("\(object.kind) \(object.name)") }

    private static func source(_ object: ObjectChange) -> String { object.source.isEmpty ? "" : "  (\(DisplayText.escaped(object.source)))" }

    public var markdown: String { markdown(explain: false) }

    /// `explain` adds a reason column to the connection table.
    public func markdown(explain: Bool) -> String {
        if isEmpty { return "### kubenft: no changes\n" }
        var out = "### kubenft: \(allowed.count) connections newly allowed, \(blocked.count) newly blocked\n\n"
        if !allowed.isEmpty || !blocked.isEmpty {
            out += explain ? "| change | from | to | port | reason |\n|---|---|---|---|---|\n" : "| change | from | to | port |\n|---|---|---|---|\n"
            func row(_ change: String, _ connection: Connection) -> String {
                var line = "| \(change) | \(Markdown.code(connection.from, inTable: true)) | \(Markdown.code(connection.to, inTable: true)) | \(connection.transport.nftName)/\(Self.ports(connection)) |"
                if explain { line += " \(Markdown.code(connection.reason, inTable: true)) |" }
                return line + "\n"
            }
            for connection in allowed { out += row(":warning: allowed", connection) }
            for connection in blocked { out += row("blocked", connection) }
            out += "\n"
        }
        if !services.isEmpty {
            out += "#### Services\n\n"
            for change in services {
                out += "- \(Markdown.code(change.service)) \(change.kind)\n"
                for detail in change.details { out += "  - \(Markdown.code(detail))\n" }
            }
            out += "\n"
        }
        let objects = addedObjects.map { ("added", $0) } + removedObjects.map { ("removed", $0) } + changedObjects.map { ("changed", $0) }
        if !objects.isEmpty {
            out += "<details><summary>Ruleset: \(addedObjects.count) added, \(removedObjects.count) removed, \(changedObjects.count) changed</summary>\n\n"
            for (verb, object) in objects {
                out += "- \(verb) \(object.kind) \(Markdown.code(object.name))\(object.source.isEmpty ? "" : " — \(Markdown.code(object.source))")\n"
            }
            out += "\n</details>\n"
        }
        if !uncheckedPolicies.isEmpty {
            out += "\n#### :warning: Policies changed beyond the input (not checked)\n\n"
            for line in uncheckedPolicies { out += "- \(Markdown.code(line))\n" }
        }
        return out
    }

    public var json: String {
        func connections(_ list: [Connection]) -> JSONText {
            .array(list.map { connection in
                let range = connection.portRange ?? connection.port...connection.port
                return .object([("from", .string(connection.from)), ("to", .string(connection.to)), ("port", .number(Int64(connection.port))),
                                ("portRange", .object([("first", .number(Int64(range.lowerBound))), ("last", .number(Int64(range.upperBound)))])),
                                ("protocol", .string(connection.transport.nftName)), ("reason", .string(connection.reason))])
            })
        }
        func backends(_ list: [Backend]) -> JSONText {
            .array(list.map { .object([("address", .string($0.address.description)), ("port", .number(Int64($0.port))),
                                       ("probability", .decimal(TraceReport.decimal($0.probability)))]) })
        }
        func objects(_ list: [ObjectChange]) -> JSONText {
            .array(list.map { .object([("kind", .string($0.kind)), ("name", .string($0.name)), ("source", .string($0.source))]) })
        }
        let serviceItems: [JSONText] = services.map { change in
            .object([("service", .string(change.service)), ("change", .string(change.kind)),
                     ("details", .array(change.details.map { .string($0) })), ("before", backends(change.before)), ("after", backends(change.after))])
        }
        let object: JSONText = .object([
            ("changed", .bool(!isEmpty)),
            ("connectivity", .object([("allowed", connections(allowed)), ("blocked", connections(blocked))])),
            ("services", .array(serviceItems)),
            ("ruleset", .object([("added", objects(addedObjects)), ("removed", objects(removedObjects)), ("changed", objects(changedObjects))])),
            ("warnings", .array(warnings.map { .string($0) })),
        ] + (uncheckedPolicies.isEmpty ? [] : [("unchecked", .array(uncheckedPolicies.map { .string($0) }))]))
        return object.serialized() + "\n"
    }
}
