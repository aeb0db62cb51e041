import Foundation
import KubeNFT
import NFTRuleset
import Testing
@testable import NFTNetlink

/// A NetworkPolicy edit that makes a rule use a peer set another policy already uses must stay an
/// incremental change: shared peer sets are named and described by their content, so which rule
/// uses a set first never changes its declaration (a set's declaration cannot change in place, so a
/// changed comment would force the whole table to be replaced).
@Suite("NetworkPolicy edits are planned incrementally")
struct PolicyChangePlanTests {
    static func policies(firstPeer: String) -> String {
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: a-first, namespace: x}
        spec:
          podSelector: {matchLabels: {pod: a}}
          ingress:
          - from:
            - podSelector: {matchLabels: {pod: \(firstPeer)}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: b-second, namespace: x}
        spec:
          podSelector: {matchLabels: {pod: b}}
          ingress:
          - from:
            - podSelector: {matchLabels: {pod: c}}
        """
    }

    static func compile(firstPeer: String) throws -> Ruleset {
        let directory = NSTemporaryDirectory() + "kubenft-policy-plan-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.policies(firstPeer: firstPeer).write(toFile: directory + "/policies.yaml", atomically: true, encoding: .utf8)
        let node = NodeOptions(arguments: (try String(contentsOfFile: GoldenCases.root + "/np-model/case.args", encoding: .utf8))
            .split(whereSeparator: \.isWhitespace).map(String.init), relativeTo: GoldenCases.root + "/np-model")
        let result = Pipeline.run(paths: [GoldenCases.root + "/np-model/manifests", directory + "/policies.yaml"], node: node)
        return try #require(result.ruleset, "\(result.errors.map(\.description))")
    }

    @Test("a peer selector changed to one another policy already uses is a small incremental batch", arguments: [false, true])
    func peerMovesToSharedSet(remembered: Bool) throws {
        let base = try Self.compile(firstPeer: "a")
        let changed = try Self.compile(firstPeer: "c")
        // The edit makes both policies use one set, which the second policy alone used before.
        let sharedBefore = base.sets.filter { $0.name.hasPrefix("np-addrs4-") }.map(\.name)
        let sharedAfter = changed.sets.filter { $0.name.hasPrefix("np-addrs4-") }.map(\.name)
        #expect(sharedAfter.count == 1 && sharedBefore.contains(sharedAfter[0]), "\(sharedBefore) → \(sharedAfter)")
        let fake = RecordingTransport()
        let applier = RulesetApplier(transport: fake)
        let first = try applier.apply(base)
        let outcome = try applier.apply(changed, previous: remembered ? first.state : nil)
        #expect(outcome.mode == .incremental, "\(outcome.operations.map(\.summary))")
        #expect(fake.tables["inet kubenft"] == changed)
        let messages = try #require(outcome.report?.messages)
        #expect(messages < 20, "\(messages) messages for \(outcome.operations.map(\.summary))")
    }
}
