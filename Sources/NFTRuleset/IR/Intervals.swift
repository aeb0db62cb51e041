import NetAddress

extension NamedSet {
    /// The same set with no two elements overlapping, as the kernel requires of an interval set
    /// (`nft -f` fails with "conflicting intervals", the netlink applier refuses): an element inside
    /// another is dropped, duplicates are merged, and partly overlapping elements become the prefixes
    /// (or port range) of their union. Sets that are not single-key interval sets, maps, and sets whose
    /// elements already are disjoint come back unchanged.
    public func withDisjointIntervals() -> NamedSet {
        guard flags.contains(.interval), key.count == 1, case .none = mapping, elements.count > 1 else { return self }
        var spans: [IntervalSpan] = []
        spans.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard element.key.count == 1, let span = IntervalSpan(element.key[0], index: index) else { return self }
            spans.append(span)
        }
        spans.sort { ($0.kind, $0.lower, $1.upper, $0.index) < ($1.kind, $1.lower, $0.upper, $1.index) }
        var groups: [(members: [IntervalSpan], upper: UInt128)] = []
        for span in spans {
            if let last = groups.last, last.members[0].kind == span.kind, span.lower <= last.upper {
                groups[groups.count - 1].members.append(span)
                groups[groups.count - 1].upper = max(last.upper, span.upper)
            } else {
                groups.append(([span], span.upper))
            }
        }
        guard groups.count < spans.count else { return self }
        var result = self
        result.elements = groups.flatMap { group -> [SetElement] in
            let head = group.members[0]
            // Sorted by lower bound, then widest first: the head covers the group when any member does.
            if head.upper == group.upper { return [elements[head.index]] }
            return head.kind.elements(lower: head.lower, upper: group.upper)
        }
        return result
    }
}

/// One interval-set element as the closed range of numbers it covers.
private struct IntervalSpan {
    enum Kind: Comparable {
        case address(IPFamily)
        case port

        func elements(lower: UInt128, upper: UInt128) -> [SetElement] {
            switch self {
            case .address(let family):
                return AddressRange(family: family, lower: lower, upper: upper).prefixes.map { cidr in
                    SetElement(key: [cidr.prefixLength == cidr.address.bitWidth ? .address(cidr.address) : .prefix(cidr)])
                }
            case .port:
                let low = UInt16(lower), high = UInt16(upper)
                return [SetElement(key: [low == high ? .port(low) : .portRange(low, high)])]
            }
        }
    }

    var kind: Kind
    var lower: UInt128
    var upper: UInt128
    var index: Int

    init?(_ value: Value, index: Int) {
        self.index = index
        switch value {
        case .address(let address):
            (kind, lower, upper) = (.address(address.family), address.numericValue, address.numericValue)
        case .prefix(let cidr):
            let range = AddressRange(cidr)
            (kind, lower, upper) = (.address(cidr.family), range.lower, range.upper)
        case .addressRange(let low, let high):
            guard low.family == high.family, low <= high else { return nil }
            (kind, lower, upper) = (.address(low.family), low.numericValue, high.numericValue)
        case .port(let port):
            (kind, lower, upper) = (.port, UInt128(port), UInt128(port))
        case .portRange(let low, let high):
            guard low <= high else { return nil }
            (kind, lower, upper) = (.port, UInt128(low), UInt128(high))
        case .integer, .hex, .proto, .symbol:
            return nil
        }
    }
}
