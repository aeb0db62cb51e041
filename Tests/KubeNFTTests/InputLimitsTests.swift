import Foundation
@testable import KubeManifest
import KubeNFTCompiler
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Hostile input must cost time and memory in proportion to its size, and no more than the limits:
/// many ports, aliases that multiply, files larger than the size limit, endless pipes.
@Suite("input limits")
struct InputLimitsTests {
    /// One Service with `count` ports; `duplicate` makes every port 80/TCP (an error on each one).
    static func service(ports count: Int, duplicate: Bool) -> String {
        var text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: big\n  namespace: default\n"
        text += "spec:\n  clusterIP: 10.96.0.10\n  ports:\n"
        let protocols = ["TCP", "UDP", "SCTP"]
        for index in 0..<count {
            let port = duplicate ? 80 : 1 + index % 65535
            let proto = duplicate ? "TCP" : protocols[(index / 65535) % 3]
            text += "  - name: p\(index)\n    port: \(port)\n    protocol: \(proto)\n"
        }
        return text
    }

    static func seconds(_ work: () -> Void) -> Double {
        let start = ContinuousClock.now
        work()
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Load (and, when valid, compile) time for `count` ports: the best of two runs.
    static func loadAndCompileTime(ports count: Int, duplicate: Bool) -> Double {
        let text = service(ports: count, duplicate: duplicate)
        var best = Double.infinity
        for _ in 0..<2 {
            best = min(best, seconds {
                let result = loadManifests(text)
                if duplicate {
                    #expect(result.errors.count == count - 1)
                } else {
                    #expect(!result.hasErrors)
                    let compiled = KubeNFTCompiler.compile(result.cluster, context: NodeContext(nodeName: "node-1"))
                    #expect(compiled.ruleset.sets.contains { !$0.elements.isEmpty })
                }
            })
        }
        return best
    }

    @Test("a Service with 100k ports loads and compiles in time linear in its size", arguments: [false, true])
    func manyPortsScaleLinearly(duplicate: Bool) {
        let small = Self.loadAndCompileTime(ports: 10_000, duplicate: duplicate)
        let large = Self.loadAndCompileTime(ports: 100_000, duplicate: duplicate)
        // Ten times the ports: linear work takes about ten times as long, quadratic a hundred.
        #expect(large / small < 20, "10k ports: \(small) s, 100k ports: \(large) s")
    }

    @Test("an error on every item of a long list is reported in time linear in the list")
    func manyItemErrorsScaleLinearly() {
        func time(_ count: Int) -> Double {
            let text = Self.service(ports: count, duplicate: false).replacingOccurrences(of: "protocol: TCP", with: "protocol: BAD")
            var best = Double.infinity
            for _ in 0..<2 {
                var result: LoadResult?
                best = min(best, Self.seconds { result = loadManifests(text) })
                #expect(result?.errors.count == min(count, 65535))
            }
            return best
        }
        let small = time(10_000), large = time(100_000)
        #expect(large / small < 20, "10k items: \(small) s, 100k items: \(large) s")
    }

    @Test("duplicate ports are reported with their field path")
    func duplicatePortPaths() {
        let result = loadManifests(Self.service(ports: 3, duplicate: true))
        #expect(diagnosticLines(result) == [
            "m.yaml:13:11: Service default/big: spec.ports[1].port: duplicate port 80/TCP, also spec.ports[0]",
            "m.yaml:16:11: Service default/big: spec.ports[2].port: duplicate port 80/TCP, also spec.ports[0]",
        ])
    }

    @Test("many small aliases within the budget are copied in linear time")
    func manySmallAliases() {
        // Aliases of a one-node anchor: one copy for 3 bytes of input, within the budget; no alias
        // may re-copy the whole tree.
        func time(aliases: Int) -> Double {
            let text = "kind: ConfigMap\ndata:\n  a: &a x\n  b: [" + Array(repeating: "*a", count: aliases).joined(separator: ",") + "]\n"
            var best = Double.infinity
            for _ in 0..<3 {
                var result: LoadResult?
                best = min(best, Self.seconds { result = loadManifests(text) })
                #expect(result?.errors == [], "the ConfigMap itself is only skipped with a warning")
            }
            return best
        }
        let small = time(aliases: 20_000), large = time(aliases: 200_000)
        #expect(large / small < 20, "20k aliases: \(small) s, 200k aliases: \(large) s")
    }

    @Test("a billion-laughs document fails fast, naming the file, line and alias")
    func billionLaughs() {
        var text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            text += "  a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        var result: LoadResult?
        let elapsed = Self.seconds { result = loadManifests(text, name: "laughs.yaml") }
        let errors = result?.errors ?? []
        #expect(errors.count == 1)
        // Levels 1-3 copy 110 + 1,110 + 11,110 nodes; each alias in level 4 copies a3's 11,111, so
        // the eighth (line 9, column 12 + 7 × 5) passes the 100,000 nodes a small input may copy.
        #expect(errors.first?.location == SourceLocation(file: "laughs.yaml", line: 9, column: 47))
        #expect(errors.first?.reason.hasPrefix("alias *a3 expands to too many nodes") == true)
        #expect(elapsed < 2, "took \(elapsed) s")
    }

    @Test("a sparse file far over the size limit is refused before it is read")
    func sparseFileRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-sparse-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("huge.yaml").path
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 6 << 30) == 0)
        let before = Self.peakResidentKB()
        var thrown: Error?
        let elapsed = Self.seconds {
            do { _ = try ManifestLoader.sources(paths: [path]) } catch { thrown = error }
        }
        let failure = try #require(thrown as? InputErrors)
        #expect(failure.description == "\(path):0:0: input larger than 512 MiB, not read")
        #expect(elapsed < 2, "took \(elapsed) s")
        #expect(Self.peakResidentKB() - before < 64 << 10, "peak RSS grew while refusing the file")
    }

    @Test("an endless pipe is read only up to the limit")
    func pipeStopsAtLimit() throws {
        signal(SIGPIPE, SIG_IGN)
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let limit = 1 << 20
        let writer = PipeWriter(descriptor: ends[1], total: 256 << 20)
        let thread = Thread { writer.run() }
        thread.start()
        let result = BoundedReader.read(descriptor: ends[0], limit: limit)
        close(ends[0])
        writer.done.wait()
        #expect(result == .failure(.tooLarge(limit: limit)))
        // Reading stopped right after the limit: the writer got no further than the limit, one
        // read chunk and what the pipe buffers.
        #expect(writer.written < limit + (4 << 20), "the writer wrote \(writer.written) bytes")
    }

    @Test("standard input over the limit is an error naming <stdin>; a small one is read whole")
    func standardInputLimit() throws {
        #expect(throws: InputErrors.self) {
            _ = try ManifestLoader.sources(paths: ["-"], limit: 10) { limit in
                BoundedReader.read(path: "/dev/zero", limit: limit)
            }
        }
        do {
            _ = try ManifestLoader.sources(paths: ["-"], limit: 10) { BoundedReader.read(path: "/dev/zero", limit: $0) }
        } catch let error as InputErrors {
            #expect(error.description == "<stdin>:0:0: input larger than 10 bytes, not read")
        }
        let small = try ManifestLoader.sources(paths: ["-"]) { Array("kind: Namespace".utf8) }
        #expect(small.map(\.bytes) == [Array("kind: Namespace".utf8)])
    }

    @Test("an in-memory source over the limit is refused by the loader")
    func inMemorySourceRefused() {
        let bytes = [UInt8](repeating: UInt8(ascii: " "), count: ManifestLoader.maximumSourceSize + 1)
        let result = ManifestLoader.load([ManifestSource(name: "big.yaml", bytes: bytes)])
        #expect(diagnosticLines(result) == ["big.yaml:0:0: input larger than 512 MiB, not read"])
    }

    static func peakResidentKB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

/// Writes up to `total` bytes into a pipe until the reader goes away.
private final class PipeWriter: @unchecked Sendable {
    let descriptor: Int32
    let total: Int
    private(set) var written = 0
    let done = DispatchSemaphore(value: 0)

    init(descriptor: Int32, total: Int) {
        self.descriptor = descriptor
        self.total = total
    }

    func run() {
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 64 << 10)
        while written < total {
            let count = chunk.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            written += count
        }
        close(descriptor)
        done.signal()
    }
}
