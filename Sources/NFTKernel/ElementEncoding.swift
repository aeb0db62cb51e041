import NFTRuleset
import NetAddress

/// Set elements to kernel elements: concatenated keys padded per field, and interval sets in
/// nft's segment encoding (a start element per range, an interval-end element just past it, and
/// a leading end element at zero when the first range does not start there).
package enum ElementEncoder {
    package static func encode(_ set: NamedSet, layout: SetLayout) throws(NetlinkError) -> [EncodedElement] {
        if layout.isInterval {
            return try intervals(set.elements.map { ($0.key, $0) }, types: layout.keyTypes, set: set)
        }
        var result: [EncodedElement] = []
        result.reserveCapacity(set.elements.count)
        for element in set.elements {
            var encoded = EncodedElement(key: try key(element.key, types: layout.keyTypes, set: set.name))
            try attach(element, to: &encoded, set: set)
            result.append(encoded)
        }
        return result
    }

    /// The elements of an anonymous set.
    package static func encode(_ set: AnonymousSet) throws(NetlinkError) -> [EncodedElement] {
        if set.interval {
            return try intervals(set.values.map { ([$0], nil) }, types: [set.type], set: nil)
        }
        var result: [EncodedElement] = []
        for value in set.values { result.append(EncodedElement(key: try ValueCodec.bytes(value, as: set.type))) }
        return result
    }

    package static func key(_ values: [Value], types: [FieldType], set: String) throws(NetlinkError) -> [UInt8] {
        guard values.count == types.count else {
            throw NetlinkError(.unsupported, "set \(set): element with \(values.count) fields for a key of \(types.count)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(types.count == 1 ? types[0].length : types.reduce(0) { $0 + Kernel.slots(forLength: $1.length) * 4 })
        try appendKey(values, types: types, set: set, to: &bytes)
        return bytes
    }

    /// Appends the bytes `key(_:types:set:)` returns to `bytes` (a packed buffer of many elements).
    @inline(__always)
    package static func appendKey(_ values: [Value], types: [FieldType], set: String, to bytes: inout [UInt8]) throws(NetlinkError) {
        guard values.count == types.count else {
            throw NetlinkError(.unsupported, "set \(set): element with \(values.count) fields for a key of \(types.count)")
        }
        if types.count == 1 {
            try append(values[0], as: types[0], padded: false, to: &bytes)
            return
        }
        for index in types.indices { try append(values[index], as: types[index], padded: true, to: &bytes) }
    }

    /// The field types of a map's data; nil for a set or a verdict map.
    package static func dataFields(_ mapping: NamedSet.Mapping) throws(NetlinkError) -> [FieldType]? {
        switch mapping {
        case .none, .verdict: return nil
        case .data(let type): return [try FieldType(type)]
        case .concatenatedData(let types):
            var fields: [FieldType] = []
            for type in types { fields.append(try FieldType(type)) }
            return fields
        }
    }

    /// Appends one field's bytes (padded to its 4-byte register slots in a concatenation): the
    /// address and port fields of large sets directly, every other field through `ValueCodec`,
    /// with the same bytes and errors; a full load encodes hundreds of thousands of them.
    @inline(__always)
    package static func append(_ value: Value, as type: FieldType, padded: Bool, to bytes: inout [UInt8]) throws(NetlinkError) {
        let start = bytes.count
        switch (type, value) {
        case (.ipv4, .address(let address)) where address.family == .v4:
            bigEndian(address.numericValue, count: 4, to: &bytes)
        case (.ipv6, .address(let address)) where address.family == .v6:
            bigEndian(address.numericValue, count: 16, to: &bytes)
        case (.port, .port(let port)):
            bigEndian(UInt128(port), count: 2, to: &bytes)
        default:
            bytes += try ValueCodec.bytes(value, as: type)
        }
        guard padded else { return }
        let length = bytes.count - start
        bytes.append(contentsOf: repeatElement(0, count: Kernel.slots(forLength: length) * 4 - length))
    }

    private static func bigEndian(_ number: UInt128, count: Int, to bytes: inout [UInt8]) {
        for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(UInt8(truncatingIfNeeded: number >> (8 * index))) }
    }

    package static func attach(_ element: SetElement, to encoded: inout EncodedElement, set: NamedSet) throws(NetlinkError) {
        encoded.comment = element.comment.map(NFTQuoting.comment)
        switch (set.mapping, element.data) {
        case (.none, nil): break
        case (.verdict, .verdict(let verdict)?): encoded.verdict = verdict
        case (.data(let type), .values(let values)?):
            encoded.data = try key(values, types: [try FieldType(type)], set: set.name)
        case (.concatenatedData(let types), .values(let values)?):
            var fields: [FieldType] = []
            for type in types { fields.append(try FieldType(type)) }
            encoded.data = try key(values, types: fields, set: set.name)
        default:
            throw NetlinkError(.unsupported, "set \(set.name): element data does not match the map's type")
        }
    }

    /// Numeric bounds of one interval-set value.
    package static func bounds(_ value: Value, _ type: FieldType) throws(NetlinkError) -> (UInt128, UInt128) {
        switch (value, type) {
        case (.address(let address), .ipv4), (.address(let address), .ipv6):
            guard address.family == (type == .ipv4 ? .v4 : .v6) else { break }
            return (address.numericValue, address.numericValue)
        case (.prefix(let cidr), .ipv4), (.prefix(let cidr), .ipv6):
            guard cidr.family == (type == .ipv4 ? .v4 : .v6) else { break }
            let range = AddressRange(cidr)
            return (range.lower, range.upper)
        case (.addressRange(let low, let high), .ipv4), (.addressRange(let low, let high), .ipv6):
            guard low.family == (type == .ipv4 ? .v4 : .v6), low <= high else { break }
            return (low.numericValue, high.numericValue)
        case (.port(let port), .port): return (UInt128(port), UInt128(port))
        case (.portRange(let low, let high), .port) where low <= high: return (UInt128(low), UInt128(high))
        case (.proto(let name), .proto):
            guard let number = Symbols.lookup(Symbols.protocols, name) else { break }
            return (UInt128(number), UInt128(number))
        case (.integer(let number), .port) where number <= 0xFFFF: return (UInt128(number), UInt128(number))
        default: break
        }
        throw NetlinkError(.unsupported, "\(NFTTextEmitter.value(value)) in an interval set of \(type)")
    }

    package static func numberBytes(_ number: UInt128, _ type: FieldType) -> [UInt8] {
        (0..<type.length).map { UInt8(truncatingIfNeeded: number >> (8 * UInt128(type.length - 1 - $0))) }
    }

    private static func intervals(_ items: [([Value], SetElement?)], types: [FieldType], set: NamedSet?) throws(NetlinkError) -> [EncodedElement] {
        let name = set?.name ?? "anonymous set"
        guard types.count == 1 else { throw NetlinkError(.unsupported, "\(name): interval sets with concatenated keys") }
        let type = types[0]
        var ranges: [(UInt128, UInt128, SetElement?)] = []
        for (values, element) in items {
            guard values.count == 1 else { throw NetlinkError(.unsupported, "\(name): element with \(values.count) fields") }
            let (low, high) = try bounds(values[0], type)
            ranges.append((low, high, element))
        }
        ranges.sort { $0.0 < $1.0 }
        let maximum: UInt128 = type.length >= 16 ? UInt128.max : (UInt128(1) << (8 * type.length)) - 1
        var result: [EncodedElement] = []
        if let first = ranges.first, first.0 != 0 {
            result.append(EncodedElement(key: numberBytes(0, type), intervalEnd: true))
        }
        var previousHigh: UInt128?
        for (low, high, element) in ranges {
            if let previousHigh, low <= previousHigh {
                throw NetlinkError(.unsupported, "\(name): overlapping intervals")
            }
            var start = EncodedElement(key: numberBytes(low, type))
            if let element, let set { try attach(element, to: &start, set: set) }
            result.append(start)
            if high != maximum { result.append(EncodedElement(key: numberBytes(high + 1, type), intervalEnd: true)) }
            previousHigh = high
        }
        return result
    }
}
