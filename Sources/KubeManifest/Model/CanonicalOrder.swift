extension Array {
    /// Puts the elements in the order a stable sort by `key` and `less` gives, computing each key
    /// once. An array already in that order is left alone after one pass over the keys (the usual
    /// case: every list is sorted once per load and confirmed after each later step), and an array
    /// out of order is permuted in place by swaps, so no element is copied.
    mutating func sortStably<Key>(by key: (Element) -> Key, _ less: (Key, Key) -> Bool) {
        guard count > 1 else { return }
        let keys = map(key)
        guard keys.indices.dropFirst().contains(where: { less(keys[$0], keys[$0 - 1]) }) else { return }
        // Equal keys keep their input order: the index breaks ties.
        let order = keys.indices.sorted { less(keys[$0], keys[$1]) || (!less(keys[$1], keys[$0]) && $0 < $1) }
        applyPermutation(order)
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
