import NetAddress
import NFTKernel
import NFTRuleset
import Testing
@testable import NFTNetlink

/// Each element carries its hash under the process's digest key; fingerprints under that key read
/// it instead of hashing. These tests hold the digest to the full hash through every kind of change.
@Suite("Element digests")
struct ElementDigestTests {
    /// The element hashed from its parts, as a fingerprint under another key would do it.
    private static func fullHash(_ element: SetElement) -> UInt64 {
        var hasher = StableHasher(key: SetElement.digestKey)
        hasher.combine(element)
        return hasher.finalize()
    }

    @Test("a digest follows every change to the key, the data and the comment")
    func digestFollowsChanges() throws {
        var element = SetElement(key: [.address(try IPAddressFixture.v4(1)), .proto("tcp"), .port(80)],
                                 data: .values([.address(try IPAddressFixture.v4(2)), .port(8080)]))
        var seen: Set<UInt64> = []
        func check(_ what: String) {
            #expect(element.digest == Self.fullHash(element), "\(what)")
            #expect(element.digest == SetElement(key: element.key, data: element.data, comment: element.comment).digest, "\(what)")
            #expect(seen.insert(element.digest).inserted, "\(what): the digest changed")
        }
        check("built")
        element.key[2] = .port(81)
        check("one key value replaced in place")
        element.key.append(.integer(3))
        check("key value appended")
        element.key = [.address(try IPAddressFixture.v4(9))]
        check("key replaced")
        element.data = .verdict(.goto("lb4-1"))
        check("data replaced by a verdict")
        element.data = .verdict(.jump("lb4-1"))
        check("verdict kind changed")
        element.data = nil
        check("data removed")
        element.comment = "ns/svc"
        check("comment added")
        element.comment?.append(":http")
        check("comment changed in place")
        element.comment = ""
        check("comment emptied (not the same as none)")
    }

    @Test("fingerprints read from digests equal fingerprints hashed in full")
    func fingerprintsAgree() throws {
        for (name, _, ruleset) in try RulesetDeltaTests.pairs() {
            var edited = ruleset
            // Elements changed after they were built, as a caller editing an IR would.
            for index in edited.sets.indices where !edited.sets[index].elements.isEmpty {
                edited.sets[index].elements[0].comment = "edited"
            }
            for candidate in [ruleset, edited] {
                let read = RulesetFingerprint(candidate, key: SetElement.digestKey)
                let hashed = RulesetFingerprint(candidate, key: SetElement.digestKey, digests: false)
                #expect(read == hashed, "\(name)")
                #expect(read.sets.map(\.elementHashes) == hashed.sets.map(\.elementHashes), "\(name)")
            }
        }
    }

    @Test("a new applied state is keyed with the digest key; one from a file keeps its own")
    func stateKeys() throws {
        let ruleset = try SyntheticCluster.compile(services: 5, endpoints: 2)
        let applier = RulesetApplier(transport: RecordingTransport())
        let first = try #require(try applier.apply(ruleset).state)
        #expect(first.fingerprint.key == SetElement.digestKey)
        var other = HashKey.random()
        while other == SetElement.digestKey { other = HashKey.random() }
        let foreign = RulesetFingerprint(ruleset, key: other)
        #expect(foreign.sets.map(\.elementHashes) != first.fingerprint.sets.map(\.elementHashes))
        let state = AppliedState(ruleset: ruleset, generation: first.generation, family: "inet", table: "kubenft",
                                 namespace: nil, fingerprint: foreign)
        let next = try #require(try applier.apply(ruleset, previous: state).state)
        #expect(next.fingerprint.key == other)
    }
}
