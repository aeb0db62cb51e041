import Foundation

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

    /// `sortStably(by:)` for names in `String` order.
    mutating func sortStably(byName name: (Element) -> String) {
        sortStably(namespace: { _ in "" }, name: name)
    }

    /// `sortStably(by:)` for qualified names (`namespace/name`, or `name` when the namespace is
    /// empty) in `String` order, without building the qualified names. Kubernetes names and
    /// namespaces are ASCII, whose `String` order is the order of their bytes: the keys are written
    /// once into one byte buffer and compared with `memcmp`. When any key is not ASCII, they are
    /// compared as strings (ASCII names of up to 16 bytes packed into two integers).
    mutating func sortStably(namespace: (Element) -> String, name: (Element) -> String) {
        guard count > 1 else { return }
        var keys = ByteKeys(capacity: count)
        for index in indices { keys.append(namespace: namespace(self[index]), name: name(self[index])) }
        sortStably(keys: keys)
    }

    /// The stable sort by `keys` (key i is element i's), as `sortStably(namespace:name:)` orders.
    /// Callers that know the element type build the keys by reading each element's name in place,
    /// where a closure taking the element would copy it.
    mutating func sortStably(keys: ByteKeys) {
        guard count > 1 else { return }
        guard keys.isASCII else {
            let names = indices.map { keys.string($0) }
            let packed = names.map(PackedName.init)
            sortStably(positions: { left, right in
                if let first = packed[left], let second = packed[right] { return first < second }
                return names[left] < names[right]
            })
            return
        }
        keys.bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            let starts = keys.starts
            /// memcmp order of keys `left` and `right`: negative, zero or positive.
            func compare(_ left: Int, _ right: Int) -> Int32 {
                let leftStart = starts[left], leftCount = starts[left + 1] - leftStart
                let rightStart = starts[right], rightCount = starts[right + 1] - rightStart
                let common = memcmp(base + leftStart, base + rightStart, Swift.min(leftCount, rightCount))
                if common != 0 { return common }
                return leftCount == rightCount ? 0 : (leftCount < rightCount ? -1 : 1)
            }
            guard indices.dropFirst().contains(where: { compare($0, $0 - 1) < 0 }) else { return }
            // Equal keys keep their input order: the index breaks ties.
            let order = indices.sorted { left, right in
                let order = compare(left, right)
                return order < 0 || (order == 0 && left < right)
            }
            applyPermutation(order)
        }
    }

    /// Rearranges the elements so that position i holds the element that was at `order[i]`,
    /// following the permutation's cycles and moving each element once (no copies, so no
    /// retains of what the elements hold).
    mutating func applyPermutation(_ order: [Int]) {
        var placed = [Bool](repeating: false, count: count)
        withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for start in buffer.indices where !placed[start] {
                placed[start] = true
                guard order[start] != start else { continue }
                let held = (base + start).move()
                var position = start
                while true {
                    let source = order[position]
                    if source == start {
                        (base + position).initialize(to: held)
                        break
                    }
                    (base + position).initialize(to: (base + source).move())
                    placed[source] = true
                    position = source
                }
            }
        }
    }
}

extension Array where Element: Sendable {
    /// `sortStably(keys:)` for a long list: from `threshold` elements on, the keys of each half
    /// are written and sorted as two tasks, and the two orders are merged; `alongside` is a third
    /// task of the same round (other work that may run at the same time), run first below the
    /// threshold. `key(list, i)` gives the namespace and name of `list[i]` (the list is passed in,
    /// so no closure holds a second reference to it when it is rearranged).
    mutating func sortStably(inHalvesFrom threshold: Int, alongside: @Sendable () -> Void = {},
                             key: @Sendable ([Element], Int) -> (namespace: String, name: String)) {
        guard count >= Swift.max(threshold, 2) else {
            alongside()
            sortStably(keys: ByteKeys(count: count) { key(self, $0) })
            return
        }
        guard let order = Self.mergedOrder(self, alongside, key) else {
            sortStably(keys: ByteKeys(count: count) { key(self, $0) })
            return
        }
        applyPermutation(order)
    }

    /// The stable order of `list` by its keys, from its halves' orders; nil when a key is not
    /// ASCII (then the keys are compared as strings, on one thread).
    private static func mergedOrder(_ list: [Element], _ alongside: @Sendable () -> Void,
                                    _ key: @Sendable ([Element], Int) -> (namespace: String, name: String)) -> [Int]? {
        let ranges = [0..<list.count / 2, list.count / 2..<list.count]
        // One round of three tasks (not a round inside another, which would run on one thread).
        let halves = Concurrently.map(3) { part -> (keys: ByteKeys, order: [Int])? in
            guard part < 2 else {
                alongside()
                return nil
            }
            let range = ranges[part]
            let keys = ByteKeys(count: range.count) { key(list, range.lowerBound + $0) }
            return (keys, keys.isASCII ? keys.sortedPositions() : [])
        }
        guard let first = halves[0], let second = halves[1], first.keys.isASCII, second.keys.isASCII else { return nil }
        // Positions of the second half count from its start in the list.
        let offset = ranges[1].lowerBound
        return Concurrently.merge(first.order, second.order.map { offset + $0 }) { later, earlier in
            ByteKeys.compare(second.keys, later - offset, first.keys, earlier) < 0
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

/// Sort keys of many objects written into one byte buffer: `namespace/name` (or `name`), one
/// after the other, so that sorting compares bytes in place instead of building a string each.
struct ByteKeys {
    var bytes: [UInt8] = []
    /// Where key i starts; key i ends where key i + 1 starts (one more entry than keys).
    var starts: [Int] = [0]
    /// False once a key holds a byte outside ASCII, whose `String` order is not byte order.
    private(set) var isASCII = true

    init(capacity: Int) {
        bytes.reserveCapacity(capacity * 32)
        starts.reserveCapacity(capacity + 1)
    }

    /// The keys of `count` objects, `key(i)` giving the namespace and name of object i.
    init(count: Int, _ key: (Int) -> (namespace: String, name: String)) {
        self.init(capacity: count)
        for index in 0..<count {
            let (namespace, name) = key(index)
            append(namespace: namespace, name: name)
        }
    }

    mutating func append(namespace: String, name: String) {
        if !namespace.isEmpty {
            append(namespace)
            bytes.append(UInt8(ascii: "/"))
        }
        append(name)
        starts.append(bytes.count)
    }

    private mutating func append(_ text: String) {
        let from = bytes.count
        bytes.append(contentsOf: text.utf8)
        if isASCII, bytes[from...].contains(where: { $0 >= 0x80 }) { isASCII = false }
    }

    /// Key `index` as a string.
    func string(_ index: Int) -> String { String(decoding: bytes[starts[index]..<starts[index + 1]], as: UTF8.self) }

    /// The positions of the keys in byte order, equal keys in position order.
    func sortedPositions() -> [Int] {
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress
            return (0..<(starts.count - 1)).sorted { left, right in
                let order = Self.compare(base, starts, left, base, starts, right)
                return order < 0 || (order == 0 && left < right)
            }
        }
    }

    /// The byte order of key `left` of `first` and key `right` of `second`: negative, zero or positive.
    static func compare(_ first: ByteKeys, _ left: Int, _ second: ByteKeys, _ right: Int) -> Int32 {
        first.bytes.withUnsafeBufferPointer { one in
            second.bytes.withUnsafeBufferPointer { two in
                compare(one.baseAddress, first.starts, left, two.baseAddress, second.starts, right)
            }
        }
    }

    private static func compare(_ leftBase: UnsafePointer<UInt8>?, _ leftStarts: [Int], _ left: Int,
                                _ rightBase: UnsafePointer<UInt8>?, _ rightStarts: [Int], _ right: Int) -> Int32 {
        let leftCount = leftStarts[left + 1] - leftStarts[left], rightCount = rightStarts[right + 1] - rightStarts[right]
        let common = Swift.min(leftCount, rightCount)
        if common > 0, let leftBase, let rightBase {
            let order = memcmp(leftBase + leftStarts[left], rightBase + rightStarts[right], common)
            if order != 0 { return order }
        }
        return leftCount == rightCount ? 0 : (leftCount < rightCount ? -1 : 1)
    }
}
