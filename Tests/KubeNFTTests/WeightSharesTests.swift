@testable import KubeNFTCompiler
import KubeManifest
import NFTRuleset
import Testing

/// Weighted backends with extreme weights: every endpoint of a group gets the same probability, and
/// the cascade's probabilities multiply out to the shares the weights ask for.
@Suite("weight shares")
struct WeightSharesTests {
    /// One group member or other in the cascade order given: `pattern` names the group of each address.
    static func backends(_ pattern: String) -> [(Backend, String)] {
        pattern.enumerated().map { offset, group in
            (ServiceCompilerUnitTests.backend(UInt8(offset + 1)), String(group))
        }
    }

    /// What the weights ask for, computed from the weights alone: a group's weight over the total
    /// of the groups present, split equally between its members.
    static func intended(_ weights: [String: Double], _ groups: [String]) -> [Double] {
        let counts = Dictionary(groups.map { ($0, 1.0) }, uniquingKeysWith: +)
        let total = counts.keys.reduce(0) { $0 + (weights[$1] ?? 0) }
        return groups.map { (weights[$0] ?? 0) / total / (counts[$0] ?? 1) }
    }

    /// Probability of each backend under the cascade computed by the code: thresholds of the kept
    /// backends, zero for the left-out ones.
    static func effective(_ shares: [WeightedBackend]) -> [Backend: Double] {
        let kept = ShareCalculator.representable(shares).kept
        let probabilities = ServiceCompilerUnitTests.effectiveProbabilities(ShareCalculator.thresholds(kept))
        var result = Dictionary(uniqueKeysWithValues: shares.map { ($0.backend, 0.0) })
        for (weighted, probability) in zip(kept, probabilities) { result[weighted.backend] = probability }
        return result
    }

    static func check(annotation: String, pattern: String) throws {
        let weights = Dictionary(uniqueKeysWithValues: try annotation.split(separator: ",").map { entry in
            let parts = entry.split(separator: ":")
            return (String(parts[0].split(separator: "=")[1]), try #require(Double(parts[1])))
        })
        let spec = try WeightSpec.parse(annotation).get()
        let members = Self.backends(pattern)
        let labels = Dictionary(uniqueKeysWithValues: members.map { ($0.0.pod!, ["g": $0.1]) })
        let shares = ShareCalculator.shares(for: members.map(\.0), weights: spec) { labels[$0.pod!] }.shares
        let probabilities = Self.effective(shares)
        let intended = Self.intended(weights, members.map(\.1))
        let resolution = 1.0 / Double(ShareCalculator.modulus)
        for ((backend, group), wanted) in zip(members, intended) {
            let got = try #require(probabilities[backend])
            #expect(abs(got - wanted) <= Double(members.count) * resolution, "\(annotation) \(pattern): \(backend.label) in \(group) got \(got), wanted \(wanted)")
        }
        #expect(abs(probabilities.values.reduce(0, +) - 1) < 1e-9)
        for group in Set(members.map(\.1)) {
            let values = members.filter { $0.1 == group }.map { probabilities[$0.0] ?? -1 }
            // Either every member of a group gets traffic or none does, and all get the same share
            // to within the cascade's resolution.
            #expect(values.allSatisfy { $0 == 0 } || values.allSatisfy { $0 > 0 }, "\(annotation) \(pattern): group \(group) got \(values)")
            #expect((values.max() ?? 0) - (values.min() ?? 0) <= 2 * resolution, "\(annotation) \(pattern): group \(group) got \(values)")
        }
        // Members of one group have the very same exact share.
        for group in Set(members.map(\.1)) {
            #expect(Set(shares.filter { labels[$0.backend.pod!]?["g"] == group }.map(\.fraction)).count <= 1)
        }
    }

    @Test("tiny and huge groups, members interleaved in the cascade", arguments: [
        ("g=a:1,g=b:999999", "abababa"), ("g=a:1,g=b:999999", "aaabbbb"), ("g=a:1,g=b:999999", "bbbbaaa"),
        ("g=a:1,g=b:999999", "ab"), ("g=a:1,g=b:999999", "ba"), ("g=a:3,g=b:999997", "babab"),
        ("g=a:1,g=b:499999,g=c:500000", "abcabcabc"), ("g=a:1,g=b:1,g=c:999998", "cacbcacbc"),
        ("g=a:70,g=b:20,g=c:10", "abcab"), ("g=a:999999,g=b:999999", "abababab"),
    ])
    func extremeWeights(_ annotation: String, _ pattern: String) throws {
        try Self.check(annotation: annotation, pattern: pattern)
    }

    @Test("random weights and group sizes", arguments: 1...30)
    func randomWeights(seed: Int) throws {
        var generator = SeededGenerator(seed: UInt64(seed) + 900)
        let groupCount = Int.random(in: 1...4, using: &generator)
        let names = ["a", "b", "c", "d"].prefix(groupCount)
        let annotation = names.map { "g=\($0):\([1, 2, 3, 999_999, Int.random(in: 1...999_999, using: &generator)].randomElement(using: &generator)!)" }
            .joined(separator: ",")
        var pattern = names.joined()
        for _ in 0..<Int.random(in: 0...12, using: &generator) { pattern.append(names.randomElement(using: &generator)!) }
        try Self.check(annotation: annotation, pattern: String(pattern.shuffled(using: &generator)))
    }

    static let manifests = """
    apiVersion: v1
    kind: Service
    metadata:
      name: api
      namespace: wt
      annotations:
        kubenft.io/weights: "g=a:1,g=b:999999"
    spec:
      clusterIP: 10.96.0.20
      ports:
      - {name: http, port: 80, protocol: TCP}
    ---
    apiVersion: discovery.k8s.io/v1
    kind: EndpointSlice
    metadata:
      name: api-1
      namespace: wt
      labels: {kubernetes.io/service-name: api}
    addressType: IPv4
    ports:
    - {name: http, port: 8080, protocol: TCP}
    endpoints:
    """

    @Test("the compiled cascade gives a tiny group nothing, with a warning naming the Service and the annotation")
    func compiledCascade() throws {
        let groups = Array("abababa")
        var text = Self.manifests
        for index in groups.indices {
            text += "\n- {addresses: [10.244.0.\(index + 1)], conditions: {ready: true}, targetRef: {kind: Pod, namespace: wt, name: p\(index)}}"
        }
        for (index, group) in groups.enumerated() {
            text += "\n---\n{apiVersion: v1, kind: Pod, metadata: {name: p\(index), namespace: wt, labels: {g: \(group)}},"
                + " status: {podIP: 10.244.0.\(index + 1)}}"
        }
        let loaded = ManifestLoader.load([ManifestSource(name: "w.yaml", bytes: Array(text.utf8))])
        #expect(loaded.diagnostics == [])
        let compiled = KubeNFTCompiler.compile(loaded.cluster, context: NodeContext())
        let warnings = compiled.diagnostics.filter { $0.severity == .warning }
        #expect(warnings.count == 1)
        let warning = try #require(warnings.first)
        #expect(warning.object == "Service wt/api")
        #expect(warning.field == "metadata.annotations[kubenft.io/weights]")
        #expect(warning.reason.contains("group g=a"))
        #expect(warning.location.line == 7)
        // Walk the cascade: each rule is reached with what the earlier ones left, and takes its
        // threshold's fraction of that (all of it without a threshold).
        let chain = try #require(compiled.ruleset.chains.first { $0.name.hasPrefix("svc4-") })
        var reach = 1.0
        var probability: [String: Double] = [:]
        for rule in chain.rules {
            var take = 1.0
            var target: String?
            for statement in rule.statements {
                if case .match(.randomNumber(let modulus, _), .lessThan, .value(.integer(let threshold))) = statement {
                    take = Double(threshold) / Double(modulus)
                }
                if case .dnat(_, .endpoint(let address, _)) = statement { target = address.description }
            }
            guard let target else { continue }
            probability[target, default: 0] += reach * take
            reach *= 1 - take
        }
        let countB = Double(groups.filter { $0 == "b" }.count)
        for (index, group) in groups.enumerated() {
            let got = probability["10.244.0.\(index + 1)"] ?? 0
            if group == "a" {
                #expect(got == 0, "10.244.0.\(index + 1) in the tiny group got \(got)")
            } else {
                #expect(abs(got - 1 / countB) < 1e-5, "10.244.0.\(index + 1) got \(got)")
            }
        }
    }
}
