import NetAddress
import NFTRuleset
import Testing
@testable import NFTNetlink

@Suite("Linearizer")
struct LinearizerTests {
    @Test("an IPv4 address match gets its meta nfproto dependency")
    func dependency() throws {
        let linear = try Linearizer(sets: [:]).linearize(Rule([.matches(.payload(.ipDaddr), .setReference("s")), .verdict(.accept)]))
        #expect(linear.expressions.count == 5)
    }
}

/// Keys and data of set elements: the direct encoding of address and port fields must give the
/// bytes of the general per-field encoding, padded field by field in a concatenation.
@Suite("Element encoding")
struct ElementEncodingTests {
    static func reference(_ values: [Value], _ types: [FieldType]) throws -> [UInt8] {
        if types.count == 1 { return try ValueCodec.bytes(values[0], as: types[0]) }
        return try zip(values, types).flatMap { value, type in ValueCodec.padded(try ValueCodec.bytes(value, as: type)) }
    }

    @Test("keys equal the per-field encoding, for IPv4, IPv6, ports, protocols and integers")
    func keysMatchFieldEncoding() throws {
        let v4 = [try #require(IPAddress("10.96.0.1")), try #require(IPAddress("255.255.255.255")), try #require(IPAddress("0.0.0.0"))]
        let v6 = [try #require(IPAddress("fd00::1")), try #require(IPAddress("2001:db8:ffff::abcd:1"))]
        let ports: [UInt16] = [0, 80, 8080, 65535]
        for address in v4 {
            for port in ports {
                let values: [Value] = [.address(address), .proto("tcp"), .port(port), .integer(UInt64(port % 7))]
                let types: [FieldType] = [.ipv4, .proto, .port, .integer]
                #expect(try ElementEncoder.key(values, types: types, set: "s") == Self.reference(values, types))
                #expect(try ElementEncoder.key([.address(address)], types: [.ipv4], set: "s") == Self.reference([.address(address)], [.ipv4]))
            }
        }
        for address in v6 {
            let values: [Value] = [.address(address), .address(address), .port(443)]
            let types: [FieldType] = [.ipv6, .ipv6, .port]
            #expect(try ElementEncoder.key(values, types: types, set: "s") == Self.reference(values, types))
        }
        #expect(try ElementEncoder.key([.port(53)], types: [.port], set: "s") == Self.reference([.port(53)], [.port]))
        // A value of the other family is refused, as before.
        #expect(throws: NetlinkError.self) { try ElementEncoder.key([.address(v6[0])], types: [.ipv4], set: "s") }
    }
}
