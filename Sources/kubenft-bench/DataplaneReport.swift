import Foundation

/// The data-plane suite's results: new TCP connections per second through a ClusterIP for each
/// configuration, and the ratios the issue asks about, all from the same run.
struct DataplaneReport: Codable {
    /// kubenft with the large cluster must keep at least this share of the small cluster's rate.
    static let targetRatio = 0.95

    var settings: DataplaneSettings
    var results: [DataplaneConfigResult] = []
    var skipped: String?
    var failures: [String] = []
    /// Median rate of kubenft with the large cluster ÷ with the small cluster.
    var largeOverSmall: Double?
    /// Median rate of the linear chain ÷ kubenft with the small cluster.
    var linearOverSmall: Double?

    init(settings: DataplaneSettings) { self.settings = settings }

    func result(_ config: DataplaneConfig) -> DataplaneConfigResult? { results.first { $0.config == config } }

    /// Fills in the medians and the ratios between them.
    mutating func computeRatios() {
        for index in results.indices { results[index].medianPerSecond = results[index].medianRate }
        guard let small = result(.kubenftSmall)?.medianRate, small > 0 else { return }
        largeOverSmall = result(.kubenftLarge)?.medianRate.map { $0 / small }
        linearOverSmall = result(.linearLarge)?.medianRate.map { $0 / small }
    }

    /// The markdown section: how it was measured, one row per configuration, the ratios.
    func markdown() -> String {
        var out = "### Data plane: new TCP connections per second through a ClusterIP\n\n"
        if let skipped { return out + "Skipped: \(skipped)\n" }
        out += "\(settings.rounds) rounds, configurations alternating; per loop \(settings.clients) client process(es) × "
        out += "\(settings.count) sequential connections (after \(settings.warmup) unmeasured), \(settings.servers) server "
        out += "processes, \(settings.endpoints) endpoints per service. Rate = connections answered ÷ loop time.\n\n"
        out += "| configuration | loaded | connect to | rate (median) | min – max | failed | vs kubenft \(Scenario.short(settings.smallServices)) "
        out += "| vs kubenft (nft) of the same size |\n"
        out += "|---|---|---|---:|---:|---:|---:|---:|\n"
        let small = result(.kubenftSmall)?.medianRate
        for result in results {
            let loaded = result.ruleset.map { "\(megabytes($0.textBytes)) MB, \($0.chains) chains, \($0.rules) rules, \($0.setElements) elements" } ?? "nothing"
            let rates = result.rates
            let range = rates.isEmpty ? "n/a" : "\(Self.rate(rates[0])) – \(Self.rate(rates[rates.count - 1]))"
            let ratio = zip(result.medianRate, small).map { MarkdownReport.fixed($0 / $1, 3) } ?? "n/a"
            out += "| \(result.label) | \(loaded) | \(result.destination) | \(result.medianRate.map(Self.rate) ?? "n/a") "
            let same = zip(result.medianRate, nftBaseline(of: result.config).flatMap { self.result($0)?.medianRate })
                .map { MarkdownReport.fixed($0 / $1, 3) } ?? ""
            out += "| \(range) | \(result.samples.reduce(0) { $0 + $1.failed }) | \(ratio) | \(same) |\n"
        }
        out += "\n"
        if let ratio = largeOverSmall {
            let verdict = ratio >= Self.targetRatio ? "met" : "missed"
            out += "- kubenft \(Scenario.short(settings.largeServices)) ÷ \(Scenario.short(settings.smallServices)) services: "
            out += "\(MarkdownReport.fixed(ratio, 3)) (target ≥ \(MarkdownReport.fixed(Self.targetRatio, 2)): \(verdict))\n"
        }
        if let ratio = linearOverSmall {
            out += "- linear chain of \(Scenario.short(settings.largeServices)) ÷ kubenft \(Scenario.short(settings.smallServices)) services: "
            out += "\(MarkdownReport.fixed(ratio, 3))\n"
        }
        let samples = results.flatMap(\.samples)
        if let most = samples.compactMap(\.conntrackEntries).max(), let limit = samples.compactMap(\.conntrackLimit).first {
            out += "- conntrack entries in the node after a loop: at most \(most) (limit \(limit)); clients close with "
            out += "SO_LINGER 0, so no socket is left in TIME_WAIT\n"
        }
        for failure in failures { out += "- failed: \(failure)\n" }
        return out
    }

    /// The nft configuration with the same services as an iptables one, for the same-size ratio.
    func nftBaseline(of config: DataplaneConfig) -> DataplaneConfig? {
        switch config {
        case .iptablesNftSmall, .iptablesLegacySmall: return .kubenftSmall
        case .iptablesNftLarge, .iptablesLegacyLarge, .linearLarge: return .kubenftLarge
        case .kubenftSmall, .kubenftLarge, .direct: return nil
        }
    }

    static func rate(_ value: Double) -> String { String(format: "%.0f/s", value) }
}

/// `zip` for two optionals.
private func zip<A, B>(_ first: A?, _ second: B?) -> (A, B)? {
    guard let first, let second else { return nil }
    return (first, second)
}
