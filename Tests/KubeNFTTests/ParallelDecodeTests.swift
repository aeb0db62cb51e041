import Foundation
@testable import KubeManifest
import Testing

/// Parts of a large input are decoded on several threads and merged in input order; the load
/// must give exactly what decoding the parts one after another gives: objects, diagnostics and
/// which of two clashing objects is reported.
@Suite("Parallel decoding")
struct ParallelDecodeTests {
    /// Every YAML manifest of a fixture, as one source.
    static func fixtureText(_ fixture: String) throws -> String? {
        let directory = Fixtures.root + "/" + fixture + "/manifests"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        let files = names.filter { $0.hasSuffix(".yaml") }.sorted()
        guard !files.isEmpty else { return nil }
        return try files.map { try String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }.joined(separator: "\n---\n")
    }

    /// Loads `text` in parts of `partSize` bytes with one thread and with several; both must agree.
    static func expectSameInParallel(_ text: String, name: String = "all.yaml", strict: Bool = false, partSize: Int = 300,
                                     fromFile: Bool = false,
                                     sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> LoadResult {
        var source = ManifestSource(name: name, bytes: Array(text.utf8))
        var cleanup: () -> Void = {}
        if fromFile { (source, cleanup) = try StreamingIngestTests.fileSource(text, name: name) }
        defer { cleanup() }
        let options = LoadOptions(strict: strict)
        let sequential = ManifestLoader.load([source], options: options, partSize: partSize, threads: 1)
        for threads in [2, 3] {
            let parallel = ManifestLoader.load([source], options: options, partSize: partSize, threads: threads)
            #expect(parallel.diagnostics.map(\.description) == sequential.diagnostics.map(\.description),
                    "\(threads) threads", sourceLocation: sourceLocation)
            #expect(parallel.cluster == sequential.cluster, "\(threads) threads", sourceLocation: sourceLocation)
        }
        return sequential
    }

    @Test("every fixture decodes in parallel as it does in sequence")
    func fixtures() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.root).sorted()
        var compared = 0
        for fixture in names {
            guard let text = try Self.fixtureText(fixture) else { continue }
            for strict in [false, true] {
                _ = try Self.expectSameInParallel(text, strict: strict)
            }
            compared += 1
        }
        #expect(compared > 20)
    }

    /// Large parts that each hold many kinds (proxy configurations, policies, workloads...), with
    /// every object defined twice: merging a part must keep each kind's objects apart, and drop
    /// exactly the second definitions, as a sequential read does.
    @Test("parts mixing every kind, each object twice, merge as in sequence")
    func mixedKindsTwice() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.root).sorted()
        let texts = try names.filter { !["malformed-yaml", "fuzz"].contains($0) }.compactMap { try Self.fixtureText($0) }
        let proxy = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n"
        let once = texts.joined(separator: "\n---\n" + proxy + "---\n")
        let result = try Self.expectSameInParallel(once + "\n---\n" + once, partSize: 4096)
        let single = ManifestLoader.load([ManifestSource(name: "once.yaml", bytes: Array(once.utf8))])
        #expect(result.cluster.proxyConfigurations.count == 2 * single.cluster.proxyConfigurations.count)
        #expect(result.cluster.services.count == single.cluster.services.count)
        #expect(result.cluster.pods.count == single.cluster.pods.count)
        #expect(result.cluster.workloads.count == single.cluster.workloads.count)
        #expect(!single.cluster.proxyConfigurations.isEmpty && !single.cluster.adminPolicies.isEmpty && !single.cluster.workloads.isEmpty)
        #expect(result.diagnostics.filter { $0.reason.hasPrefix("duplicate object") }.count > 100)
    }

    /// An object defined three times: both later definitions are reported against the first.
    @Test("every repeat of an object names its first definition")
    func thirdDefinition() throws {
        let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
        let text = [namespace, namespace, namespace].joined(separator: "---\n")
        let result = try Self.expectSameInParallel(text, partSize: 40)
        let duplicates = result.diagnostics.filter { $0.reason.hasPrefix("duplicate object") }
        #expect(duplicates.map(\.location.line) == [6, 11])
        #expect(duplicates.allSatisfy { $0.reason == "duplicate object, first defined at all.yaml:1:1" }, "\(duplicates)")
    }

    /// Objects that clash across parts: the same Service twice, one cluster IP claimed by two
    /// Services, kinds kubenft skips, unknown fields; the second of each clash is the one reported.
    static func clashing(count: Int) -> String {
        (0..<count).map { index -> String in
            let name = "svc-\(index % (count / 3))"
            switch index % 4 {
            case 0, 1:
                return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: \(name)-\(index % 4)
                  namespace: ns-\(index % 2)
                spec:
                  clusterIP: 10.96.0.\(index % 50 + 1)
                  ports:
                  - port: 80
                    bogus: \(index)
                """
            case 2:
                return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-\(index)\n"
            default:
                return """
                apiVersion: v1
                kind: Pod
                metadata:
                  name: pod-\(index % 40)
                  namespace: default
                spec:
                  nodeName: node-1
                status:
                  podIP: 10.128.0.\(index % 200 + 1)
                """
            }
        }.joined(separator: "\n---\n") + "\n"
    }

    @Test("clashes between objects of different parts are reported on the later one", arguments: [false, true])
    func clashesAcrossParts(strict: Bool) throws {
        let result = try Self.expectSameInParallel(Self.clashing(count: 400), strict: strict, partSize: 500)
        #expect(result.diagnostics.contains { $0.reason.hasPrefix("duplicate object, first defined at") })
        #expect(result.diagnostics.contains { $0.reason.contains("is already used by Service") })
        #expect(result.diagnostics.contains { $0.reason.contains("\"ConfigMap\"") && $0.reason.contains("100 objects skipped") })
    }

    @Test("nothing after the first part with a syntax error is decoded")
    func syntaxErrorStopsTheRead() throws {
        var documents = Self.clashing(count: 300).components(separatedBy: "\n---\n")
        documents[150] = "apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n"
        documents[250] = "kind: Service\n  bad: indentation\n"
        let result = try Self.expectSameInParallel(documents.joined(separator: "\n---\n"), partSize: 400, fromFile: true)
        let line = { (index: Int) in documents[..<index].joined(separator: "\n---\n").split(separator: "\n", omittingEmptySubsequences: false).count }
        #expect(result.errors.contains { $0.location.line >= line(150) && $0.location.line <= line(152) })
        #expect(result.diagnostics.allSatisfy { $0.location.line < line(200) })
    }

    @Test("the generated kubectl-style cluster decodes in parallel as in sequence", arguments: [false, true])
    func generatedFromFile(strict: Bool) throws {
        let text = Self.clashing(count: 900)
        _ = try Self.expectSameInParallel(text, strict: strict, partSize: 2000, fromFile: true)
    }

    @Test("JSON lists and arrays decode in parallel batches as in sequence",
          arguments: ["list", "strict", "syntax-error", "cut", "typed", "items-twice", "arrays", "then-object"])
    func json(_ variant: String) throws {
        let list = StreamingIngestTests.list
        let objects = (0..<700).map { StreamingIngestTests.item($0, indent: "  ") }
        let array = "[\n" + objects.joined(separator: ",\n") + "\n]\n"
        let text = switch variant {
        case "syntax-error": list(900, "List", false, ",\n    \"oops\": [1, 2,, 3]")
        case "cut": String(list(900, "List", false, "").prefix(150_000))
        case "typed": list(600, "Pod", false, "")
        case "items-twice": list(600, "List", true, "")
        case "arrays": array + list(400, "List", false, "") + array
        // A top-level object after the array that redefines the array's last Service.
        case "then-object": array + StreamingIngestTests.item(693, indent: "")
        default: list(1000, "List", false, "")
        }
        let result = try Self.expectSameInParallel(text, name: "list.json", strict: variant == "strict", partSize: 256, fromFile: true)
        #expect(!result.diagnostics.isEmpty)
        if variant == "list" || variant == "arrays" { #expect(result.cluster.services.count > 50) }
        if variant == "then-object" { #expect(result.errors.contains { $0.reason.hasPrefix("duplicate object") }) }
    }

    /// Decodes every document of `text` straight into `sink` (a part sink parks them for `merge`).
    static func decode(_ text: String, name: String, into sink: LoadSink) {
        let tree = YAMLReader.read(Array(text.utf8), name: name, lineOffset: 0)
        for document in tree.documents { ManifestLoader.decodeDocument(document, in: tree, sink: sink) }
    }

    /// `merge` moves a part's objects into the load's lists: the result, including which of two
    /// definitions is kept, and the diagnostics naming the first, must be that of decoding the
    /// part's documents (rejected ones too) straight into the load's sink, also when the load
    /// already holds some of them.
    @Test("a merged part's objects are those decoded in place, with every kind and its duplicates")
    func mergeMovesAsDecodedInPlace() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixtures.root).sorted()
        let texts = try names.filter { !["malformed-yaml", "fuzz"].contains($0) }.compactMap { try Self.fixtureText($0) }
        let proxy = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\n"
        let first = texts.prefix(texts.count / 2).joined(separator: "\n---\n")
        let all = texts.joined(separator: "\n---\n" + proxy + "---\n")
        let options = LoadOptions()
        let direct = LoadSink(options: options), merged = LoadSink(options: options)
        for sink in [direct, merged] { Self.decode(first, name: "first.yaml", into: sink) }
        let part = LoadSink.part(options: options)
        Self.decode(all + "\n---\n" + all, name: "part.yaml", into: part)
        Self.decode(all + "\n---\n" + all, name: "part.yaml", into: direct)
        merged.merge(part)
        #expect(merged.cluster == direct.cluster)
        // A load sorts its diagnostics at the end (a part's own come in ahead of its claims' here).
        #expect(merged.diagnostics.sorted().map(\.description) == direct.diagnostics.sorted().map(\.description))
        #expect(direct.diagnostics.filter { $0.reason.hasPrefix("duplicate object") }.count > 100)
        #expect(!direct.cluster.proxyConfigurations.isEmpty && !direct.cluster.workloads.isEmpty && !direct.cluster.pods.isEmpty)
        // Merging the emptied part again adds nothing.
        merged.merge(part)
        #expect(merged.cluster == direct.cluster)
    }

    /// After the first part of a large source, each list that grew gets room for the projected
    /// rest of the source at once; a list that did not grow is left alone.
    @Test("the load's lists are reserved from the first part's growth")
    func listsReservedFromFirstPart() {
        let pods = (0..<30).map { "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\($0)\n  namespace: shop\n" }
        let part = LoadSink.part(options: LoadOptions()), sink = LoadSink(options: LoadOptions())
        Self.decode(pods.joined(separator: "---\n"), name: "pods.yaml", into: part)
        let before = sink.listCounts
        sink.merge(part)
        sink.reserveLists(grownSince: before, scale: 10)
        #expect(sink.cluster.pods.count == 30)
        #expect(sink.cluster.pods.capacity >= 30 + 300)
        #expect(sink.cluster.services.capacity == 0 && sink.cluster.namespaces.capacity == 0)
    }
}
