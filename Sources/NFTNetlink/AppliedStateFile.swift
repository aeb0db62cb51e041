#if canImport(Glibc)
import Glibc
#endif
import NFTRuleset

/// An `AppliedState` kept on disk between runs (e.g. `/run/kubenft/<namespace>.state`), so a new
/// process can skip reading the table back while nothing changed since the last apply. The file
/// holds the boot id, the namespace identity, the generation id, the table's name, the keyed
/// hashes of every chain and set, and the elements of every set that is not an interval set (one
/// hash each and a compact record, so a changed set's delta needs no dump of the kernel's copy),
/// followed by a checksum. Anything unexpected (missing, truncated,
/// corrupt, another boot, namespace, table or format) makes `load` return nil, and a state whose
/// generation no longer matches the kernel's is never used by `RulesetApplier`: both fall back to
/// reading the table back.
public struct AppliedStateFile: Sendable {
    public let path: String

    /// The last byte is the format version; it changes whenever the file's layout or the hashes it
    /// holds (`StableHasher`'s word encoding) change, so an older file is ignored, not misread.
    static let magic: [UInt8] = Array("KNFTSTATE\u{3}".utf8)

    public init(path: String) {
        self.path = path
    }

    /// The default location for a namespace (nil: the caller's own): under /run/kubenft.
    public static func defaultPath(namespace: String?) -> String {
        let name = namespace.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "host"
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
        return "/run/kubenft/" + (safe.isEmpty || safe.hasPrefix(".") ? "_" + safe : safe) + ".state"
    }

    /// Refuses a path that exists and is not a regular file (`/dev/null`, a FIFO, a directory, a
    /// symbolic link): saving renames a new file over it and a failed save unlinks it, which
    /// would replace a device node such as `/dev/null`.
    public func check() throws(NetlinkError) {
        guard !Self.isRegularOrAbsent(path) else { return }
        throw NetlinkError(.system, code: EINVAL,
                           "state file \(path) exists and is not a regular file (use --no-state to keep no state)")
    }

    /// True when nothing is at `path` or a regular file is (not following a symbolic link).
    private static func isRegularOrAbsent(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0 else { return errno == ENOENT }
        return info.st_mode & S_IFMT == S_IFREG
    }

    /// The stored state, or nil when there is none or it cannot be trusted.
    public func load() -> AppliedState? {
        guard Self.isRegularOrAbsent(path), let bytes = Self.readFile(path), bytes.count > Self.magic.count + 8 else { return nil }
        let body = Array(bytes[..<(bytes.count - 8)])
        var trailer = StateReader(bytes: Array(bytes[(bytes.count - 8)...]))
        guard Array(body.prefix(Self.magic.count)) == Self.magic, trailer.u64() == Self.checksum(body) else { return nil }
        var reader = StateReader(bytes: body, offset: Self.magic.count)
        guard reader.string() == Self.bootID() else { return nil }
        return reader.state()
    }

    /// Writes `state` atomically (a temporary file renamed over the old one), readable by root only.
    public func save(_ state: AppliedState) throws(NetlinkError) {
        try check()
        var writer = StateWriter()
        writer.bytes = Self.magic
        writer.string(Self.bootID())
        writer.state(state)
        writer.u64(Self.checksum(writer.bytes))
        try Self.makeDirectory(for: path)
        let temporary = path + ".tmp\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw NetlinkError.system(errno, "writing \(temporary)") }
        var written = 0
        let failure: Int32? = writer.bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let count = write(fd, raw.baseAddress.map { $0 + written }, raw.count - written)
                if count < 0 { if errno == EINTR { continue }; return errno }
                written += count
            }
            return nil
        }
        close(fd)
        if let failure {
            unlink(temporary)
            throw NetlinkError.system(failure, "writing \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw NetlinkError.system(code, "renaming \(temporary)")
        }
    }

    /// Removes the file (after a delete, or when the table was changed without it); no error when absent.
    public func remove() {
        guard Self.isRegularOrAbsent(path) else { return }
        unlink(path)
    }

    private static func checksum(_ bytes: [UInt8]) -> UInt64 {
        var hasher = StableHasher(key: HashKey(first: 0x6B75_6265_6E66_7473, second: 0x7461_7465_6669_6C65))
        let words = bytes.count / 8
        bytes.withUnsafeBytes { raw in
            for word in 0..<words { hasher.combine(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self))) }
        }
        let index = words * 8
        var tail = UInt64(bytes.count)
        for byte in bytes[index...] { tail = tail << 8 | UInt64(byte) }
        hasher.combine(tail)
        return hasher.finalize()
    }

    /// This boot's id: a state from before a reboot never applies.
    static func bootID() -> String {
        guard let bytes = readFile("/proc/sys/kernel/random/boot_id") else { return "" }
        return String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: " \n")
    }

    private static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 { if errno == EINTR { continue }; return nil }
            if count == 0 { return result }
            result += chunk[..<count]
        }
    }

    private static func makeDirectory(for path: String) throws(NetlinkError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let directory = String(path[..<slash])
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw NetlinkError.system(errno, "creating \(directory)")
        }
    }
}

private extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        return String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
