#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An address family, as Kubernetes' `ipFamilies` and nftables' `ip` / `ip6` name them.
public enum IPFamily: String, Sendable, Hashable, Comparable, CaseIterable {
    case v4 = "IPv4"
    case v6 = "IPv6"

    public static func < (lhs: IPFamily, rhs: IPFamily) -> Bool { lhs == .v4 && rhs == .v6 }
}

/// An IPv4 or IPv6 address held as a number, so comparing, hashing, sorting and printing never
/// allocate and never depend on how the manifest spelled it.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Upper 64 bits of an IPv6 address; 0 for IPv4.
    private let high: UInt64
    /// Lower 64 bits of an IPv6 address, or the IPv4 address in the low 32 bits.
    private let low: UInt64
    public let family: IPFamily

    private init(high: UInt64, low: UInt64, family: IPFamily) {
        self.high = high
        self.low = low
        self.family = family
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.init(validatedBytes: bytes)
    }

    /// For callers that built exactly 4 or 16 bytes themselves.
    init(validatedBytes bytes: [UInt8]) {
        if bytes.count == 4 {
            self.init(high: 0, low: bytes.reduce(0) { ($0 << 8) | UInt64($1) }, family: .v4)
        } else {
            self.init(high: bytes[0..<8].reduce(0) { ($0 << 8) | UInt64($1) },
                      low: bytes[8..<16].reduce(0) { ($0 << 8) | UInt64($1) }, family: .v6)
        }
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nil for anything else (no zones, no prefixes).
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        // inet_pton reads a C string: text with a NUL byte would be read only up to it.
        guard !string.isEmpty, string.utf8.count <= 45, !string.utf8.contains(0) else { return nil }
        if string.utf8.contains(UInt8(ascii: ":")) {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, string, &raw) == 1 else { return nil }
            self.init(validatedBytes: withUnsafeBytes(of: &raw) { Array($0) })
        } else {
            // inet_pton rejects leading zeros and short forms, as Kubernetes validation does.
            var raw = in_addr()
            guard inet_pton(AF_INET, string, &raw) == 1 else { return nil }
            self.init(high: 0, low: UInt64(UInt32(bigEndian: raw.s_addr)), family: .v4)
        }
    }

    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public var bytes: [UInt8] {
        if family == .v4 { return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) } }
        return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) } + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    public var bitWidth: Int { family == .v4 ? 32 : 128 }

    /// Canonical text: dotted quad, or RFC 5952 compressed IPv6.
    public var description: String {
        if family == .v4 { return v4Description }
        var buffer = [CChar](repeating: 0, count: 64)
        let raw = bytes
        let ok: Bool = raw.withUnsafeBytes { pointer in
            buffer.withUnsafeMutableBufferPointer { out in
                inet_ntop(AF_INET6, pointer.baseAddress, out.baseAddress, 64) != nil
            }
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Appends `description` to `text`; an IPv4 address is written without allocating (its at
    /// most 15 bytes make a small string), which matters when printing a million of them.
    public func appendDescription(to text: inout String) {
        text += family == .v4 ? v4Description : description
    }

    /// The dotted quad, formatted in a stack buffer of 15 bytes.
    private var v4Description: String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 15) { buffer in
            var count = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                if shift != 24 {
                    buffer[count] = UInt8(ascii: ".")
                    count += 1
                }
                let octet = UInt8(truncatingIfNeeded: low >> UInt64(shift))
                if octet >= 100 {
                    buffer[count] = UInt8(ascii: "0") + octet / 100
                    count += 1
                }
                if octet >= 10 {
                    buffer[count] = UInt8(ascii: "0") + (octet / 10) % 10
                    count += 1
                }
                buffer[count] = UInt8(ascii: "0") + octet % 10
                count += 1
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<count]), as: UTF8.self)
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.family != rhs.family { return lhs.family == .v4 }
        return (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// True for 127.0.0.0/8 and ::1.
    public var isLoopback: Bool {
        family == .v4 ? (low >> 24) == 127 : (high == 0 && low == 1)
    }

    /// True for 0.0.0.0 and ::.
    public var isUnspecified: Bool { high == 0 && low == 0 }

    /// The address as an unsigned number (IPv4 in the low 32 bits).
    public var numericValue: UInt128 { (UInt128(high) << 64) | UInt128(low) }

    /// Builds an address from its numeric value.
    public init(numericValue: UInt128, family: IPFamily) {
        if family == .v4 {
            self.init(high: 0, low: UInt64(truncatingIfNeeded: numericValue) & 0xFFFF_FFFF, family: .v4)
        } else {
            self.init(high: UInt64(truncatingIfNeeded: numericValue >> 64), low: UInt64(truncatingIfNeeded: numericValue), family: .v6)
        }
    }

    /// The address with the lowest `bitWidth - prefixLength` bits cleared.
    func masked(to prefixLength: Int) -> IPAddress {
        let hostBits = bitWidth - prefixLength
        let mask: UInt128 = hostBits >= 128 ? 0 : ~((UInt128(1) << hostBits) - 1)
        return IPAddress(numericValue: numericValue & mask, family: family)
    }
}

/// An address prefix such as `10.244.0.0/16`, always stored with host bits cleared.
public struct CIDR: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Builds a prefix, clearing host bits. Nil when the length does not fit the family.
    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bitWidth else { return nil }
        self.address = address.masked(to: prefixLength)
        self.prefixLength = prefixLength
    }

    /// Parses `addr/len`; a bare address is a host prefix only when `allowBareAddress` is set.
    public init?(_ text: some StringProtocol, allowBareAddress: Bool = false) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 1, allowBareAddress, let address = IPAddress(parts[0]) {
            self.init(address: address, prefixLength: address.bitWidth)
            return
        }
        guard parts.count == 2, let address = IPAddress(parts[0]),
              !parts[1].isEmpty, parts[1].count <= 3, parts[1].allSatisfy(\.isASCIIDigitCharacter),
              let length = Int(parts[1]) else { return nil }
        self.init(address: address, prefixLength: length)
    }

    public var family: IPFamily { address.family }
    public var description: String { "\(address)/\(prefixLength)" }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.family == family else { return false }
        return other.masked(to: prefixLength) == address
    }

    public func contains(_ other: CIDR) -> Bool {
        other.prefixLength >= prefixLength && contains(other.address)
    }

    public static func < (lhs: CIDR, rhs: CIDR) -> Bool {
        lhs.address == rhs.address ? lhs.prefixLength < rhs.prefixLength : lhs.address < rhs.address
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

extension IPAddress {
    /// Reads an address from bytes that are only ASCII digits and dots, accepting exactly what
    /// `init?(_:)` accepts for such text (four decimal octets up to 255, no leading zeros, nothing
    /// more), without making a String first. Nil for anything else, including any other byte:
    /// callers that get nil fall back to `init?(_:)`, which also handles IPv6.
    public init?(dottedQuad bytes: UnsafeBufferPointer<UInt8>) {
        guard !bytes.isEmpty, bytes.count <= 15 else { return nil }
        var value: UInt32 = 0, octet: UInt32 = 0, octets = 0
        var sawDigit = false
        for byte in bytes {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                guard !sawDigit || octet != 0 else { return nil }
                octet = octet * 10 + UInt32(byte - UInt8(ascii: "0"))
                guard octet <= 255 else { return nil }
                if !sawDigit {
                    octets += 1
                    guard octets <= 4 else { return nil }
                    sawDigit = true
                }
            } else if byte == UInt8(ascii: "."), sawDigit, octets < 4 {
                value = value << 8 | octet
                octet = 0
                sawDigit = false
            } else {
                return nil
            }
        }
        guard octets == 4, sawDigit else { return nil }
        self.init(high: 0, low: UInt64(value << 8 | octet), family: .v4)
    }
}
