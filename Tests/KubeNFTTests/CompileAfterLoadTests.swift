import Testing
import KubeManifest
@testable import NFTRuleset
@testable import KubeNFTCompiler

/// The faster paths after loading (flat sort keys, appended element text, the stack-buffer IPv4
/// formatter, pods found by position) give exactly what the straightforward forms give.
@Suite struct CompileAfterLoadTests {
    /// Every kind of value, with equal prefixes and lengths that straddle each other.
    static let values: [Value] = {
        let v4 = ["0.0.0.0", "10.0.0.1", "10.0.0.10", "10.0.1.0", "9.255.255.255", "255.255.255.255"].compactMap { IPAddress($0) }
        let v6 = ["::", "::1", "fd00::1", "fd00::1:0", "2001:db8::ff"].compactMap { IPAddress($0) }
        var values: [Value] = (v4 + v6).map { .address($0) }
        values += ["10.0.0.0/8", "10.0.0.0/24", "10.0.0.1/32", "fd00::/64", "::/0"].compactMap { CIDR($0) }.map { .prefix($0) }
        values += [.addressRange(v4[1], v4[2]), .addressRange(v6[1], v6[2])]
        values += [.integer(0), .integer(80), .integer(UInt64.max), .port(0), .port(80), .port(443), .port(65535)]
        values += [.portRange(80, 90), .portRange(0, 65535), .hex(0x4000), .hex(UInt32.max)]
        values += [.proto("tcp"), .proto("udp"), .proto(""), .symbol("local"), .symbol("established"), .symbol("loc")]
        return values
    }()

    /// A fixed pseudo-random sequence, so a failure reproduces.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state ^ (state >> 29)
        }
    }

    static func elements(count: Int, keyLength: Int, seed: UInt64) -> [SetElement] {
        var generator = Generator(state: seed)
        return (0..<count).map { index in
            let key = (0..<keyLength).map { _ in values.randomElement(using: &generator)! }
            return SetElement(key: key, comment: "element \(index)")
        }
    }

    /// The order as it was first written: one array key per element from `Value.sortKey`.
    static func referenceSortedUnique(_ elements: [SetElement]) -> [SetElement] {
        let keys: [[UInt8]] = elements.map { element in
            var bytes: [UInt8] = []
            for value in element.key { bytes += value.sortKey + [0xFF] }
            return bytes
        }
        let order = keys.indices.sorted { keys[$0].lexicographicallyPrecedes(keys[$1]) || (keys[$0] == keys[$1] && $0 < $1) }
        var result: [SetElement] = []
        var previous: [UInt8]?
        for index in order where keys[index] != previous {
            result.append(elements[index])
            previous = keys[index]
        }
        return result
    }

    @Test("a value's sort key is its kind's tag, then its bytes in network order")
    func sortKeyBytes() throws {
        #expect(Value.address(try #require(IPAddress("10.0.0.1"))).sortKey == [0, 4, 10, 0, 0, 1])
        #expect(Value.prefix(try #require(CIDR("10.1.0.0/16"))).sortKey == [0, 4, 10, 1, 0, 0, 16])
        #expect(Value.port(80).sortKey == [1, 0, 0, 0, 0, 0, 0, 0, 80])
        #expect(Value.portRange(8000, 8080).sortKey == [1, 0, 0, 0, 0, 0, 0, 0x1F, 0x40, 1])
        #expect(Value.integer(0x0102).sortKey == [1, 0, 0, 0, 0, 0, 0, 1, 2])
        #expect(Value.proto("tcp").sortKey == [2, 0x74, 0x63, 0x70])
        #expect(Value.symbol("ok").sortKey == [3, 0x6F, 0x6B])
        #expect(Value.address(try #require(IPAddress("::1"))).sortKey == [0, 16] + Array(repeating: 0, count: 15) + [1])
    }

    @Test("the flat sort keys are each value's sortKey followed by 0xFF")
    func flatKeys() {
        let single = Self.values.map { SetElement(key: [$0]) }
        let keys = ElementSortKeys(single)
        for (index, value) in Self.values.enumerated() {
            #expect(Array(keys.key(index)) == value.sortKey + [0xFF], "\(value)")
        }
        let concatenated = Self.elements(count: 50, keyLength: 3, seed: 7)
        let concatenatedKeys = ElementSortKeys(concatenated)
        for (index, element) in concatenated.enumerated() {
            var expected: [UInt8] = []
            for value in element.key { expected += value.sortKey + [0xFF] }
            #expect(Array(concatenatedKeys.key(index)) == expected)
        }
    }

    @Test("sorting and deduplicating set elements gives the reference order, the first of equal keys kept",
          arguments: [(1, UInt64(1)), (2, 2), (3, 3)])
    func sortedUnique(keyLength: Int, seed: UInt64) {
        // Few distinct values and many elements: plenty of equal keys, told apart by their comments.
        let elements = Self.elements(count: 3000, keyLength: keyLength, seed: seed)
        #expect(Assembly.sortedUnique(elements) == Self.referenceSortedUnique(elements))
    }

    @Test("elements already in order come back unchanged; in order with a duplicate, the duplicate goes")
    func alreadySorted() {
        // Some values share a key (`.port(80)` and `.integer(80)`): the reference keeps one of each.
        let sorted = Self.referenceSortedUnique(Self.values.map { SetElement(key: [$0]) })
        #expect(Assembly.sortedUnique(sorted) == sorted)
        var withDuplicate = sorted
        withDuplicate.insert(SetElement(key: sorted[5].key, comment: "second"), at: 6)
        #expect(Assembly.sortedUnique(withDuplicate) == sorted)
        #expect(Assembly.sortedUnique([]) == [])
        #expect(Assembly.sortedUnique([sorted[0]]) == [sorted[0]])
    }

    @Test("IPv4 text is the four decimal octets of the address's bytes")
    func ipv4Text() throws {
        var generator = Generator(state: 11)
        var numbers: [UInt32] = [0, 9, 10, 99, 100, 255, 256, 0x0A00_0001, 0x6464_6464, 0xFFFF_FFFF, 0x0909_0909]
        numbers += (0..<2000).map { _ in UInt32.random(in: .min ... .max, using: &generator) }
        for number in numbers {
            let address = IPAddress(numericValue: UInt128(number), family: .v4)
            let expected = address.bytes.map { String($0) }.joined(separator: ".")
            #expect(address.description == expected)
            var appended = "x"
            address.appendDescription(to: &appended)
            #expect(appended == "x" + expected)
            #expect(IPAddress(expected) == address)
        }
        let v6 = try #require(IPAddress("fd00::10:1"))
        var appended = ""
        v6.appendDescription(to: &appended)
        #expect(appended == "fd00::10:1")
    }

    @Test("an element's text is its values joined with ' . ', its comment, then its data")
    func elementText() {
        var generator = Generator(state: 5)
        let verdicts: [Verdict] = [.accept, .drop, .jump("svc-a"), .goto("odd name")]
        for length in 1...3 {
            for element in Self.elements(count: 200, keyLength: length, seed: UInt64(length)) {
                var element = element
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: element.data = nil
                case 1: element.data = .verdict(verdicts.randomElement(using: &generator)!)
                case 2: element.data = .values([Self.values.randomElement(using: &generator)!, Self.values.randomElement(using: &generator)!])
                default: element.comment = nil
                }
                var expected = element.key.map(NFTTextEmitter.value).joined(separator: " . ")
                if let comment = element.comment { expected += " comment \"\(NFTQuoting.comment(comment))\"" }
                switch element.data {
                case nil: break
                case .values(let values)?: expected += " : " + values.map(NFTTextEmitter.value).joined(separator: " . ")
                case .verdict(let verdict)?: expected += " : " + NFTTextEmitter.verdict(verdict)
                }
                #expect(NFTTextEmitter.element(element) == expected)
            }
        }
    }

    /// The element block of a set as printed one element after another with the public `element`.
    static func referenceBlock(_ set: NamedSet) -> String {
        let lines = set.elements.enumerated().map { index, element in
            "\t\t\t" + NFTTextEmitter.element(element) + (index == set.elements.count - 1 ? "\n" : ",\n")
        }
        return "\t\telements = {\n" + lines.joined() + "\t\t}\n"
    }

    @Test("element lines printed in chunks on two threads join to the lines printed in order")
    func parallelElementLines() throws {
        let sizes = [ElementLines.chunkSize * 3 + 17, 1, 0, ElementLines.chunkSize, 3]
        let sets = sizes.enumerated().map { index, size in
            NamedSet(name: "s\(index)", key: [.ipv4Address, .inetService],
                     elements: Self.elements(count: size, keyLength: 2, seed: UInt64(index + 20)))
        }
        let chunks = try #require(ElementLines.chunks(of: sets, threshold: 1))
        #expect(chunks.count == sets.count)
        for (set, pieces) in zip(sets, chunks) {
            #expect(pieces.count == (set.elements.count + ElementLines.chunkSize - 1) / ElementLines.chunkSize)
            if set.elements.isEmpty { continue }
            #expect("\t\telements = {\n" + pieces.joined() + "\t\t}\n" == Self.referenceBlock(set))
        }
        #expect(ElementLines.chunks(of: sets, threshold: sizes.reduce(0, +) + 1) == nil)
        // A whole ruleset over the threshold prints every set's block whole and in order.
        let text = NFTTextEmitter().emit(Ruleset(sets: sets))
        #expect(sizes.reduce(0, +) >= ElementLines.parallelThreshold)
        var rest = Substring(text)
        for set in sets where !set.elements.isEmpty {
            let block = Self.referenceBlock(set)
            let found = try #require(rest.range(of: block), "block of \(set.name)")
            rest = rest[found.upperBound...]
        }
    }

    @Test("large sets are declared with a size a quarter above their elements; small, interval and dynamic sets are not")
    func declaredSizes() throws {
        func set(_ count: Int, flags: [NamedSet.Flag] = [], timeout: Int? = nil, size: Int? = nil) throws -> NamedSet {
            let elements = (0..<count).map { index in
                SetElement(key: [.address(IPAddress(numericValue: UInt128(0x0A00_0000 + index), family: .v4))])
            }
            return NamedSet(name: "s", key: [.ipv4Address], flags: flags, timeout: timeout, size: size, elements: elements)
        }
        for count in [Assembly.sizedFrom, 5_000, 6_553, 6_554, 20_000, 140_000] {
            let size = try #require(Assembly.declaredSize(try set(count)), "\(count)")
            #expect(size >= count + count / 4 && size.nonzeroBitCount == 1 && size / 2 < max(count + count / 4, Assembly.sizedFrom),
                    "\(count) elements: size \(size)")
        }
        #expect(Assembly.declaredSize(try set(Assembly.sizedFrom - 1)) == nil)
        #expect(Assembly.declaredSize(try set(10_000, flags: [.interval])) == nil)
        #expect(Assembly.declaredSize(try set(10_000, flags: [.dynamic], timeout: 10)) == nil)
        #expect(Assembly.declaredSize(try set(10_000, size: 65_535)) == 65_535)
    }
}
