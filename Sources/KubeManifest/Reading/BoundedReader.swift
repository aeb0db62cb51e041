#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ManifestLoader {
    /// Largest input accepted, per file or standard input. Node offsets in a `NodeTree` are 32-bit,
    /// and nothing near this size is a real manifest.
    public static let maximumSourceSize = 512 << 20
}

/// Reads an input without ever holding more than the size limit: a regular file's size is checked
/// before a byte is read, and anything else (pipes, terminals, devices) is read in chunks only
/// until the limit is passed. A hostile input therefore costs neither time nor memory beyond it.
enum BoundedReader {
    /// Why an input was not read.
    enum Problem: Error, Sendable, Hashable, CustomStringConvertible {
        case tooLarge(limit: Int)
        case unreadable(reason: String)

        var description: String {
            switch self {
            case .tooLarge(let limit): return "input larger than \(BoundedReader.describe(limit)), not read"
            case .unreadable(let reason): return "cannot read file: \(reason)"
            }
        }
    }

    static func read(path: String, limit: Int) -> Result<[UInt8], Problem> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(.unreadable(reason: errorText())) }
        defer { close(descriptor) }
        return read(descriptor: descriptor, limit: limit)
    }

    static func read(descriptor: Int32, limit: Int) -> Result<[UInt8], Problem> {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(.unreadable(reason: errorText())) }
        var expected = 0
        if (status.st_mode & S_IFMT) == S_IFREG {
            guard Int(status.st_size) <= limit else { return .failure(.tooLarge(limit: limit)) }
            expected = Int(status.st_size)
        } else if (status.st_mode & S_IFMT) == S_IFDIR {
            return .failure(.unreadable(reason: "is a directory"))
        }
        return readChunks(descriptor, limit: limit, expected: expected)
    }

    /// Reads to the end, failing as soon as more than `limit` bytes have arrived (a regular file
    /// may still grow after its size was checked).
    private static func readChunks(_ descriptor: Int32, limit: Int, expected: Int) -> Result<[UInt8], Problem> {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(expected, limit) + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let wanted = min(chunk.count, limit + 1 - bytes.count)
            let got = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, wanted) }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(.unreadable(reason: errorText()))
            }
            if got == 0 { return .success(bytes) }
            bytes.append(contentsOf: chunk[..<got])
            if bytes.count > limit { return .failure(.tooLarge(limit: limit)) }
        }
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }

    /// `512 MiB`, or the byte count when it is not a whole number of MiB.
    static func describe(_ size: Int) -> String {
        size >= 1 << 20 && size % (1 << 20) == 0 ? "\(size >> 20) MiB" : "\(size) bytes"
    }
}

/// The C library's `read`, named apart from `BoundedReader.read`.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
