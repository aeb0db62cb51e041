import KubeManifest

/// The exact fraction of new connections one backend should get: its group's weight over the
/// total weight, split equally between the group's members. Kept as integers so that every member
/// of a group has the very same share and nothing is rounded before the cascade's thresholds.
struct Share: Sendable, Hashable {
    var weight: UInt64
    var total: UInt64
    var members: UInt64

    /// One of `count` equal shares.
    static func equal(count: Int) -> Share { Share(weight: 1, total: 1, members: UInt64(count)) }

    /// `weight / (total × members)` as a floating-point number, for thresholds and printing only.
    var value: Double { Double(weight) / Double(total) / Double(members) }

    /// True when the share is below half of `1 / modulus`, so that it rounds to zero at the
    /// resolution of `numgen random mod modulus`: `2 × modulus × weight < total × members`.
    func roundsToZero(modulus: Int) -> Bool {
        let left = (2 * UInt64(modulus)).multipliedFullWidth(by: weight)
        let right = total.multipliedFullWidth(by: members)
        return left.high < right.high || (left.high == right.high && left.low < right.low)
    }
}

/// A backend and the fraction of new connections it receives.
struct WeightedBackend: Sendable, Hashable {
    var backend: Backend
    var fraction: Share
    /// `label=value` of the weight group, nil for equal shares.
    var group: String?

    init(backend: Backend, fraction: Share, group: String? = nil) {
        self.backend = backend
        self.fraction = fraction
        self.group = group
    }

    /// A share known only as a floating-point fraction (kept to 2⁻⁴⁰).
    init(backend: Backend, share: Double) {
        let scale: UInt64 = 1 << 40
        self.init(backend: backend, fraction: Share(weight: UInt64((max(0, share) * Double(scale)).rounded()), total: scale, members: 1))
    }

    var share: Double { fraction.value }
}

/// Turns usable backends (and an optional weight annotation) into shares that add up to 1.
enum ShareCalculator {
    /// Equal shares, or the annotation's group weights split equally inside each group. Groups with no
    /// usable backend give their weight to the others in proportion; backends in no group get nothing.
    static func shares(for backends: [Backend], weights: WeightSpec?, labels: (Backend) -> [String: String]?)
        -> (shares: [WeightedBackend], ungrouped: [Backend]) {
        guard !backends.isEmpty else { return ([], []) }
        guard let weights else {
            let share = Share.equal(count: backends.count)
            return (backends.map { WeightedBackend(backend: $0, fraction: share) }, [])
        }
        var members = [[Backend]](repeating: [], count: weights.groups.count)
        var ungrouped: [Backend] = []
        let index = weights.groupIndex
        for backend in backends {
            if let group = index(labels(backend)) { members[group].append(backend) } else { ungrouped.append(backend) }
        }
        let total = zip(weights.groups, members).reduce(UInt64(0)) { $0 + ($1.1.isEmpty ? 0 : UInt64($1.0.weight)) }
        guard total > 0 else { return ([], ungrouped) }
        var result: [WeightedBackend] = []
        for (group, groupMembers) in zip(weights.groups, members) where !groupMembers.isEmpty && group.weight > 0 {
            let share = Share(weight: UInt64(group.weight), total: total, members: UInt64(groupMembers.count))
            result += groupMembers.map { WeightedBackend(backend: $0, fraction: share, group: "\(group.key)=\(group.value)") }
        }
        return (result.sorted { $0.backend < $1.backend }, ungrouped)
    }

    /// The random-number modulus of the selection cascade.
    static let modulus = 1_000_000

    /// Splits off the backends whose share rounds to zero at the cascade's resolution; they are left
    /// out as a whole (every member of a group has the same share), so that no member of a group
    /// gets traffic while another gets none. When every share rounds to zero, all are kept.
    static func representable(_ shares: [WeightedBackend]) -> (kept: [WeightedBackend], dropped: [WeightedBackend]) {
        var kept: [WeightedBackend] = [], dropped: [WeightedBackend] = []
        for weighted in shares {
            if weighted.fraction.roundsToZero(modulus: modulus) { dropped.append(weighted) } else { kept.append(weighted) }
        }
        return kept.isEmpty ? (shares, []) : (kept, dropped)
    }

    /// The conditional thresholds of a cascade: rule i takes the packet when
    /// `numgen random mod modulus < threshold[i]`; nil means unconditional (the last backend).
    /// Every other rule gets a threshold in 1 ..< modulus, so no backend is skipped or cuts off the
    /// ones after it.
    static func thresholds(_ shares: [WeightedBackend]) -> [Int?] {
        // What is left from rule i on, summed from the end: no drift from repeated subtraction.
        var remaining = [Double](repeating: 0, count: shares.count + 1)
        for index in shares.indices.reversed() { remaining[index] = remaining[index + 1] + shares[index].share }
        return shares.indices.map { index -> Int? in
            guard index < shares.count - 1 else { return nil }
            let probability = remaining[index] > 0 ? shares[index].share / remaining[index] : 1
            let threshold = Int((probability * Double(modulus)).rounded())
            return min(max(threshold, 1), modulus - 1)
        }
    }
}
