@testable import KubeManifest
import Testing

/// The decoding shortcuts that read from a tree's bytes must give what the String-based paths
/// give: the byte IPv4 parser against `IPAddress(String)`, and the tree's duplicate-key check and
/// key lookup against a plain scan of each mapping's keys as Strings.
@Suite("Decoding fast paths")
struct DecodingFastPathTests {
    static let edgeAddresses = [
        "", ".", "..", "...", "....", "0", "00", "0.0.0.0", "00.0.0.0", "0.0.0.00", "1.2.3.4", "01.2.3.4",
        "1.02.3.4", "1.2.3.04", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2..3.4", "1.2.3", "1.2.3.4.5",
        "255.255.255.255", "256.0.0.0", "0.0.0.256", "999.1.1.1", "1.1.1.999", "1000.1.1.1", "2555.1.1.1",
        "10.128.0.1", "10.128.0.10", "192.168.50.11", "127.0.0.1", "100.64.0.0", "1.2.3.4444",
        "000.0.0.0", "0.0.0.0000", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n", "1.2.3.4\t", "1.2.3.4\0", "1.2.3.4/8",
        "1.2.3.-4", "+1.2.3.4", "1.2.3.0x4", "0x1.2.3.4", "1.2.3.a", "１.2.3.4", "1.2.3.4%eth0",
        "::", "::1", "1::", "::ffff:1.2.3.4", "fe80::1%eth0", "2001:db8::1", "2001:0db8:0000::1",
        "1.2.3.4::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "12345::1", "::1.2.3.04",
        "111.111.111.111", "1111.111.111.11", "11.111.111.1111", "1.1.1.1.1.1.1.1.1.1.1.1",
        "25.5.2.55", "2.55.255.255", "249.250.251.252", "253.254.255.256",
    ]

    @Test("the byte IPv4 parser agrees with IPAddress(String) on edge and generated text")
    func dottedQuadAgrees() {
        var generator = SeededGenerator(seed: 12)
        let alphabet = Array("0123456789.") + ["5", "2", "0", ".", "1"]
        var cases = Self.edgeAddresses
        for _ in 0..<600 {
            let length = Int.random(in: 0...17, using: &generator)
            cases.append(String((0..<length).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for _ in 0..<600 {
            // Four octets each of 0 to 3 digits, some out of range or with a leading zero.
            let octets = (0..<[3, 4, 4, 4, 4, 5].randomElement(using: &generator)!).map { _ -> String in
                switch Int.random(in: 0..<12, using: &generator) {
                case 0: return ""
                case 1: return "0" + String(Int.random(in: 0...99, using: &generator))
                default: return String(Int.random(in: 0...300, using: &generator))
                }
            }
            cases.append(octets.joined(separator: "."))
        }
        var accepted = 0
        for text in cases {
            let bytes = Array(text.utf8)
            let fast = bytes.withUnsafeBufferPointer { IPAddress(dottedQuad: $0) }
            let onlyDigitsAndDots = bytes.allSatisfy { $0 == UInt8(ascii: ".") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            if onlyDigitsAndDots {
                #expect(fast == IPAddress(text), "\(text.debugDescription)")
            } else {
                // Anything else is left to IPAddress(String).
                #expect(fast == nil, "\(text.debugDescription)")
            }
            if fast != nil { accepted += 1 }
        }
        #expect(accepted > 100, "too few generated addresses were valid to show much")
    }

    @Test("an address with a NUL byte is refused, not read up to the NUL", arguments: ["10.128.0.9\0", "10.128.0.9\0junk", "::1\0", "fd00::1\0:2"])
    func addressWithNUL(_ text: String) {
        #expect(IPAddress(text) == nil)
        #expect(CIDR(text + "/32") == nil)
    }

    /// Mappings of keys drawn from a small set of look-alikes (same length, same first and last
    /// bytes, differing in the middle), so both the quick bucket test and the pairwise check run.
    static func generatedMappings(seed: UInt64, count: Int) -> String {
        var generator = SeededGenerator(seed: seed)
        let keys = ["a", "b", "ab", "ba", "aab", "abb", "aXb", "name", "nbme", "namespace", "labels", "lab",
                    "uid", "uad", "ownerReferences", "resourceVersion", "ownerReferencex", "k1", "k2", "\"a\"",
                    "\"name\"", "'uid'", "key with spaces", "key with spades", "x"]
        var text = ""
        for document in 0..<count {
            text += "---\nkind: M\nindex: \(document)\n"
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                text += "m\(Int.random(in: 0..<1000, using: &generator)):\n"
                let size = Int.random(in: 1...(Bool.random(using: &generator) ? 6 : 16), using: &generator)
                for _ in 0..<size { text += "  \(keys.randomElement(using: &generator)!): v\n" }
            }
        }
        return text
    }

    /// Each key that repeats an earlier one of its mapping, found by comparing the keys as Strings.
    static func expectedDuplicates(_ tree: NodeTree) -> [String] {
        var result: [String] = []
        for (index, node) in tree.nodes.enumerated() where node.kind == .mapping {
            var earlier: [(key: Int32, text: String)] = []
            for (key, _) in tree.entries(Int32(index)) where tree.node(key).kind == .scalar {
                let text = tree.string(key)
                if let first = earlier.first(where: { $0.text == text }) { result.append("\(key)/\(first.key)/\(index)") }
                earlier.append((key, text))
            }
        }
        return result.sorted()
    }

    @Test("duplicate keys are exactly those a String comparison finds")
    func duplicateKeysAgree() {
        let text = Self.generatedMappings(seed: 7, count: 400)
        let tree = YAMLReader.read(Array(text.utf8), name: "m.yaml", lineOffset: 0)
        #expect(tree.diagnostics.isEmpty)
        let found = tree.duplicateKeys.map { "\($0.key)/\($0.first)/\($0.mapping)" }.sorted()
        let expected = Self.expectedDuplicates(tree)
        #expect(expected.count > 50, "too few duplicates generated to show much")
        #expect(found == expected)
        // A mapping is marked when (and only when) some key of it repeats.
        let marked = Set(tree.nodes.indices.filter { tree.nodes[$0].kind == .mapping && tree.nodes[$0].quoted })
        #expect(marked == Set(tree.duplicateKeys.map { Int($0.mapping) }))
    }

    @Test("looking up a key finds the value of its last occurrence, as a scan of the entries does")
    func valueLookupAgrees() {
        let text = Self.generatedMappings(seed: 8, count: 200)
        let tree = YAMLReader.read(Array(text.utf8), name: "m.yaml", lineOffset: 0)
        let probes: [StaticString] = ["a", "ab", "aXb", "name", "namespace", "uid", "ownerReferences", "a\"", "key with spaces", "m", "x", "kind"]
        var hits = 0
        for (index, node) in tree.nodes.enumerated() where node.kind != .scalar {
            for probe in probes {
                var expected: Int32?
                if node.kind == .mapping {
                    for (key, value) in tree.entries(Int32(index)) where tree.node(key).kind == .scalar && tree.string(key) == probe.description {
                        expected = value
                    }
                }
                #expect(tree.value(Int32(index), probe) == expected, "mapping \(index) key \(probe)")
                if expected != nil { hits += 1 }
            }
        }
        #expect(hits > 200)
    }

    @Test("addresses in manifests: accepted and refused as before, with the same messages")
    func manifestAddresses() {
        let yaml = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: ns}
        spec: {containers: [{name: c}]}
        status:
          podIPs:
          - ip: 10.0.0.1
          - ip: "10.0.0.2"
          - ip: 010.0.0.3
          - ip: 10.0.0.256
          - ip: 10.0.0.4.
          - ip: "fd00::1"
          - ip: 10.0.0.5 x
          - ip: 10.1
          - ip: 1.5
          - ip: 7
        """
        let result = loadManifests(yaml)
        #expect(diagnosticLines(result) == [
            "m.yaml:9:9: Pod ns/p: status.podIPs[2].ip: invalid IP address \"010.0.0.3\"",
            "m.yaml:10:9: Pod ns/p: status.podIPs[3].ip: invalid IP address \"10.0.0.256\"",
            "m.yaml:11:9: Pod ns/p: status.podIPs[4].ip: invalid IP address \"10.0.0.4.\"",
            "m.yaml:13:9: Pod ns/p: status.podIPs[6].ip: invalid IP address \"10.0.0.5 x\"",
            "m.yaml:14:9: Pod ns/p: status.podIPs[7].ip: expected a string, got 10.1 (unquoted, 10.1 is a number, and the API server refuses a number here; quote it: \"10.1\")",
            "m.yaml:15:9: Pod ns/p: status.podIPs[8].ip: expected a string, got 1.5 (unquoted, 1.5 is a number, and the API server refuses a number here; quote it: \"1.5\")",
            "m.yaml:16:9: Pod ns/p: status.podIPs[9].ip: expected a string, got 7 (unquoted, 7 is a number, and the API server refuses a number here; quote it: \"7\")",
        ])
    }

    @Test("fields that are only type-checked report a non-string as before")
    func typeCheckedStrings() {
        let yaml = """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: s
          namespace: ns
          labels: {kubernetes.io/service-name: svc}
        addressType: IPv4
        endpoints:
        - addresses: [10.0.0.1]
          targetRef: {kind: Pod, name: p, uid: 5, apiVersion: true, resourceVersion: [a], fieldPath: {a: b}}
        - addresses: [10.0.0.2]
          targetRef: {kind: Pod, name: q, uid: "5", apiVersion: ~, resourceVersion: '', fieldPath: 1.5}
        ports:
        - {name: http, port: 80, appProtocol: 0x1F}
        - {name: dns, port: 53, appProtocol: on}
        """
        #expect(diagnosticLines(loadManifests(yaml)) == [
            "m.yaml:10:40: EndpointSlice ns/s: endpoints[0].targetRef.uid: expected a string, got 5 (unquoted, 5 is a number, and the API server refuses a number here; quote it: \"5\")",
            "m.yaml:10:55: EndpointSlice ns/s: endpoints[0].targetRef.apiVersion: expected a string, got true (unquoted, true is a boolean, and the API server refuses a boolean here; quote it: \"true\")",
            "m.yaml:10:78: EndpointSlice ns/s: endpoints[0].targetRef.resourceVersion: expected a string, got a list",
            "m.yaml:10:94: EndpointSlice ns/s: endpoints[0].targetRef.fieldPath: expected a string, got a mapping",
            "m.yaml:12:92: EndpointSlice ns/s: endpoints[1].targetRef.fieldPath: expected a string, got 1.5 (unquoted, 1.5 is a number, and the API server refuses a number here; quote it: \"1.5\")",
            "m.yaml:15:38: EndpointSlice ns/s: ports[1].appProtocol: expected a string, got on (unquoted, on is a boolean, and the API server refuses a boolean here; quote it: \"on\")",
        ])
    }
}
