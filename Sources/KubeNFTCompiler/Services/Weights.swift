import KubeManifest

/// The `kubenft.io/weights` annotation: traffic split between groups of endpoints chosen by a pod
/// label, e.g. `track=stable:90,track=canary:10`.
struct WeightSpec: Sendable, Hashable {
    static let annotation = "kubenft.io/weights"

    struct Group: Sendable, Hashable {
        var key: String
        var value: String
        var weight: Int
    }

    var groups: [Group]

    /// Parses the annotation; returns the reason it is invalid otherwise.
    static func parse(_ text: String) -> Result<WeightSpec, WeightError> {
        var groups: [Group] = []
        var seen: Set<String> = []
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = entry.trimmingSpaces
            guard let colon = trimmed.lastIndex(of: ":") else {
                return .failure(WeightError("entry \"\(trimmed)\" is not label=value:weight"))
            }
            let selector = trimmed[..<colon]
            let weightText = trimmed[trimmed.index(after: colon)...]
            guard let equals = selector.firstIndex(of: "="), equals != selector.startIndex else {
                return .failure(WeightError("entry \"\(trimmed)\" has no label=value before the weight"))
            }
            guard !weightText.isEmpty, weightText.count <= 6, weightText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let weight = Int(weightText) else {
                return .failure(WeightError("weight \"\(weightText)\" in \"\(trimmed)\" is not a whole number 0-999999"))
            }
            let group = Group(key: String(selector[..<equals]), value: String(selector[selector.index(after: equals)...]), weight: weight)
            guard seen.insert("\(group.key)\u{0}\(group.value)").inserted else {
                return .failure(WeightError("group \(group.key)=\(group.value) is listed twice"))
            }
            groups.append(group)
        }
        guard groups.reduce(0, { $0 + $1.weight }) > 0 else { return .failure(WeightError("weights add up to 0")) }
        return .success(WeightSpec(groups: groups))
    }

    /// The first group whose label the endpoint's pod carries.
    func groupIndex(for labels: [String: String]?) -> Int? {
        groupIndex(labels)
    }

    /// `groupIndex(for:)` with the groups indexed once, for many lookups: each costs one dictionary
    /// lookup per group label key rather than a scan of every group.
    var groupIndex: ([String: String]?) -> Int? {
        var byKey: [String: [String: Int]] = [:]
        for (index, group) in groups.enumerated() where byKey[group.key]?[group.value] == nil {
            byKey[group.key, default: [:]][group.value] = index
        }
        return { labels in
            guard let labels else { return nil }
            var first: Int?
            if labels.count < byKey.count {
                for (key, value) in labels {
                    guard let index = byKey[key]?[value] else { continue }
                    first = min(first ?? index, index)
                }
            } else {
                for (key, values) in byKey {
                    guard let value = labels[key], let index = values[value] else { continue }
                    first = min(first ?? index, index)
                }
            }
            return first
        }
    }
}

struct WeightError: Error, Sendable, Hashable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

extension Substring {
    var trimmingSpaces: Substring {
        var slice = self
        while slice.first == " " { slice = slice.dropFirst() }
        while slice.last == " " { slice = slice.dropLast() }
        return slice
    }
}
