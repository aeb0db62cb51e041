extension Array {
    /// Puts the elements in the order a stable sort by `key` and `less` gives, computing each key
    /// once. An array already in that order is left alone after one pass over the keys (the usual
    /// case: every list is sorted once per load and confirmed after each later step), and an array
    /// out of order is permuted in place by swaps, so no element is copied.
    mutating func sortStably<Key>(by key: (Element) -> Key, _ less: (Key, Key) -> Bool) {
        guard count > 1 else { return }
        let keys = map(key)
        sortStably(positions: { less(keys[$0], keys[$1]) })
    }

    /// The stable sort of the elements whose positions `less` orders.
    private mutating func sortStably(positions less: (Int, Int) -> Bool) {
        guard indices.dropFirst().contains(where: { less($0, $0 - 1) }) else { return }
        // Equal keys keep their input order: the index breaks ties.
        let order = indices.sorted { less($0, $1) || (!less($1, $0) && $0 < $1) }
        applyPermutation(order)
    }

    /// `sortStably(by:)` for names in `String` order. Kubernetes names and namespaces are ASCII,
    /// whose `String` order is the order of their bytes; a name of up to 16 ASCII bytes is packed
    /// into two integers compared without touching the strings again. Longer or non-ASCII names
    /// compare as strings.
    mutating func sortStably(byName name: (Element) -> String) {
        guard count > 1 else { return }
        let names = map(name)
        let packed = names.map(PackedName.init)
        sortStably(positions: { left, right in
            if let first = packed[left], let second = packed[right] { return first < second }
            return names[left] < names[right]
        })
    }

    /// Rearranges the elements so that position i holds the element that was at `order[i]`,
    /// following the permutation's cycles with swaps.
    private mutating func applyPermutation(_ order: [Int]) {
        var placed = [Bool](repeating: false, count: count)
        for start in indices where !placed[start] {
            var position = start
            while true {
                placed[position] = true
                let source = order[position]
                if source == start { break }
                swapAt(position, source)
                position = source
            }
        }
    }
}

extension Array {
    /// `sortStably(by:_:)` with the key's own order.
    mutating func sortStably<Key: Comparable>(by key: (Element) -> Key) { sortStably(by: key, <) }
}

/// Up to 16 ASCII bytes as one big-endian 128-bit number, zero-padded: for names without NUL
/// bytes, comparing the numbers compares the names byte by byte (a name sorts before its
/// extensions, as its padding zeros sort before any byte).
struct PackedName: Comparable {
    private let high: UInt64
    private let low: UInt64

    init?(_ name: String) {
        var high: UInt64 = 0, low: UInt64 = 0, count = 0
        for byte in name.utf8 {
            guard byte != 0, byte < 0x80, count < 16 else { return nil }
            if count < 8 { high |= UInt64(byte) << (56 - 8 * count) } else { low |= UInt64(byte) << (56 - 8 * (count - 8)) }
            count += 1
        }
        self.high = high
        self.low = low
    }

    static func < (left: PackedName, right: PackedName) -> Bool {
        left.high != right.high ? left.high < right.high : left.low < right.low
    }
}
