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

    /// Opens `path` to learn whether it can be read: a regular file's size, nil for anything else
    /// (pipes and devices have to be read at once), or why not.
    static func check(path: String, limit: Int) -> Result<Int?, Problem> {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .failure(.unreadable(reason: errorText())) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return .failure(.unreadable(reason: errorText())) }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            guard Int(status.st_size) <= limit else { return .failure(.tooLarge(limit: limit)) }
            return .success(Int(status.st_size))
        case S_IFDIR:
            return .failure(.unreadable(reason: "is a directory"))
        default:
            return .success(nil)
        }
    }

    /// Up to `count` bytes from the start of a file (fewer at its end or on an error).
    static func prefix(path: String, count: Int) -> [UInt8] {
        guard let chunks = FileChunks(path: path, limit: count, chunkSize: count) else { return [] }
        guard case .success(let bytes?) = chunks.next() else { return [] }
        return bytes
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

    static func errorText() -> String {
        String(cString: strerror(errno))
    }

    /// `512 MiB`, or the byte count when it is not a whole number of MiB.
    static func describe(_ size: Int) -> String {
        size >= 1 << 20 && size % (1 << 20) == 0 ? "\(size >> 20) MiB" : "\(size) bytes"
    }
}

extension BoundedReader.Problem {
    /// The problem as a diagnostic on the file as a whole.
    func diagnostic(file: String) -> Diagnostic {
        Diagnostic(at: SourceLocation(file: file, line: 0, column: 0), object: nil, field: "", reason: description)
    }
}

/// A file read front to back in chunks of a fixed size, so that no more than one chunk of it is
/// held here at a time; fails once more than `limit` bytes have arrived (the file grew).
final class FileChunks {
    private let descriptor: Int32
    private let limit: Int
    private let chunkSize: Int
    private var total = 0

    init?(path: String, limit: Int, chunkSize: Int) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        self.limit = limit
        self.chunkSize = chunkSize
    }

    deinit { close(descriptor) }

    /// Reads the next chunk (shorter only at the end of the file) onto the end of `buffer`
    /// through one scratch buffer reused for every chunk, so no chunk is allocated and cleared;
    /// false at the end.
    func read(appendingTo buffer: inout [UInt8]) -> Result<Bool, BoundedReader.Problem> {
        if scratch.isEmpty { scratch = [UInt8](repeating: 0, count: chunkSize) }
        switch fill(&scratch) {
        case .failure(let problem): return .failure(problem)
        case .success(0): return .success(false)
        case .success(let filled):
            scratch.withUnsafeBufferPointer { buffer.append(contentsOf: $0[..<filled]) }
            return .success(true)
        }
    }

    private var scratch: [UInt8] = []

    /// The next chunk (shorter only at the end of the file), nil at the end.
    func next() -> Result<[UInt8]?, BoundedReader.Problem> {
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        switch fill(&chunk) {
        case .failure(let problem): return .failure(problem)
        case .success(0): return .success(nil)
        case .success(let filled):
            chunk.removeLast(chunkSize - filled)
            return .success(chunk)
        }
    }

    /// Reads up to one chunk into the start of `chunk` (at least `chunkSize` bytes long), retrying
    /// interrupted reads: how many bytes arrived, 0 at the end; fails past `limit` bytes in all.
    private func fill(_ chunk: inout [UInt8]) -> Result<Int, BoundedReader.Problem> {
        var filled = 0
        while filled < chunkSize {
            let got = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress! + filled, chunkSize - filled) }
            if got < 0 {
                if errno == EINTR { continue }
                return .failure(.unreadable(reason: BoundedReader.errorText()))
            }
            if got == 0 { break }
            filled += got
        }
        total += filled
        if total > limit { return .failure(.tooLarge(limit: limit)) }
        return .success(filled)
    }
}

/// The C library's `read`, named apart from `BoundedReader.read`.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}
