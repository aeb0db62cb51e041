/// An inclusive range of addresses of one family, for set arithmetic on ipBlocks (cidr minus except)
/// and for merging overlapping prefixes before they become nft interval-set elements, which must
/// never overlap.
public struct AddressRange: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let family: IPFamily
    public let lower: UInt128
    public let upper: UInt128

    public init(family: IPFamily, lower: UInt128, upper: UInt128) {
        self.family = family
        self.lower = lower
        self.upper = upper
    }

    public init(_ cidr: CIDR) {
        let value = cidr.address.numericValue
        let hostBits = cidr.address.bitWidth - cidr.prefixLength
        let span: UInt128 = hostBits >= 128 ? UInt128.max : (UInt128(1) << hostBits) - 1
        self.init(family: cidr.family, lower: value, upper: value | span)
    }

    public init(_ address: IPAddress) {
        self.init(family: address.family, lower: address.numericValue, upper: address.numericValue)
    }

    public var lowerAddress: IPAddress { IPAddress(numericValue: lower, family: family) }
    public var upperAddress: IPAddress { IPAddress(numericValue: upper, family: family) }
    public var isSingleAddress: Bool { lower == upper }

    public var description: String { isSingleAddress ? "\(lowerAddress)" : "\(lowerAddress)-\(upperAddress)" }

    public static func < (lhs: AddressRange, rhs: AddressRange) -> Bool {
        if lhs.family != rhs.family { return lhs.family < rhs.family }
        return lhs.lower == rhs.lower ? lhs.upper < rhs.upper : lhs.lower < rhs.lower
    }

    /// Sorts and merges overlapping or adjacent ranges of each family.
    public static func union(_ ranges: [AddressRange]) -> [AddressRange] {
        var merged: [AddressRange] = []
        for range in ranges.sorted() {
            if let last = merged.last, last.family == range.family,
               last.upper == UInt128.max || range.lower <= last.upper + 1 {
                merged[merged.count - 1] = AddressRange(family: last.family, lower: last.lower, upper: max(last.upper, range.upper))
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// The parts of `self` not covered by any of `holes`.
    public func subtracting(_ holes: [AddressRange]) -> [AddressRange] {
        var pieces: [AddressRange] = []
        var cursor = lower
        var exhausted = false
        for hole in AddressRange.union(holes) where hole.family == family && hole.upper >= lower && hole.lower <= upper {
            if hole.lower > cursor { pieces.append(AddressRange(family: family, lower: cursor, upper: hole.lower - 1)) }
            if hole.upper >= upper { exhausted = true; break }
            cursor = hole.upper + 1
        }
        if !exhausted && cursor <= upper { pieces.append(AddressRange(family: family, lower: cursor, upper: upper)) }
        return pieces
    }

    /// The shortest list of prefixes covering exactly this range.
    public var prefixes: [CIDR] {
        var result: [CIDR] = []
        var start = lower
        let width = family == .v4 ? 32 : 128
        while true {
            var size = start == 0 ? width : min(width, start.trailingZeroBitCount)
            while size > 0 {
                let span: UInt128 = size >= 128 ? UInt128.max : (UInt128(1) << size) - 1
                if start <= UInt128.max - span && start + span <= upper { break }
                size -= 1
            }
            let span: UInt128 = size >= 128 ? UInt128.max : (UInt128(1) << size) - 1
            if let cidr = CIDR(address: IPAddress(numericValue: start, family: family), prefixLength: width - size) { result.append(cidr) }
            if start + span >= upper { break }
            start = start + span + 1
        }
        return result
    }
}

