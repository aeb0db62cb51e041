import CNftnl
import CNftnlShim
#if canImport(Glibc)
import Glibc
#endif
import NetAddress
import NFTKernel
import NFTRuleset
import Testing
@testable import NFTNetlink

/// The direct element encoder (`PackedElements` and `kubenft_nl_batch_add_packed_elements`) must
/// write exactly the messages libnftnl writes for the same elements: every attribute, nest,
/// length, padding, message split and sequence number.
@Suite("Packed set elements")
struct ElementPackingTests {
    /// The messages libnftnl writes for `set`'s elements: one libnftnl element object each,
    /// serialized by `kubenft_nl_batch_add_elements`.
    static func reference(_ set: NamedSet, id: UInt32?, adding: Bool) throws -> [UInt8] {
        let layout = try SetLayout(set)
        let elements = try ElementEncoder.encode(set, layout: layout)
        return try reference(elements, name: set.name, id: id, adding: adding, keyLength: layout.keyLength,
                             dataLength: layout.dataLength.map(Int.init))
    }

    static func reference(_ elements: [EncodedElement], name: String, id: UInt32?, adding: Bool, keyLength: Int,
                          dataLength: Int?) throws -> [UInt8] {
        let batch = try NetlinkBatch(firstSequence: 7)
        let object = try NftnlObjects.set(family: 1, table: "kubenft", name: name, id: id, layout: nil)
        defer { nftnl_set_free(object) }
        try NftnlObjects.addElements(elements, to: object, keyLength: keyLength, dataLength: dataLength)
        var first: UInt32 = 0, count: UInt32 = 0
        let type = UInt16((adding ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM).rawValue)
        try batch.check(kubenft_nl_batch_add_elements(batch.pointer, type, 1, adding ? BatchEncoder.createFlags : 0, object,
                                                      &first, &count), "reference")
        #expect(first == 7)
        return bytes(of: batch)
    }

    static func packed(_ elements: PackedElements, name: String, id: UInt32?, adding: Bool) throws -> [UInt8] {
        let batch = try NetlinkBatch(firstSequence: 7)
        let type = UInt16((adding ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM).rawValue)
        let (first, _) = try batch.addElements(elements, type: type, family: 1, flags: adding ? BatchEncoder.createFlags : 0,
                                               table: "kubenft", set: name, id: id)
        #expect(first == 7)
        return bytes(of: batch)
    }

    static func bytes(of batch: NetlinkBatch) -> [UInt8] {
        var length = 0
        guard let base = kubenft_nl_batch_bytes(batch.pointer, &length) else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: length))
    }

    static func address(_ generator: inout SplitMix64, v6: Bool) -> IPAddress {
        let value = v6 ? UInt128(generator.next()) << 64 | UInt128(generator.next()) : UInt128(generator.next() & 0xFFFF_FFFF)
        return IPAddress(numericValue: value, family: v6 ? .v6 : .v4)
    }

    static func verdict(_ generator: inout SplitMix64) -> Verdict {
        switch generator.next() % 6 {
        case 0: return .accept
        case 1: return .drop
        case 2: return .continue
        case 3: return .return
        case 4: return .jump("svc-\(generator.next() % 1000)")
        default: return .goto(String(repeating: "c", count: Int(generator.next() % 255) + 1))
        }
    }

    static func comment(_ generator: inout SplitMix64) -> String? {
        generator.next() % 3 == 0 ? nil : "ns-\(generator.next() % 100)/svc \"\(String(repeating: "x", count: Int(generator.next() % 200)))\""
    }

    /// Random non-interval sets of every key and data shape the IR's sets use.
    static func randomSets(_ generator: inout SplitMix64, count: Int) -> [NamedSet] {
        func elements(_ make: (inout SplitMix64) -> SetElement) -> [SetElement] {
            var seen = Set<[Value]>()
            var result: [SetElement] = []
            for _ in 0..<count {
                let element = make(&generator)
                if seen.insert(element.key).inserted { result.append(element) }
            }
            return result
        }
        let v4 = { (g: inout SplitMix64) in Value.address(address(&g, v6: false)) }
        let v6 = { (g: inout SplitMix64) in Value.address(address(&g, v6: true)) }
        let port = { (g: inout SplitMix64) in Value.port(UInt16(truncatingIfNeeded: g.next())) }
        let proto = { (g: inout SplitMix64) in Value.proto(["tcp", "udp", "sctp"][Int(g.next() % 3)]) }
        return [
            NamedSet(name: "addresses-v4", key: [.ipv4Address], elements: elements { SetElement(key: [v4(&$0)], comment: comment(&$0)) }),
            NamedSet(name: "addresses-v6", key: [.ipv6Address], elements: elements { SetElement(key: [v6(&$0)]) }),
            NamedSet(name: "ports", key: [.inetService], elements: elements { SetElement(key: [port(&$0)]) }),
            NamedSet(name: "service-ips-v4", key: [.ipv4Address, .inetProto, .inetService], mapping: .verdict,
                     elements: elements { SetElement(key: [v4(&$0), proto(&$0), port(&$0)], data: .verdict(verdict(&$0)), comment: comment(&$0)) }),
            NamedSet(name: "service-ips-v6", key: [.ipv6Address, .inetProto, .inetService], mapping: .verdict,
                     elements: elements { SetElement(key: [v6(&$0), proto(&$0), port(&$0)], data: .verdict(verdict(&$0))) }),
            NamedSet(name: "backends-v4", key: [.ipv4Address, .inetProto, .inetService], mapping: .concatenatedData([.ipv4Address, .inetService]),
                     elements: elements { SetElement(key: [v4(&$0), proto(&$0), port(&$0)], data: .values([v4(&$0), port(&$0)]), comment: comment(&$0)) }),
            NamedSet(name: "backends-v6", key: [.ipv6Address, .inetService], mapping: .concatenatedData([.ipv6Address, .inetService]),
                     elements: elements { SetElement(key: [v6(&$0), port(&$0)], data: .values([v6(&$0), port(&$0)])) }),
            NamedSet(name: "rewrite-v4", key: [.ipv4Address], mapping: .data(.ipv4Address),
                     elements: elements { SetElement(key: [v4(&$0)], data: .values([v4(&$0)])) }),
            NamedSet(name: "rewrite-ports", key: [.inetService], mapping: .data(.inetService),
                     elements: elements { SetElement(key: [port(&$0)], data: .values([port(&$0)])) }),
        ]
    }

    /// Random interval sets: addresses, prefixes and ranges of both families, ports and port ranges.
    static func randomIntervalSets(_ generator: inout SplitMix64, count: Int) -> [NamedSet] {
        func disjoint(_ v6: Bool) -> [SetElement] {
            let bits = v6 ? 128 : 32
            let step = (UInt128(1) << (bits - 12)) // room for `count` (< 4096) blocks
            return (0..<UInt128(count)).compactMap { index -> SetElement? in
                guard generator.next() % 2 == 0 else { return nil }
                let base = index * step
                switch generator.next() % 3 {
                case 0: return SetElement(key: [.address(IPAddress(numericValue: base + 1, family: v6 ? .v6 : .v4))])
                case 1: return SetElement(key: [.prefix(CIDR(address: IPAddress(numericValue: base, family: v6 ? .v6 : .v4), prefixLength: bits - 4)!)])
                default:
                    return SetElement(key: [.addressRange(IPAddress(numericValue: base + 2, family: v6 ? .v6 : .v4),
                                                          IPAddress(numericValue: base + 2 + UInt128(generator.next() % 1000), family: v6 ? .v6 : .v4))],
                                      comment: comment(&generator))
                }
            }
        }
        var ports: [SetElement] = []
        var next: UInt16 = 0
        while next < 65000, ports.count < count {
            let low = next &+ UInt16(generator.next() % 5)
            let high = low &+ UInt16(generator.next() % 3)
            ports.append(SetElement(key: [low == high ? .port(low) : .portRange(low, high)]))
            next = high &+ 2
        }
        return [
            NamedSet(name: "blocks-v4", key: [.ipv4Address], flags: [.interval], elements: disjoint(false)),
            NamedSet(name: "blocks-v6", key: [.ipv6Address], flags: [.interval], elements: disjoint(true)),
            NamedSet(name: "port-ranges", key: [.inetService], flags: [.interval], elements: ports),
        ]
    }

    @Test("packed elements are byte for byte libnftnl's, for every set shape, split over messages alike")
    func matchesLibnftnl() throws {
        var generator = SplitMix64(state: 0x5EED_0010)
        for count in [1, 3, 40, 3000] {
            let sets = Self.randomSets(&generator, count: count) + Self.randomIntervalSets(&generator, count: count)
            for set in sets {
                let layout = try SetLayout(set)
                for (id, adding) in [(UInt32?.some(42), true), (nil, true), (nil, false)] {
                    let expected = try Self.reference(set, id: id, adding: adding)
                    let actual = try Self.packed(PackedElements(set, layout: layout), name: set.name, id: id, adding: adding)
                    #expect(actual.count == expected.count, "\(set.name), \(count) elements: \(actual.count) bytes, libnftnl \(expected.count)")
                    if let index = zip(actual, expected).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
                        Issue.record("\(set.name), \(count) elements: first difference at byte \(index)")
                    }
                }
            }
        }
    }

    @Test("already encoded elements (interval and anonymous sets) pack to libnftnl's bytes")
    func encodedMatchesLibnftnl() throws {
        var generator = SplitMix64(state: 0xA110)
        for (keyLength, dataLength) in [(2, nil), (4, nil), (16, nil), (12, 8), (4, 4), (36, nil)] as [(Int, Int?)] {
            let elements = (0..<2500).map { _ -> EncodedElement in
                var element = EncodedElement(key: (0..<keyLength).map { _ in UInt8(truncatingIfNeeded: generator.next()) },
                                             intervalEnd: generator.next() % 4 == 0, comment: Self.comment(&generator))
                if let dataLength {
                    element.data = (0..<dataLength).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                } else if generator.next() % 2 == 0 {
                    element.verdict = Self.verdict(&generator)
                }
                return element
            }
            let expected = try Self.reference(elements, name: "__set%d", id: 3, adding: true, keyLength: keyLength, dataLength: dataLength)
            let actual = try Self.packed(PackedElements(elements, keyLength: keyLength, dataLength: dataLength), name: "__set%d", id: 3,
                                         adding: true)
            #expect(actual == expected, "key \(keyLength), data \(String(describing: dataLength))")
        }
    }

    @Test("a bad record is refused before anything is written")
    func badRecordLeavesBatchUnchanged() throws {
        let set = NamedSet(name: "ports", key: [.inetService], elements: [SetElement(key: [.port(80)]), SetElement(key: [.port(81)])])
        let elements = try PackedElements(set, layout: try SetLayout(set))
        let batch = try NetlinkBatch(firstSequence: 1)
        var packed = elements.bytes
        packed.removeLast()
        let rc = packed.withUnsafeBufferPointer { buffer in
            kubenft_nl_batch_add_packed_elements(batch.pointer, UInt16(NFT_MSG_NEWSETELEM.rawValue), 1, 0, "kubenft", "ports", false, 0,
                                                 buffer.baseAddress, buffer.count, nil, nil)
        }
        #expect(rc == EINVAL)
        #expect(batch.messageCount == 0)
        #expect(Self.bytes(of: batch).isEmpty)
    }

    @Test("the element errors of the libnftnl path are kept")
    func errorsKept() throws {
        let wrongData = NamedSet(name: "m", key: [.inetService], mapping: .verdict, elements: [SetElement(key: [.port(1)], data: .values([.port(2)]))])
        #expect(throws: NetlinkError.self) { _ = try PackedElements(wrongData, layout: try SetLayout(wrongData)) }
        let badChain = NamedSet(name: "m", key: [.inetService], mapping: .verdict, elements: [SetElement(key: [.port(1)], data: .verdict(.jump("")))])
        #expect(throws: NetlinkError.self) { _ = try PackedElements(badChain, layout: try SetLayout(badChain)) }
        let short = [EncodedElement(key: [1, 2, 3])]
        #expect(throws: NetlinkError.self) { _ = try PackedElements(short, keyLength: 4, dataLength: nil) }
    }

    static func encode(_ batch: RulesetBatch, prepack: Bool) throws -> (bytes: [UInt8], notes: [UInt32: String]) {
        var encoder = try BatchEncoder(batch: batch)
        if !prepack { encoder.prepackThreshold = .max }
        let encoded = try encoder.encode(batch, firstSequence: 10)
        return (bytes(of: encoded), encoded.descriptions.mapValues(\.text))
    }

    @Test("large element operations packed in parallel give the batch sequential packing gives, errors included")
    func parallelPackingKeepsTheBatch() throws {
        var generator = SplitMix64(state: 0x2_7AC4)
        let sets = Self.randomSets(&generator, count: 5000).filter { $0.elements.count >= BatchEncoder.defaultPrepackThreshold }
        #expect(sets.count >= 3)
        var operations: [BatchOperation] = [.ensureTable]
        operations += sets.map { .addSet($0) }
        operations += sets.map { .addElements(set: $0, elements: $0.elements) }
        operations.append(.deleteElements(set: sets[0], elements: Array(sets[0].elements.suffix(4500))))
        let batch = RulesetBatch(family: "inet", table: "kubenft", operations: operations,
                                 sets: Dictionary(uniqueKeysWithValues: sets.map { ($0.name, $0) }))
        let parallel = try Self.encode(batch, prepack: true)
        let sequential = try Self.encode(batch, prepack: false)
        #expect(parallel.bytes == sequential.bytes)
        #expect(parallel.notes == sequential.notes)

        var broken = sets[1]
        broken.elements[4321].key = [.port(1)]
        var failing = batch
        failing.operations.insert(.addElements(set: broken, elements: broken.elements), at: operations.count - 2)
        var errors: [String] = []
        for prepack in [true, false] {
            do {
                _ = try Self.encode(failing, prepack: prepack)
                Issue.record("an element with a wrong key was encoded")
            } catch let error as NetlinkError {
                errors.append(error.message)
            }
        }
        #expect(errors.count == 2 && errors[0] == errors[1], "\(errors)")
    }
}
