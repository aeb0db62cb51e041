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
            if groups.contains(where: { $0.key == group.key && $0.value == group.value }) {
                return .failure(WeightError("group \(group.key)=\(group.value) is listed twice"))
            }
            groups.append(group)
        }
        guard groups.reduce(0, { $0 + $1.weight }) > 0 else { return .failure(WeightError("weights add up to 0")) }
        return .success(WeightSpec(groups: groups))
    }

    /// The first group whose label the endpoint's pod carries.
    func groupIndex(for labels: [String: String]?) -> Int? {
        guard let labels else { return nil }
        return groups.firstIndex { labels[$0.key] == $0.value }
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
