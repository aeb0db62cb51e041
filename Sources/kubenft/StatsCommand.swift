#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import KubeNFTCompiler
import NFTNetlink
import NFTRuleset

/// `kubenft stats`: what the policies dropped and the Services rejected, from the named counters
/// `apply --counters` created, read in one dump of the table's counter objects.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print the packets and bytes each policy dropped and each Service rejected (needs apply --counters)."
    )

    @OptionGroup var namespace: NamespaceOptions

    @Option(name: .long, help: "Output format: text or json.")
    var format: StatsFormat = .text

    @Option(name: .long, help: ArgumentHelp("Print again every SECONDS (default 2) until interrupted.", valueName: "SECONDS"))
    var watch: UInt32?

    @Flag(name: .long, help: "Print each packet --log-drops logs (read from its nflog group) until interrupted, instead of the counters.")
    var follow = false

    @Option(name: .customLong("log-group"), help: "The nflog group --follow reads (default 100, as --log-drops).")
    var logGroup: UInt16 = DropObservation.defaultLogGroup

    @Option(name: .customLong("count"), help: "With --follow: stop after this many packets.")
    var count: Int?

    /// A bare `--watch` is passed on with the default interval.
    static let defaultWatchSeconds: UInt32 = 2

    func validate() throws {
        if let watch, watch == 0 || watch > 86_400 { throw ValidationError("--watch takes 1-86400 seconds") }
        if follow && watch != nil { throw ValidationError("--follow and --watch cannot be combined") }
        if let count, count < 1 { throw ValidationError("--count takes a positive number") }
    }

    func run() throws {
        if follow { return try followLog() }
        let transport = try namespace.transport()
        while true {
            let counters: [CounterReading]?
            do {
                counters = try transport.counters(family: "inet", table: "kubenft")
            } catch {
                throw KernelFailure.report(error)
            }
            guard let counters else {
                Terminal.error("no table inet kubenft")
                throw ExitCode(2)
            }
            let rows = counters.map(StatsRow.init)
            if rows.isEmpty && watch == nil {
                Terminal.error("warning: table inet kubenft has no counters; apply it with --counters")
            }
            Terminal.out(format == .json ? StatsRow.json(rows) : StatsRow.text(rows))
            guard let watch else { return }
            sleep(watch)
            if format == .text { Terminal.out("\n") }
        }
    }
}

extension StatsCommand {
    /// `--follow`: one line (or JSON object) per logged packet, as it arrives.
    func followLog() throws {
        let listener: NflogListener
        do {
            listener = try NflogListener(namespace: namespace.netns, group: logGroup)
        } catch {
            throw KernelFailure.report(error)
        }
        var printed = 0
        while count.map({ printed < $0 }) ?? true {
            let packets: [LoggedPacket]
            do {
                packets = try listener.next(timeoutMs: -1)
            } catch {
                // Lost packets are named, never skipped silently; reading goes on.
                if error.code == ENOBUFS {
                    Terminal.error("warning: the kernel dropped log messages of group \(logGroup) (reader too slow)")
                    continue
                }
                throw KernelFailure.report(error)
            }
            for packet in packets where count.map({ printed < $0 }) ?? true {
                Terminal.out(format == .json ? Self.json(packet) : DisplayText.escaped(packet.description) + "\n")
                printed += 1
            }
        }
    }

    static func json(_ packet: LoggedPacket) -> String {
        var fields: [(String, JSONText)] = [("group", .number(Int64(packet.group))), ("prefix", .string(packet.prefix))]
        if let source = packet.source { fields.append(("source", .string(source.description))) }
        if let destination = packet.destination { fields.append(("destination", .string(destination.description))) }
        if let transport = packet.transport { fields.append(("protocol", .string(transport))) }
        if let port = packet.sourcePort { fields.append(("sourcePort", .number(Int64(port)))) }
        if let port = packet.destinationPort { fields.append(("destinationPort", .number(Int64(port)))) }
        return JSONText.object(fields).serialized() + "\n"
    }
}

enum StatsFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// One counter as `stats` prints it: what it counts (a policy drop or a Service reject) and its values.
struct StatsRow {
    enum Kind: String {
        case networkPolicy = "NetworkPolicy"
        case adminNetworkPolicy = "AdminNetworkPolicy"
        case baselineAdminNetworkPolicy = "BaselineAdminNetworkPolicy"
        case clusterNetworkPolicy = "ClusterNetworkPolicy"
        case service = "Service"
        case other = "other"
    }

    var kind: Kind
    var name: String
    var description: String
    var packets: UInt64
    var bytes: UInt64

    init(_ reading: CounterReading) {
        let prefixes: [(String, Kind)] = [("np-drop-", .networkPolicy), ("anp-deny-", .adminNetworkPolicy),
                                          ("banp-deny-", .baselineAdminNetworkPolicy), ("cnp-deny-", .clusterNetworkPolicy), ("svc-reject-", .service),
                                          ("svc-limit-", .service)]
        kind = prefixes.first { reading.name.hasPrefix($0.0) }?.1 ?? .other
        name = reading.name
        description = reading.comment ?? reading.name
        packets = reading.packets
        bytes = reading.bytes
    }

    /// What a row's counter counts: a drop for policies, a reject for Services, a drop or reject
    /// over a Service's rate limit.
    var action: String {
        if name.hasPrefix("svc-limit-") { return "limited" }
        return kind == .service ? "rejected" : "dropped"
    }

    static func text(_ rows: [StatsRow]) -> String {
        let packetWidth = max(7, rows.map { String($0.packets).count }.max() ?? 0)
        let byteWidth = max(5, rows.map { String($0.bytes).count }.max() ?? 0)
        func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var out = pad("PACKETS", packetWidth) + " " + pad("BYTES", byteWidth) + "  ACTION    COUNTER / WHAT\n"
        for row in rows {
            let action = row.action + String(repeating: " ", count: max(0, 9 - row.action.count))
            out += pad(String(row.packets), packetWidth) + " " + pad(String(row.bytes), byteWidth) + "  " + action + " "
            out += DisplayText.escaped(row.name) + "\n"
            out += String(repeating: " ", count: packetWidth + byteWidth + 13) + DisplayText.escaped(row.description) + "\n"
        }
        return out
    }

    static func json(_ rows: [StatsRow]) -> String {
        let items: [JSONText] = rows.map { row in
            .object([("counter", .string(row.name)), ("kind", .string(row.kind.rawValue)), ("action", .string(row.action)),
                     ("description", .string(row.description)),
                     ("packets", .number(Int64(clamping: row.packets))), ("bytes", .number(Int64(clamping: row.bytes)))])
        }
        return JSONText.object([("counters", .array(items))]).serialized() + "\n"
    }
}
