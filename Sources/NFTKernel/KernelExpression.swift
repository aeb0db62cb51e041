import NFTRuleset

/// Which named or anonymous set a lookup or dynset refers to. Anonymous sets are numbered within
/// their rule; the encoder gives them batch-wide ids.
package enum SetReference: Hashable, Sendable {
    case named(String)
    case anonymous(Int)
}

/// Comparison operators of the `cmp` and `range` expressions (NFT_CMP_*, NFT_RANGE_*).
package enum KernelComparison: UInt32, Hashable, Sendable {
    case eq = 0, neq, lt, lte, gt, gte
}

/// One kernel expression: the level nft's linearizer produces and `nft --debug=netlink` prints.
/// Registers are kernel register numbers (0 verdict, 1-4 wide, 8-23 four-byte).
package enum KernelExpression: Hashable, Sendable {
    /// NFT_PAYLOAD_NETWORK_HEADER = 1, NFT_PAYLOAD_TRANSPORT_HEADER = 2.
    case payload(base: UInt32, offset: UInt32, length: UInt32, dreg: UInt32)
    case meta(key: UInt32, dreg: UInt32)
    case metaSet(key: UInt32, sreg: UInt32)
    case conntrack(key: UInt32, direction: UInt8?, dreg: UInt32)
    case fib(result: UInt32, flags: UInt32, dreg: UInt32)
    /// `numgen random mod N offset K`.
    case numgen(modulus: UInt32, offset: UInt32, dreg: UInt32)
    /// Host to network order of a 4-byte value in place.
    case byteorder(sreg: UInt32, dreg: UInt32, length: UInt32, size: UInt32)
    case cmp(sreg: UInt32, op: KernelComparison, data: [UInt8])
    case range(sreg: UInt32, op: KernelComparison, low: [UInt8], high: [UInt8])
    /// `dreg = (sreg & mask) ^ xor`.
    case bitwise(sreg: UInt32, dreg: UInt32, mask: [UInt8], xor: [UInt8])
    /// Membership (`dreg` nil), verdict map (`dreg` 0) or data map lookup.
    case lookup(sreg: UInt32, set: SetReference, dreg: UInt32?, inverted: Bool)
    case immediateData(dreg: UInt32, data: [UInt8])
    case immediateVerdict(Verdict)
    /// Destination NAT; `flags` as nft sets them (NF_NAT_RANGE_PROTO_SPECIFIED for address:port).
    case dnat(family: UInt32, addressRegister: UInt32, portRegister: UInt32?, flags: UInt32?)
    case masquerade
    case reject(type: UInt32, code: UInt8)
    /// `update @set { key }`.
    case dynsetUpdate(sreg: UInt32, set: SetReference)
    case counter
    /// A packet-rate `limit`; `inverted` is `limit rate over` (NFT_LIMIT_F_INV).
    case limit(rate: UInt64, unit: UInt64, burst: UInt32, inverted: Bool)
    /// `update @set { key limit … }`: a dynset carrying one `limit` per element.
    case dynsetUpdateLimit(sreg: UInt32, set: SetReference, rate: UInt64, unit: UInt64, burst: UInt32)
    /// A reference to a named stateful object of the table (type NFT_OBJECT_*, 1 for counters).
    case objref(type: UInt32, name: String)
    /// `log prefix "…" group N`.
    case log(prefix: String, group: UInt16)
}

/// Kernel ABI numbers kubenft's expressions use.
package enum Kernel {
    package static let payloadNetwork: UInt32 = 1
    package static let payloadTransport: UInt32 = 2
    package static let metaMark: UInt32 = 3
    package static let metaIifname: UInt32 = 6
    package static let metaOifname: UInt32 = 7
    package static let metaNfproto: UInt32 = 15
    package static let metaL4proto: UInt32 = 16
    package static let ctState: UInt32 = 0
    package static let ctStatus: UInt32 = 2
    package static let ctMark: UInt32 = 3
    package static let ctDstIP: UInt32 = 20
    package static let ctDstIP6: UInt32 = 22
    package static let fibResultAddressType: UInt32 = 3
    package static let fibFlagSource: UInt32 = 1
    package static let fibFlagDestination: UInt32 = 2
    package static let nfprotoIPv4: UInt8 = 2
    package static let nfprotoIPv6: UInt8 = 10
    package static let natDestination: UInt32 = 1
    package static let natProtoSpecified: UInt32 = 2
    package static let rejectICMP: UInt32 = 0
    package static let rejectTCPReset: UInt32 = 1
    package static let rejectICMPX: UInt32 = 2
    package static let verdictMapData: UInt32 = 0xffff_ff00
    package static let objectCounter: UInt32 = 1

    /// Kernel register number of 4-byte slot `slot` counted from NFT_REG_1, as nft numbers them:
    /// the wide register when the slot starts one, the 4-byte register otherwise.
    package static func register(slot: Int) -> UInt32 {
        slot % 4 == 0 ? UInt32(1 + slot / 4) : UInt32(8 + slot)
    }

    /// The 4-byte slot a kernel register number starts at (inverse of `register(slot:)`).
    package static func slot(register: UInt32) -> Int? {
        switch register {
        case 1...4: return Int(register - 1) * 4
        case 8...23: return Int(register) - 8
        default: return nil
        }
    }

    package static func slots(forLength length: Int) -> Int { (length + 3) / 4 }
}
