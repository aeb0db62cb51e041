import Foundation
@testable import KubeManifest
import Testing

/// Large files are read from disk in parts (YAML) or item by item (JSON lists and arrays); the
/// result must be exactly that of reading the same bytes whole: objects, diagnostics, positions.
@Suite("Streaming ingest")
struct StreamingIngestTests {
    /// Writes `text` to a fresh file and returns the file source the CLI would make of it.
    static func fileSource(_ text: String, name: String) throws -> (ManifestSource, cleanup: () -> Void) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let sources = try ManifestLoader.sources(paths: [path])
        let source = try #require(sources.first)
        guard case .file = source.storage else { throw CancellationError() }
        return (source, { try? FileManager.default.removeItem(at: directory) })
    }

    /// Loads `text` from a file in parts of `partSize` bytes and whole from memory; both must agree.
    static func expectSameAsWhole(_ text: String, name: String, strict: Bool = false, partSize: Int = 256,
                                  sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> LoadResult {
        let (source, cleanup) = try fileSource(text, name: name)
        defer { cleanup() }
        let options = LoadOptions(strict: strict)
        let streamed = ManifestLoader.load([source], options: options, partSize: partSize)
        let whole = ManifestLoader.load([ManifestSource(name: source.name, bytes: Array(text.utf8))], options: options,
                                        partSize: text.utf8.count + 1)
        #expect(streamed.diagnostics.map(\.description) == whole.diagnostics.map(\.description), sourceLocation: sourceLocation)
        #expect(streamed.cluster == whole.cluster, sourceLocation: sourceLocation)
        return streamed
    }

    /// Whether the JSON file `text` is streamed (true) or has to be read whole (false).
    static func streams(_ text: String) throws -> Bool {
        let (source, cleanup) = try fileSource(text, name: "probe.json")
        defer { cleanup() }
        return JSONStreamReader.decode(source, partSize: 256, sink: LoadSink(options: LoadOptions()))
    }

    /// One object of a kubectl-style JSON list; every fifth one has something to report.
    static func item(_ index: Int, indent: String) -> String {
        let name = "obj-\(index)"
        switch index % 7 {
        case 0:
            return """
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "\(name)", "namespace": "ns-\(index % 3)"},
            \(indent)"spec": {"clusterIP": "10.96.\(index / 200).\(index % 200 + 1)", "ports": [{"port": \(index % 5 == 0 ? "\"80\"" : "80"), "protocol": "TCP"}],
            \(indent)"selector": {"app": "\(name)"}}}
            """
        case 1:
            return """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "\(name)", "namespace": "default", "labels": {"app": "a\\u00e9\\n"}},
            \(indent)"spec": {"nodeName": "node-1", "containers": [{"name": "c", "ports": [{"containerPort": 8080, "name": "http"}]}]},
            \(indent)"status": {"podIP": "10.128.\(index / 200).\(index % 200 + 1)", "unknownField": true}}
            """
        case 2: return "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"\(name)\"}}"
        case 3: return "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"ns-\(index)\", \"name\": \"dup-\(index)\"}}"
        case 4: return index % 4 == 0 ? "null" : "[\(index)]"
        case 5: return "{\"metadata\": {\"name\": \"\(name)\"}}"
        default:
            return """
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            \(indent)"metadata": {"name": "\(name)", "namespace": "ns-1", "labels": {"kubernetes.io/service-name": "obj-\(index - 6)"}},
            \(indent)"endpoints": [{"addresses": ["10.128.9.\(index % 250 + 1)"], "conditions": {"ready": true}}],
            \(indent)"ports": [{"port": 8080, "protocol": "TCP"}]}
            """
        }
    }

    /// A `kind: List` as kubectl prints it: `items` before `kind`.
    static func list(count: Int, kind: String = "List", itemsTwice: Bool = false, tail: String = "") -> String {
        let items = (0..<count).map { "        " + item($0, indent: "        ") }.joined(separator: ",\n")
        let twice = itemsTwice ? "    \"items\": [],\n" : ""
        return "{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n\(items)\n    ],\n\(twice)    \"kind\": \"\(kind)\",\n"
            + "    \"metadata\": {\"resourceVersion\": \"\"}\(tail)\n}\n"
    }

    @Test("a kubectl List streamed item by item gives what a whole read gives")
    func listMatchesWholeRead() throws {
        #expect(try Self.streams(Self.list(count: 400)))
        let result = try Self.expectSameAsWhole(Self.list(count: 400), name: "list.json")
        #expect(result.cluster.services.count > 50 && result.cluster.pods.count > 50)
        #expect(result.diagnostics.count > 100)
        #expect(try Self.expectSameAsWhole(Self.list(count: 200), name: "list.json", strict: true).hasErrors)
    }

    @Test("a syntax error after many items names its line, and the list's items are not kept")
    func syntaxErrorAfterManyItems() throws {
        let text = Self.list(count: 300, tail: ",\n    \"oops\": [1, 2,, 3]")
        #expect(try Self.streams(text))
        let result = try Self.expectSameAsWhole(text, name: "list.json")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains("oops") })
        // The second comma of `,,` is the unexpected character.
        let column = try #require(lines[line].range(of: ",,")).lowerBound.utf16Offset(in: lines[line]) + 2
        let file = result.diagnostics.first?.location.file ?? ""
        #expect(result.diagnostics.map { $0.description } == ["\(file):\(line + 1):\(column): unexpected character ','"])
        // An unterminated file ends in the middle of an item.
        let cut = String(Self.list(count: 300).prefix(40_000))
        #expect(try Self.expectSameAsWhole(cut, name: "cut.json").diagnostics.count == 1)
    }

    @Test("lists that need the whole tree are read whole, with the same result",
          arguments: ["ServiceList", "NotAList", "kind-twice"])
    func listsReadWhole(_ variant: String) throws {
        let text: String
        switch variant {
        case "ServiceList":
            let items = (0..<100).map { "{\"metadata\": {\"name\": \"s\($0)\", \"namespace\": \"d\"}, \"spec\": {\"ports\": [{\"port\": 80}]}}" }
            text = "{\"apiVersion\": \"v1\", \"items\": [\n" + items.joined(separator: ",\n") + "\n], \"kind\": \"ServiceList\"}\n"
        case "NotAList": text = Self.list(count: 100, kind: "Pod")
        default: text = Self.list(count: 100, itemsTwice: true)
        }
        #expect(try !Self.streams(text))
        let result = try Self.expectSameAsWhole(text, name: "typed.json")
        if variant == "ServiceList" { #expect(result.cluster.services.count == 100) }
    }

    @Test("top-level arrays and several values in one file, pretty or on one line")
    func arraysAndStreams() throws {
        let objects = (0..<200).map { Self.item($0, indent: "  ") }
        let array = "[\n" + objects.joined(separator: ",\n") + "\n]\n"
        _ = try Self.expectSameAsWhole(array + Self.list(count: 120) + array, name: "many.json")
        let oneLine = Self.list(count: 250).replacingOccurrences(of: "\n", with: " ")
        _ = try Self.expectSameAsWhole(oneLine, name: "line.json")
        _ = try Self.expectSameAsWhole(oneLine.replacingOccurrences(of: "\"obj-240\"", with: "\"obj-240\\q\""), name: "line.json")
    }

    @Test("a large multi-document YAML file read in parts from disk gives what a whole read gives")
    func yamlFromDisk() throws {
        let documents = (0..<300).map { index in
            """
            apiVersion: v1
            kind: \(index % 3 == 0 ? "Service" : "ConfigMap")
            metadata:
              name: s-\(index)
              namespace: default # a comment sends this one to libyaml
            spec:
              clusterIP: 10.96.1.\(index % 250 + 1)
              ports:
              - port: \(index % 11 == 0 ? "\"80\"" : "80")
            """
        }
        var text = documents.joined(separator: "\n---\n")
        _ = try Self.expectSameAsWhole(text, name: "all.yaml")
        text += "\n---\nkind: [unclosed\n---\nkind: Namespace\n"
        let failed = try Self.expectSameAsWhole(text, name: "all.yaml")
        #expect(failed.hasErrors)
    }

    @Test("the JSON window holds a few chunks, not the file")
    func windowStaysSmall() throws {
        let text = Self.list(count: 2000)
        let (source, cleanup) = try Self.fileSource(text, name: "big.json")
        defer { cleanup() }
        guard case .file(let path, _) = source.storage else { return }
        let chunkSize = 4096
        let chunks = try #require(FileChunks(path: path, limit: 1 << 30, chunkSize: chunkSize))
        var items = 0, largestItem = 0
        let handler = JSONItemHandler(element: { tree, _ in
            items += 1
            largestItem = max(largestItem, tree.nodes.count)
        }, document: { _, _, _ in true })
        var parser = JSONParser(input: JSONWindow(chunks: chunks, chunkSize: chunkSize), tree: NodeTree(file: path))
        parser.streaming = handler
        parser.parseStream()
        let capacity = parser.input.capacity
        parser.input.deallocate()
        #expect(parser.tree.diagnostics.isEmpty)
        #expect(items == 2000)
        #expect(text.utf8.count > 50 * chunkSize)
        #expect(capacity <= 4 * chunkSize, "the window grew to \(capacity) bytes")
        #expect(parser.tree.nodes.count < 20, "the list's tree kept \(parser.tree.nodes.count) nodes")
        #expect(largestItem < 100)
    }
}
