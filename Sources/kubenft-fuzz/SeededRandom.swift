/// A small deterministic generator (SplitMix64), so a run is reproduced exactly by its seed.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    mutating func chance(_ probability: Double) -> Bool {
        Double(next() >> 11) / Double(1 << 53) < probability
    }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    mutating func shuffled<T>(_ items: [T]) -> [T] {
        var copy = items
        copy.shuffle(using: &self)
        return copy
    }

    /// A seed for one iteration, derived from the run seed so any iteration can be replayed alone.
    static func iterationSeed(run: UInt64, iteration: Int) -> UInt64 {
        var mixer = SeededRandom(seed: run ^ (UInt64(iteration) &* 0xD1B5_4A32_D192_ED03))
        return mixer.next()
    }
}
