import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LabKit
import Testing

/// `compile -o` against what may already be at the path: regular files are replaced atomically with
/// their mode kept, device nodes and FIFOs are written in place, symbolic links are refused unless
/// `--follow-symlinks` is given. Everything happens in a temporary directory.
@Suite("compile -o and existing paths")
struct OutputFileTests {
    static func compile(to path: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        let demo = try CLITests.fixture("demo")
        return try CLITests.run(["compile", "-f", demo.manifests, "-o", path] + extra + demo.arguments)
    }

    static func expected() throws -> String {
        try String(contentsOfFile: try CLITests.fixture("demo").file("expected.nft"), encoding: .utf8)
    }

    static func kind(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : nil
    }

    static func mode(_ path: String) -> mode_t? {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & 0o7777 : nil
    }

    @Test("a regular file is replaced with the ruleset and keeps its mode; no temporary file is left")
    func regularFileKeepsMode() throws {
        let directory = try OutputCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.nft"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(chmod(path, 0o640) == 0)
        let result = try Self.compile(to: path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == Self.expected())
        #expect(Self.kind(path) == S_IFREG)
        #expect(Self.mode(path) == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.nft"])
    }

    @Test("a FIFO is written in place, not replaced")
    func fifoWrittenInPlace() throws {
        let directory = try OutputCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/pipe"
        #expect(mkfifo(path, 0o600) == 0)
        // Hold a reader open so the writer does not block, and drain concurrently so a ruleset
        // larger than the pipe buffer cannot stall it.
        let reader = open(path, O_RDONLY | O_NONBLOCK)
        try #require(reader >= 0)
        let received = ReceivedBytes()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            var sawWriter = false
            while true {
                let count = read(reader, &buffer, buffer.count)
                if count > 0 { received.append(buffer[0..<count]); sawWriter = true; continue }
                if count == 0 && sawWriter { break }
                if count == 0 && received.finished { break }
                usleep(2_000)
            }
            close(reader)
            done.signal()
        }
        let result = try Self.compile(to: path)
        received.finished = true
        done.wait()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.kind(path) == S_IFIFO)
        #expect(String(decoding: received.bytes, as: UTF8.self) == (try Self.expected()))
    }

    @Test("a character device made with mknod is written in place, not replaced")
    func characterDeviceWrittenInPlace() throws {
        guard geteuid() == 0 else {
            if Environment.isCI { Issue.record("needs root to mknod (CI=true)") } else { print("character device test skipped: needs root") }
            return
        }
        let directory = try OutputCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/null"
        // The null device's numbers (1, 3), as a new node inside the temporary directory.
        try Kernel.run(["mknod", "-m", "666", path, "c", "1", "3"])
        let result = try Self.compile(to: path)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.kind(path) == S_IFCHR)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["null"])
    }

    @Test("a symbolic link is refused with exit 2, and followed only with --follow-symlinks")
    func symbolicLink() throws {
        let directory = try OutputCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = directory + "/target", link = directory + "/link"
        try "keep".write(toFile: target, atomically: false, encoding: .utf8)
        #expect(chmod(target, 0o600) == 0)
        #expect(symlink(target, link) == 0)
        let refused = try Self.compile(to: link)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("symbolic link") && refused.stderr.contains("--follow-symlinks"), "\(refused.stderr)")
        #expect(Self.kind(link) == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep")
        let followed = try Self.compile(to: link, ["--follow-symlinks"])
        #expect(followed.status == 0, "\(followed.stderr)")
        #expect(Self.kind(link) == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8) == Self.expected())
        #expect(Self.mode(target) == 0o600)
    }

    @Test("a directory is refused with exit 2")
    func directoryRefused() throws {
        let directory = try OutputCommandTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.compile(to: directory)
        #expect(result.status == 2)
        #expect(Self.kind(directory) == S_IFDIR)
    }
}

/// Bytes collected by the FIFO reader thread.
private final class ReceivedBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [UInt8] = []
    private var isFinished = false

    var bytes: [UInt8] { lock.withLock { storage } }
    var finished: Bool {
        get { lock.withLock { isFinished } }
        set { lock.withLock { isFinished = newValue } }
    }

    func append(_ slice: ArraySlice<UInt8>) { lock.withLock { storage += slice } }
}
