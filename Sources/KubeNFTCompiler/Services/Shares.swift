import KubeManifest

/// A backend and the fraction of new connections it receives.
struct WeightedBackend: Sendable, Hashable {
    var backend: Backend
    var share: Double
}

/// Turns usable backends (and an optional weight annotation) into shares that add up to 1.
enum ShareCalculator {
    /// Equal shares, or the annotation's group weights split equally inside each group. Groups with no
    /// usable backend give their weight to the others in proportion; backends in no group get nothing.
    static func shares(for backends: [Backend], weights: WeightSpec?, labels: (Backend) -> [String: String]?)
        -> (shares: [WeightedBackend], ungrouped: [Backend]) {
        guard !backends.isEmpty else { return ([], []) }
        guard let weights else {
            let share = 1.0 / Double(backends.count)
            return (backends.map { WeightedBackend(backend: $0, share: share) }, [])
        }
        var members = [[Backend]](repeating: [], count: weights.groups.count)
        var ungrouped: [Backend] = []
        for backend in backends {
            if let index = weights.groupIndex(for: labels(backend)) { members[index].append(backend) } else { ungrouped.append(backend) }
        }
        let total = zip(weights.groups, members).reduce(0) { $0 + ($1.1.isEmpty ? 0 : $1.0.weight) }
        guard total > 0 else { return ([], ungrouped) }
        var result: [WeightedBackend] = []
        for (group, groupMembers) in zip(weights.groups, members) where !groupMembers.isEmpty && group.weight > 0 {
            let share = Double(group.weight) / Double(total) / Double(groupMembers.count)
            result += groupMembers.map { WeightedBackend(backend: $0, share: share) }
        }
        return (result.sorted { $0.backend < $1.backend }, ungrouped)
    }

    /// The random-number modulus of the selection cascade.
    static let modulus = 1_000_000

    /// The conditional thresholds of a cascade: rule i takes the packet when
    /// `numgen random mod modulus < threshold[i]`; nil means unconditional (the last backend).
    static func thresholds(_ shares: [WeightedBackend]) -> [Int?] {
        var remaining = shares.reduce(0.0) { $0 + $1.share }
        var thresholds: [Int?] = []
        for (index, weighted) in shares.enumerated() {
            if index == shares.count - 1 {
                thresholds.append(nil)
                break
            }
            let probability = remaining > 0 ? weighted.share / remaining : 1
            let threshold = Int((probability * Double(modulus)).rounded())
            thresholds.append(threshold >= modulus ? nil : threshold)
            remaining -= weighted.share
            if threshold >= modulus { break }
        }
        return thresholds
    }
}
