import NFTRuleset
import NetAddress

/// The nft datatype of one key field or matched value: how many bytes it takes, which datatype id
/// and byte order nft records for it, and how constants of that type become bytes and back.
package enum FieldType: Hashable, Sendable {
    case ipv4, ipv6, port, proto, mark, ctState, ctStatus, fibAddressType, nfproto, integer, ifname

    package var length: Int {
        switch self {
        case .ipv4: return 4
        case .ipv6, .ifname: return 16
        case .port: return 2
        case .proto, .nfproto: return 1
        case .mark, .ctState, .ctStatus, .fibAddressType, .integer: return 4
        }
    }

    /// nft's datatype number (TYPE_*), used in set key types.
    package var datatype: UInt32 {
        switch self {
        case .ipv4: return 7
        case .ipv6: return 8
        case .port: return 13
        case .proto: return 12
        case .mark: return 19
        case .ctState: return 26
        case .ctStatus: return 28
        case .fibAddressType: return 38
        case .nfproto: return 2
        case .integer: return 4
        case .ifname: return 41
        }
    }

    /// nft's byte order number (1 host, 2 big endian) recorded in set userdata.
    package var byteorder: UInt32 { isHostOrder ? 1 : 2 }

    package var isHostOrder: Bool {
        switch self {
        case .mark, .ctState, .ctStatus, .fibAddressType, .integer, .nfproto, .ifname: return true
        case .ipv4, .ipv6, .port, .proto: return false
        }
    }

    /// Bit-flag types nft matches with `&` and `!= 0` when written without an operator.
    package var isBitmask: Bool { self == .ctState || self == .ctStatus }

    package init(_ type: DataType) throws(NetlinkError) {
        switch type {
        case .ipv4Address: self = .ipv4
        case .ipv6Address: self = .ipv6
        case .inetProto: self = .proto
        case .inetService: self = .port
        case .mark: self = .mark
        case .integer: self = .integer
        case .verdict: throw NetlinkError(.unsupported, "verdict is not a key type")
        }
    }

    package var dataType: DataType? {
        switch self {
        case .ipv4: return .ipv4Address
        case .ipv6: return .ipv6Address
        case .proto: return .inetProto
        case .port: return .inetService
        case .mark: return .mark
        case .integer: return .integer
        default: return nil
        }
    }

    package static func forDatatype(_ id: UInt32) -> FieldType? {
        [FieldType.ipv4, .ipv6, .port, .proto, .mark, .ctState, .ctStatus, .fibAddressType, .nfproto, .integer, .ifname]
            .first { $0.datatype == id }
    }

    package static func address(_ family: IPFamily) -> FieldType { family == .v4 ? .ipv4 : .ipv6 }
}

/// Symbolic constants of the bitmask and enumerated types.
package enum Symbols {
    package static let protocols: [(String, UInt8)] = [("icmp", 1), ("tcp", 6), ("udp", 17), ("icmpv6", 58), ("sctp", 132)]
    package static let ctStates: [(String, UInt32)] = [("invalid", 1), ("established", 2), ("related", 4), ("new", 8), ("untracked", 64)]
    package static let ctStatus: [(String, UInt32)] = [("expected", 1), ("seen-reply", 2), ("assured", 4), ("confirmed", 8),
                                               ("snat", 16), ("dnat", 32), ("dying", 512)]
    package static let addressTypes: [(String, UInt32)] = [("unspec", 0), ("unicast", 1), ("local", 2), ("broadcast", 3), ("anycast", 4),
                                                   ("multicast", 5), ("blackhole", 6), ("unreachable", 7), ("prohibit", 8)]
    package static let nfprotos: [(String, UInt8)] = [("ipv4", 2), ("ipv6", 10)]

    package static func lookup<T>(_ table: [(String, T)], _ name: String) -> T? { table.first { $0.0 == name }?.1 }
    package static func name<T: Equatable>(_ table: [(String, T)], _ value: T) -> String? { table.first { $0.1 == value }?.0 }
}

/// Constants to bytes and bytes to constants, per field type.
package enum ValueCodec {
    package static func bytes(_ value: Value, as type: FieldType) throws(NetlinkError) -> [UInt8] {
        switch (type, value) {
        case (.ipv4, .address(let address)) where address.family == .v4: return address.bytes
        case (.ipv6, .address(let address)) where address.family == .v6: return address.bytes
        case (.port, .port(let port)): return bigEndian(UInt64(port), count: 2)
        case (.port, .integer(let number)) where number <= 0xFFFF: return bigEndian(number, count: 2)
        case (.proto, .proto(let name)):
            guard let number = Symbols.lookup(Symbols.protocols, name) else { break }
            return [number]
        case (.proto, .integer(let number)) where number <= 0xFF: return [UInt8(number)]
        case (.mark, .hex(let bits)), (.ctStatus, .hex(let bits)): return littleEndian(UInt64(bits), count: 4)
        case (.mark, .integer(let number)) where number <= 0xFFFF_FFFF: return littleEndian(number, count: 4)
        case (.integer, .integer(let number)) where number <= 0xFFFF_FFFF: return littleEndian(number, count: 4)
        case (.ctState, .symbol(let name)):
            guard let bits = Symbols.lookup(Symbols.ctStates, name) else { break }
            return littleEndian(UInt64(bits), count: 4)
        case (.ctStatus, .symbol(let name)):
            guard let bits = Symbols.lookup(Symbols.ctStatus, name) else { break }
            return littleEndian(UInt64(bits), count: 4)
        case (.fibAddressType, .symbol(let name)):
            guard let number = Symbols.lookup(Symbols.addressTypes, name) else { break }
            return littleEndian(UInt64(number), count: 4)
        case (.nfproto, .symbol(let name)):
            guard let number = Symbols.lookup(Symbols.nfprotos, name) else { break }
            return [number]
        case (.ifname, .symbol(let name)) where name.hasSuffix("*") && name.utf8.count > 1:
            // nft's wildcard: a compare of the prefix bytes only.
            let prefix = Array(name.utf8.dropLast())
            guard prefix.count < 16 else { break }
            return prefix
        case (.ifname, .symbol(let name)):
            let utf8 = Array(name.utf8)
            guard utf8.count < 16 else { break }
            return utf8 + [UInt8](repeating: 0, count: 16 - utf8.count)
        default: break
        }
        throw NetlinkError(.unsupported, "the constant \(NFTTextEmitter.value(value)) does not fit a \(type) field")
    }

    package static func value(_ bytes: [UInt8], as type: FieldType) -> Value? {
        if type == .ifname, !bytes.isEmpty, bytes.count < type.length, !bytes.contains(0) {
            return .symbol(String(decoding: bytes, as: UTF8.self) + "*")
        }
        guard bytes.count >= type.length else { return nil }
        let field = Array(bytes.prefix(type.length))
        switch type {
        case .ipv4, .ipv6: return IPAddress(bytes: field).map(Value.address)
        case .port: return .port(UInt16(field[0]) << 8 | UInt16(field[1]))
        case .proto: return Symbols.name(Symbols.protocols, field[0]).map(Value.proto) ?? .integer(UInt64(field[0]))
        case .mark: return .hex(UInt32(hostValue(field)))
        case .integer: return .integer(hostValue(field))
        case .ctState: return Symbols.name(Symbols.ctStates, UInt32(hostValue(field))).map(Value.symbol)
        case .ctStatus: return Symbols.name(Symbols.ctStatus, UInt32(hostValue(field))).map(Value.symbol)
        case .fibAddressType: return Symbols.name(Symbols.addressTypes, UInt32(hostValue(field))).map(Value.symbol)
        case .nfproto: return Symbols.name(Symbols.nfprotos, field[0]).map(Value.symbol)
        case .ifname: return .symbol(String(decoding: field.prefix { $0 != 0 }, as: UTF8.self))
        }
    }

    package static func bigEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64(count - 1 - $0))) }
    }

    package static func littleEndian(_ value: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    package static func hostValue(_ bytes: [UInt8]) -> UInt64 {
        bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    package static func bigEndianValue(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// Pads a field to its 4-byte register slots, as keys of concatenations are laid out.
    package static func padded(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: Kernel.slots(forLength: bytes.count) * 4 - bytes.count)
    }
}
