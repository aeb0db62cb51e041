#if canImport(Glibc)
import Glibc
#endif
import CNftnl
import CNftnlShim
import NFTRuleset

/// One named counter of kubenft's table with its values, as `kubenft stats` reads them.
public struct CounterReading: Sendable, Hashable {
    public var name: String
    public var comment: String?
    public var packets: UInt64
    public var bytes: UInt64

    public init(name: String, comment: String?, packets: UInt64, bytes: UInt64) {
        self.name = name
        self.comment = comment
        self.packets = packets
        self.bytes = bytes
    }
}

extension KernelReader {
    /// Every named counter of the table with its values, in one dump of the table's counter
    /// objects (with `reset`, the kernel zeroes them as it reports them). A dump the kernel marks
    /// interrupted is repeated; ENOENT (no such table) gives nil.
    func readCounters(family: UInt16, table: String, reset: Bool = false) throws(NetlinkError) -> [CounterReading]? {
        var items: UnsafeMutablePointer<kubenft_nl_counter>?
        var count: UInt32 = 0
        var rc: Int32 = 0
        for _ in 0..<Self.attempts {
            free(items)
            items = nil
            rc = table.withCString { kubenft_nl_dump_counters(socket.pointer, family, $0, reset, &items, &count) }
            if rc != EINTR { break }
        }
        defer { free(items) }
        if rc == ENOENT { return nil }
        guard rc == 0 else { throw NetlinkError.system(rc, "reading the counters of \(table)") }
        var result: [CounterReading] = []
        result.reserveCapacity(Int(count))
        for index in 0..<Int(count) {
            guard var item = items?[index] else { continue }
            let name = withUnsafeBytes(of: &item.name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let userdata = withUnsafeBytes(of: &item.userdata) { Array($0.prefix(Int(min(item.userdata_length, 256)))) }
            result.append(CounterReading(name: name, comment: UserData.string(0, in: userdata), packets: item.packets, bytes: item.bytes))
        }
        return result.sorted { $0.name < $1.name }
    }
}

extension NetlinkTransport {
    /// The named counters of a table and their values (nil when the table does not exist).
    public func counters(family: String, table: String, reset: Bool = false) throws(NetlinkError) -> [CounterReading]? {
        guard let number = BatchEncoder.familyNumber(family) else { throw NetlinkError(.unsupported, "table family \(family)") }
        return try KernelReader(socket: socket).readCounters(family: UInt16(number), table: table, reset: reset)
    }
}

extension BatchEncoder {
    /// NEWOBJ (with the comment) or DELOBJ for one counter.
    func encodeCounter(_ counter: CounterObject, adding: Bool, into output: NetlinkBatch) throws(NetlinkError) {
        try NftnlObjects.checkName(counter.name, "counter")
        let userdata = adding ? UserData.comment(counter.comment.map(NFTQuoting.comment)) ?? [] : []
        var sequence: UInt32 = 0
        let type = adding ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ
        let rc = userdata.withUnsafeBytes { bytes in
            table.withCString { tableName in
                counter.name.withCString { name in
                    kubenft_nl_batch_add_counter(output.pointer, UInt16(type.rawValue), UInt16(family), adding ? Self.createFlags : 0,
                                                 tableName, name, bytes.baseAddress, UInt32(bytes.count), &sequence)
                }
            }
        }
        try output.check(rc, "counter")
        output.note(sequence, "\(adding ? "" : "deleting ")counter \(counter.name)" + (counter.comment.map { " (\($0))" } ?? ""),
                    modules: adding ? ["nft_counter"] : [])
    }
}
