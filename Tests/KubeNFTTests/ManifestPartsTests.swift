import Foundation
@testable import KubeManifest
import Testing

/// Large YAML files are read in parts on a second thread; the result must be exactly that of a
/// whole-file read, diagnostics and line numbers included.
@Suite("Manifest reading in parts")
struct ManifestPartsTests {
    static func concatenated(_ fixture: String) throws -> ManifestSource {
        let directory = Fixtures.root + "/" + fixture + "/manifests"
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
        let text = try files.map { try String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }.joined(separator: "\n---\n")
        return ManifestSource(name: "all.yaml", bytes: Array(text.utf8))
    }

    @Test("parts split only at document starts and cover the file", arguments: [200, 1000, 5000])
    func partsCoverTheFile(size: Int) throws {
        let source = try Self.concatenated("demo")
        let parts = source.documentParts(size: size)
        #expect(parts.count > 1)
        #expect(parts.first?.range.lowerBound == 0 && parts.last?.range.upperBound == source.bytes.count)
        for (first, second) in zip(parts, parts.dropFirst()) {
            #expect(first.range.upperBound == second.range.lowerBound)
            #expect(Array(source.bytes[second.range.lowerBound..<second.range.lowerBound + 3]) == Array("---".utf8))
            let newlines = source.bytes[0..<second.range.lowerBound].filter { $0 == UInt8(ascii: "\n") }.count
            #expect(second.lineOffset == newlines)
        }
    }

    @Test("reading in parts gives the same cluster and diagnostics as a whole read", arguments: ["demo", "bad-ip", "dual-stack"])
    func partsMatchWholeRead(_ fixture: String) throws {
        let source = try Self.concatenated(fixture)
        let whole = ManifestLoader.load([source], options: LoadOptions(), partSize: source.bytes.count)
        let inParts = ManifestLoader.load([source], options: LoadOptions(), partSize: 300)
        #expect(whole.cluster == inParts.cluster)
        #expect(whole.diagnostics == inParts.diagnostics)
        #expect(!whole.cluster.services.isEmpty)
    }

    /// A file read in chunks smaller than a part (the feed's own, odd-sized ones, one byte) is cut
    /// where the whole bytes in memory are cut, with the same line offsets.
    @Test("a file read in small chunks is cut as in memory", arguments: [1, 7, 1000, YAMLPartFeed.chunkSize])
    func smallChunks(chunkSize: Int) throws {
        let demo = String(decoding: try Self.concatenated("demo").bytes, as: UTF8.self)
        let text = Array(repeating: demo, count: 8).joined(separator: "\n---\n")
        let size = 3000
        let memory = ManifestSource(name: "all.yaml", bytes: Array(text.utf8))
        let expected = memory.documentParts(size: size).map { (Array(memory.bytes[$0.range]), $0.lineOffset) }
        let (source, cleanup) = try StreamingIngestTests.fileSource(text, name: "all.yaml")
        defer { cleanup() }
        let feed = YAMLPartFeed(source, partSize: size, chunkSize: chunkSize)
        var parts: [([UInt8], Int)] = []
        while case .success(let part?) = feed.next() { parts.append((part.bytes, part.lineOffset)) }
        #expect(expected.count > 10)
        #expect(parts.map(\.0) == expected.map(\.0))
        #expect(parts.map(\.1) == expected.map(\.1))
    }
}
