#if canImport(Glibc)
import Glibc
#endif
import CNftnl
import CNftnlShim

/// A table created with `flags owner` belongs to the netlink socket that created it: the kernel
/// refuses every change from any other socket with EPERM, even from root, and removes the table
/// when that socket closes. This finds the owner so the error says so instead of blaming
/// missing privileges.
enum TableOwner {
    /// The owning port id of the table when it has flags owner; nil when it has none or is missing.
    static func port(socket: NetlinkSocket, family: String, table: String) -> UInt32? {
        guard let number = BatchEncoder.familyNumber(family) else { return nil }
        var error: Int32 = 0
        guard let list = kubenft_nl_dump_tables(socket.pointer, UInt16(number), &error) else { return nil }
        defer { nftnl_table_list_free(list) }
        guard let iterator = nftnl_table_list_iter_create(list) else { return nil }
        defer { nftnl_table_list_iter_destroy(iterator) }
        while let object = nftnl_table_list_iter_next(iterator) {
            guard let name = nftnl_table_get_str(object, UInt16(NFTNL_TABLE_NAME.rawValue)), String(cString: name) == table else { continue }
            let flags = nftnl_table_get_u32(object, UInt16(NFTNL_TABLE_FLAGS.rawValue))
            guard flags & KernelTable.ownerFlag != 0, nftnl_table_is_set(object, UInt16(NFTNL_TABLE_OWNER.rawValue)) else { return nil }
            return nftnl_table_get_u32(object, UInt16(NFTNL_TABLE_OWNER.rawValue))
        }
        return nil
    }

    /// "netlink port P of process N (name)", or only the port when no process in the namespace
    /// holds that socket (or /proc cannot tell).
    static func describe(port: UInt32, namespacePath: String?) -> String {
        guard let (pid, command) = process(port: port, namespacePath: namespacePath) else { return "netlink port \(port)" }
        return "netlink port \(port) of process \(pid) (\(command))"
    }

    /// The process holding the NETLINK_NETFILTER socket bound to `port` in the namespace: the
    /// namespace's /proc/PID/net/netlink gives the socket's inode, a /proc/PID/fd link names it.
    static func process(port: UInt32, namespacePath: String?) -> (Int32, String)? {
        guard let namespace = inode(namespacePath ?? "/proc/self/ns/net") else { return nil }
        let pids = processIDs().filter { inode("/proc/\($0)/ns/net") == namespace }
        guard let first = pids.first, let table = readText("/proc/\(first)/net/netlink") else { return nil }
        var socketInode: String?
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode; NETLINK_NETFILTER is protocol 12.
            guard fields.count >= 10, fields[1] == "12", UInt32(fields[2]) == port else { continue }
            socketInode = String(fields[9])
        }
        guard let socketInode else { return nil }
        let target = "socket:[\(socketInode)]"
        for pid in pids {
            for fd in directory("/proc/\(pid)/fd") where link("/proc/\(pid)/fd/\(fd)") == target {
                let command = readText("/proc/\(pid)/comm")?.split(separator: "\n").first.map(String.init) ?? "?"
                return (pid, command)
            }
        }
        return nil
    }

    private static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    private static func processIDs() -> [Int32] { directory("/proc").compactMap { Int32($0) } }

    private static func directory(_ path: String) -> [String] {
        guard let handle = opendir(path) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    private static func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func readText(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension NetlinkTransport {
    /// For a change refused with EPERM: an error naming the process that owns the table, when the
    /// table has flags owner and this socket is not its owner.
    func ownerError(family: String, table: String, refusal: NetlinkError) -> NetlinkError? {
        guard let port = TableOwner.port(socket: socket, family: family, table: table),
              port != kubenft_nl_portid(socket.pointer) else { return nil }
        let owner = TableOwner.describe(port: port, namespacePath: ownerNamespacePath)
        return NetlinkError(.owned, code: refusal.code,
                            "table \(family) \(table) is owned by another process (flags owner, \(owner)): the kernel lets only that process change or delete it, and removes it when that process closes its socket; nothing was applied")
    }
}
