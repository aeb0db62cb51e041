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

/// An IPv4 or IPv6 address held as bytes, so comparing, sorting and printing never depend on
/// how the manifest spelled it.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// For callers that built exactly 4 or 16 bytes themselves.
    init(validatedBytes bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses dotted-quad IPv4 or RFC 4291 IPv6 text; nil for anything else (no zones, no prefixes).
    public init?(_ text: some StringProtocol) {
        let string = String(text)
        guard !string.isEmpty, string.count <= 45 else { return nil }
        if string.contains(":") {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, string, &raw) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &raw) { Array($0) }
        } else {
            // inet_pton rejects leading zeros and short forms, as Kubernetes validation does.
            var raw = in_addr()
            guard inet_pton(AF_INET, string, &raw) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &raw) { Array($0) }
        }
    }

    public var family: IPFamily { bytes.count == 4 ? .v4 : .v6 }
    public var bitWidth: Int { bytes.count * 8 }

    /// Canonical text: dotted quad, or RFC 5952 compressed IPv6.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let ok: Bool = bytes.withUnsafeBytes { raw in
            buffer.withUnsafeMutableBufferPointer { out in
                inet_ntop(family == .v4 ? AF_INET : AF_INET6, raw.baseAddress, out.baseAddress, 64) != nil
            }
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.bytes.count != rhs.bytes.count { return lhs.bytes.count < rhs.bytes.count }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }

    /// True for 127.0.0.0/8 and ::1.
    public var isLoopback: Bool {
        family == .v4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// True for 0.0.0.0 and ::.
    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
}

/// An address prefix such as `10.244.0.0/16`, always stored with host bits cleared.
public struct CIDR: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// Builds a prefix, clearing host bits. Nil when the length does not fit the family.
    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bitWidth else { return nil }
        var bytes = address.bytes
        for index in bytes.indices {
            let bitsBefore = index * 8
            if bitsBefore >= prefixLength {
                bytes[index] = 0
            } else if bitsBefore + 8 > prefixLength {
                let keep = prefixLength - bitsBefore
                bytes[index] &= UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
            }
        }
        guard let masked = IPAddress(bytes: bytes) else { return nil }
        self.address = masked
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
        return CIDR(address: other, prefixLength: prefixLength)?.address == address
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
