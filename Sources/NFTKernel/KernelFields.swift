import NFTRuleset
import NetAddress

/// The per-field kernel facts in one table, read both ways: for every packet field kubenft loads
/// into a register, the kernel expression that loads it (payload base and offset, meta or ct key
/// number), its nft datatype (`FieldType`: length, datatype id, byte order) and the `typeof`
/// description nft records for it. The linearizer looks fields up by IR name, the raiser and the
/// set decoder by kernel numbers, so the two directions cannot disagree.
package enum KernelFields {
    /// A header field read with a `payload` expression.
    package struct Payload: Sendable {
        package var field: PayloadField
        package var base: UInt32
        package var offset: UInt32
        package var type: FieldType
        /// The header family the field belongs to (nil: the transport header of either).
        package var family: IPFamily?
        /// nft's `typeof` description: protocol description id and field index in it.
        package var typeofDescription: UInt32
        package var typeofIndex: UInt32
    }

    /// A `meta` key.
    package struct Meta: Sendable {
        package var key: MetaKey
        package var number: UInt32
        package var type: FieldType
    }

    /// A `ct` key read without a direction.
    package struct Conntrack: Sendable {
        package var key: ConntrackKey
        package var number: UInt32
        package var type: FieldType
    }

    package static let payloads: [Payload] = [
        Payload(field: .ipSaddr, base: Kernel.payloadNetwork, offset: 12, type: .ipv4, family: .v4, typeofDescription: 12, typeofIndex: 11),
        Payload(field: .ipDaddr, base: Kernel.payloadNetwork, offset: 16, type: .ipv4, family: .v4, typeofDescription: 12, typeofIndex: 12),
        Payload(field: .ip6Saddr, base: Kernel.payloadNetwork, offset: 8, type: .ipv6, family: .v6, typeofDescription: 13, typeofIndex: 8),
        Payload(field: .ip6Daddr, base: Kernel.payloadNetwork, offset: 24, type: .ipv6, family: .v6, typeofDescription: 13, typeofIndex: 9),
        Payload(field: .thSport, base: Kernel.payloadTransport, offset: 0, type: .port, family: nil, typeofDescription: 11, typeofIndex: 1),
        Payload(field: .thDport, base: Kernel.payloadTransport, offset: 2, type: .port, family: nil, typeofDescription: 11, typeofIndex: 2),
    ]

    package static let metas: [Meta] = [
        Meta(key: .l4proto, number: Kernel.metaL4proto, type: .proto),
        Meta(key: .nfproto, number: Kernel.metaNfproto, type: .nfproto),
        Meta(key: .mark, number: Kernel.metaMark, type: .mark),
        Meta(key: .iifname, number: Kernel.metaIifname, type: .ifname),
        Meta(key: .oifname, number: Kernel.metaOifname, type: .ifname),
    ]

    package static let conntracks: [Conntrack] = [
        Conntrack(key: .state, number: Kernel.ctState, type: .ctState),
        Conntrack(key: .status, number: Kernel.ctStatus, type: .ctStatus),
        Conntrack(key: .mark, number: Kernel.ctMark, type: .mark),
    ]

    package static func payload(_ field: PayloadField) -> Payload {
        // Every PayloadField has a row (checked by the field table test).
        payloads.first { $0.field == field } ?? payloads[0]
    }

    /// The field a payload load reads, where the rule's known family (if any) allows it.
    package static func payload(base: UInt32, offset: UInt32, family: IPFamily?) -> Payload? {
        payloads.first { $0.base == base && $0.offset == offset && ($0.family == nil || family == nil || $0.family == family) }
    }

    package static func meta(_ key: MetaKey) -> Meta { metas.first { $0.key == key } ?? metas[0] }
    package static func meta(number: UInt32) -> Meta? { metas.first { $0.number == number } }
    package static func conntrack(_ key: ConntrackKey) -> Conntrack { conntracks.first { $0.key == key } ?? conntracks[0] }
    package static func conntrack(number: UInt32) -> Conntrack? { conntracks.first { $0.number == number } }
}
