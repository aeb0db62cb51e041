import KubeManifest
import NFTRuleset

/// The sort keys of a list of set elements, all in one byte buffer: an element's key is its values'
/// `Value.sortKey` bytes, each followed by 0xFF, so the byte order of two keys is the element order.
/// One buffer and one offset per element instead of an array per value and per element: building
/// and comparing the keys of a million elements then allocates nothing per element.
struct ElementSortKeys {
    private var bytes: [UInt8] = []
    /// Where element `i`'s key starts; `starts[i + 1]` is where it ends.
    private var starts: [Int] = []

    init(_ elements: [SetElement]) {
        starts.reserveCapacity(elements.count + 1)
        bytes.reserveCapacity(elements.count * 8)
        for element in elements {
            starts.append(bytes.count)
            for value in element.key {
                value.appendSortKey(to: &bytes)
                bytes.append(0xFF)
            }
        }
        starts.append(bytes.count)
    }

    var count: Int { starts.count - 1 }

    /// The key of element `index`, as `Value.sortKey` and 0xFF per value would build it.
    func key(_ index: Int) -> ArraySlice<UInt8> { bytes[starts[index]..<starts[index + 1]] }

    /// Element positions in key order, equal keys in their original order, the first of equal keys
    /// kept; nil when the elements already are strictly in key order (they are often generated in
    /// order, and one pass finds that without sorting).
    func sortedUniqueOrder() -> [Int]? {
        bytes.withUnsafeBufferPointer { buffer in
            starts.withUnsafeBufferPointer { starts in
                let compare = { (lhs: Int, rhs: Int) -> Int in
                    Self.compare(buffer, starts[lhs]..<starts[lhs + 1], starts[rhs]..<starts[rhs + 1])
                }
                let count = starts.count - 1
                if (0..<max(count - 1, 0)).allSatisfy({ compare($0, $0 + 1) < 0 }) { return nil }
                // The sort is stable, so equal keys stay in their original order.
                let order = (0..<count).sorted { compare($0, $1) < 0 }
                var result: [Int] = []
                result.reserveCapacity(count)
                for index in order where result.last.map({ compare($0, index) != 0 }) ?? true {
                    result.append(index)
                }
                return result
            }
        }
    }

    /// Lexicographic comparison of two byte ranges: negative, zero or positive.
    private static func compare(_ buffer: UnsafeBufferPointer<UInt8>, _ lhs: Range<Int>, _ rhs: Range<Int>) -> Int {
        let common = min(lhs.count, rhs.count)
        var offset = 0
        while offset < common {
            let left = buffer[lhs.lowerBound + offset], right = buffer[rhs.lowerBound + offset]
            if left != right { return left < right ? -1 : 1 }
            offset += 1
        }
        return lhs.count - rhs.count
    }
}
