import KubeManifest

/// Work over a large range of items, split into two halves done on two threads and handed back in
/// range order. A zone's pod records, its serial's input and its text each depend on one item at a
/// time, so splitting them changes nothing but the time a large cluster's zone takes.
enum InHalves {
    /// Below this many items the work runs once, on the calling thread.
    static let threshold = 16_384

    /// `work` of each half, first half first; `[work(0..<count)]` below `threshold`.
    static func map<Result: Sendable>(_ count: Int, threshold: Int = threshold,
                                      _ work: @Sendable (Range<Int>) -> Result) -> [Result] {
        guard count >= max(threshold, 2) else { return [work(0..<count)] }
        let ranges = [0..<count / 2, count / 2..<count]
        return Concurrently.map(ranges.count) { work(ranges[$0]) }
    }
}
