import NFTRuleset
import NetAddress

/// One set element as the kernel stores it: key bytes, the interval-end flag, data or verdict,
/// and the comment in its userdata.
package struct EncodedElement: Hashable, Sendable {
    package var key: [UInt8]
    package var intervalEnd = false
    package var data: [UInt8]?
    package var verdict: Verdict?
    package var comment: String?

    package init(key: [UInt8], intervalEnd: Bool = false, data: [UInt8]? = nil, verdict: Verdict? = nil, comment: String? = nil) {
        self.key = key
        self.intervalEnd = intervalEnd
        self.data = data
        self.verdict = verdict
        self.comment = comment
    }
}

/// The netlink description of a set: what NEWSET carries, in nft 1.0.6's encoding.
package struct SetLayout: Hashable, Sendable {
    package static let flagAnonymous: UInt32 = 0x1, flagConstant: UInt32 = 0x2, flagInterval: UInt32 = 0x4
    package static let flagMap: UInt32 = 0x8, flagTimeout: UInt32 = 0x10, flagEval: UInt32 = 0x20
    /// nft's default size of sets updated from the packet path.
    package static let dynamicSize: UInt32 = 65535

    package var keyTypes: [FieldType]
    package var flags: UInt32
    package var dataType: UInt32?
    package var dataLength: UInt32?
    package var timeoutMilliseconds: UInt64?
    package var size: UInt32?
    package var userdata: [UInt8]

    package var isConcatenation: Bool { keyTypes.count > 1 }
    package var isInterval: Bool { flags & Self.flagInterval != 0 }

    package var keyLength: Int {
        isConcatenation ? keyTypes.reduce(0) { $0 + Kernel.slots(forLength: $1.length) * 4 } : keyTypes[0].length
    }

    /// Key datatype ids packed 6 bits per field, first field most significant.
    package var keyType: UInt32 { keyTypes.reduce(UInt32(0)) { $0 << 6 | $1.datatype } }

    package init(_ set: NamedSet) throws(NetlinkError) {
        guard !set.key.isEmpty, set.key.count <= 5 else { throw NetlinkError(.unsupported, "set \(set.name): key of \(set.key.count) fields") }
        var types: [FieldType] = []
        for type in set.key { types.append(try FieldType(type)) }
        keyTypes = types
        var flags: UInt32 = 0
        for flag in set.flags {
            switch flag {
            case .constant: flags |= Self.flagConstant
            case .interval: flags |= Self.flagInterval
            case .timeout: flags |= Self.flagTimeout
            case .dynamic: flags |= Self.flagEval
            }
        }
        var udata = UserData()
        udata.putU32(0, types.count > 1 ? 0 : types[0].byteorder)
        switch set.mapping {
        case .none: break
        case .verdict:
            flags |= Self.flagMap
            dataType = Kernel.verdictMapData
            dataLength = 16
            udata.putU32(1, 0)
        case .data(let data):
            let type = try FieldType(data)
            flags |= Self.flagMap
            dataType = type.datatype
            dataLength = UInt32(type.length)
            udata.putU32(1, type.byteorder)
        case .concatenatedData(let data):
            var fields: [FieldType] = []
            for type in data { fields.append(try FieldType(type)) }
            guard fields.count > 1 else { throw NetlinkError(.unsupported, "set \(set.name): concatenated data of one field") }
            flags |= Self.flagMap
            dataType = fields.reduce(UInt32(0)) { $0 << 6 | $1.datatype }
            dataLength = UInt32(fields.reduce(0) { $0 + Kernel.slots(forLength: $1.length) * 4 })
            udata.putU32(1, 0)
        }
        if let typeof = set.typeof {
            guard let key = Self.typeof(typeof.key.count == 1 ? typeof.key[0] : .concat(typeof.key)) else {
                throw NetlinkError(.unsupported, "set \(set.name): typeof key")
            }
            udata.put(3, key)
            if !typeof.data.isEmpty {
                guard let data = Self.typeof(typeof.data.count == 1 ? typeof.data[0] : .concat(typeof.data)) else {
                    throw NetlinkError(.unsupported, "set \(set.name): typeof data")
                }
                udata.put(4, data)
            }
        } else if types.count > 1 {
            udata.put(3, [0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00])
        }
        if set.isMap { udata.putU32(6, 0) }
        if let comment = set.comment { udata.putString(7, comment) }
        self.flags = flags
        if let timeout = set.timeout {
            guard timeout >= 0, timeout < Int(UInt32.max) else { throw NetlinkError(.unsupported, "set \(set.name): timeout \(timeout)") }
            timeoutMilliseconds = UInt64(timeout) * 1000
        }
        if let size = set.size {
            guard size > 0, size <= Int(UInt32.max) else { throw NetlinkError(.unsupported, "set \(set.name): size \(size)") }
            self.size = UInt32(size)
        } else if flags & Self.flagEval != 0 {
            self.size = Self.dynamicSize
        }
        userdata = udata.bytes
        guard userdata.count <= 256 else { throw NetlinkError(.unsupported, "set \(set.name): userdata over 256 bytes") }
    }

    /// A layout read back from the kernel; nil when a key datatype is not one kubenft uses.
    package init?(keyType: UInt32, flags: UInt32, dataType: UInt32?, dataLength: UInt32?, timeoutMilliseconds: UInt64?,
          size: UInt32?, userdata: [UInt8]) {
        var types: [FieldType] = []
        var remaining = keyType
        repeat {
            guard let type = FieldType.forDatatype(remaining & 0x3f) else { return nil }
            types.insert(type, at: 0)
            remaining >>= 6
        } while remaining != 0
        keyTypes = types
        self.flags = flags
        self.dataType = dataType
        self.dataLength = dataLength
        self.timeoutMilliseconds = timeoutMilliseconds
        self.size = size
        self.userdata = userdata
    }

    /// The anonymous set nft declares for `{ a, b }` after a match.
    package init(anonymous set: AnonymousSet, elementCount: Int) {
        keyTypes = [set.type]
        flags = Self.flagAnonymous | Self.flagConstant | (set.interval ? Self.flagInterval : 0)
        size = UInt32(elementCount)
        var udata = UserData()
        udata.putU32(0, set.type.byteorder)
        if set.interval { udata.putU32(2, 1) }
        if let typeof = Self.typeof(set.key) { udata.put(3, typeof) }
        userdata = udata.bytes
    }

    /// The data field types of a map with concatenated data (packed 6 bits per field); nil otherwise.
    package var dataTypes: [FieldType]? {
        guard let dataType, dataType != Kernel.verdictMapData, dataType > 0x3f else { return nil }
        var types: [FieldType] = []
        var remaining = dataType
        while remaining != 0 {
            guard let type = FieldType.forDatatype(remaining & 0x3f) else { return nil }
            types.insert(type, at: 0)
            remaining >>= 6
        }
        return types
    }

    /// The inverse of `typeof(_:)` for the expressions kubenft declares sets with.
    package static func typeofExpression(_ bytes: [UInt8]) -> Expression? {
        guard let kind = UserData.find(0, in: bytes).map(ValueCodec.hostValue), let inner = UserData.find(1, in: bytes) else {
            return nil
        }
        let field = { (type: UInt8) -> UInt32? in UserData.find(type, in: inner).map { UInt32(ValueCodec.hostValue($0)) } }
        switch kind {
        case 7:
            return KernelFields.payloads.first { typeof(.payload($0.field)) == bytes }.map { .payload($0.field) }
        case 9:
            return field(0).flatMap(KernelFields.meta(number:)).map { .meta($0.key) }
        case 23:
            guard field(0) == 1, let modulus = field(1), let offset = field(2) else { return nil }
            return .randomNumber(modulus: Int(modulus), offset: Int(offset))
        case 13:
            var parts: [Expression] = []
            var index: UInt8 = 0
            while let part = UserData.find(index, in: inner) {
                guard let expression = typeofExpression(part) else { return nil }
                parts.append(expression)
                index += 1
            }
            return .concat(parts)
        default:
            return nil
        }
    }

    /// nft's `typeof` description of a key expression (what `nft list` uses to print the key).
    package static func typeof(_ expression: Expression) -> [UInt8]? {
        var inner = UserData()
        var outer = UserData()
        switch expression {
        case .payload(let field):
            let fact = KernelFields.payload(field)
            inner.putU32(0, fact.typeofDescription)
            inner.putU32(1, fact.typeofIndex)
            outer.putU32(0, 7)
        case .conntrack(let key):
            inner.putU32(0, KernelFields.conntrack(key).number)
            inner.putU32(1, UInt32.max)
            outer.putU32(0, 12)
        case .meta(let key):
            inner.putU32(0, KernelFields.meta(key).number)
            outer.putU32(0, 9)
        case .randomNumber(let modulus, let offset):
            inner.putU32(0, 1 /* NFT_NG_RANDOM */)
            inner.putU32(1, UInt32(truncatingIfNeeded: modulus))
            inner.putU32(2, UInt32(truncatingIfNeeded: offset))
            outer.putU32(0, 23)
        case .concat(let parts):
            for (index, part) in parts.enumerated() {
                guard index < 32, let field = typeof(part) else { return nil }
                inner.put(UInt8(index), field)
            }
            outer.putU32(0, 13)
        default:
            return nil
        }
        outer.put(1, inner.bytes)
        return outer.bytes
    }
}

/// nftnl's userdata TLVs: one type byte, one length byte, the value.
package struct UserData {
    package var bytes: [UInt8] = []

    package mutating func put(_ type: UInt8, _ value: [UInt8]) {
        bytes.append(type)
        bytes.append(UInt8(truncatingIfNeeded: value.count))
        bytes += value
    }

    package mutating func putU32(_ type: UInt8, _ value: UInt32) { put(type, ValueCodec.littleEndian(UInt64(value), count: 4)) }

    package mutating func putString(_ type: UInt8, _ text: String) { put(type, Array(text.utf8) + [0]) }

    /// The NUL-terminated string stored under `type`, if any.
    package static func string(_ type: UInt8, in bytes: [UInt8]) -> String? {
        guard let value = find(type, in: bytes), let end = value.firstIndex(of: 0) else { return nil }
        return String(decoding: value[..<end], as: UTF8.self)
    }

    package static func find(_ type: UInt8, in bytes: [UInt8]) -> [UInt8]? {
        var index = 0
        while index + 2 <= bytes.count {
            let length = Int(bytes[index + 1])
            guard index + 2 + length <= bytes.count else { return nil }
            if bytes[index] == type { return Array(bytes[(index + 2)..<(index + 2 + length)]) }
            index += 2 + length
        }
        return nil
    }

    /// Userdata holding only a comment (tables, chains, rules, elements).
    package static func comment(_ text: String?) -> [UInt8]? {
        guard let text else { return nil }
        var data = UserData()
        data.putString(0, text)
        return data.bytes
    }
}
