import KubeManifest
import NFTRuleset

/// What `--counters` and `--log-drops` ask for: named counters on every policy drop and service
/// reject, and rate-limited nflog messages naming the policy before every policy drop. It exists
/// so that "what did my policy drop, and which policy was it?" can be answered from the kernel;
/// both are off by default and then the ruleset is exactly what it is without them.
public struct DropObservation: Sendable, Hashable {
    public var counters: Bool
    /// The rate of log messages per drop rule; nil: no logging.
    public var logRate: RateLimit?
    /// The nflog group log messages go to.
    public var logGroup: UInt16

    public static let defaultLogGroup: UInt16 = 100
    /// `--log-drops` without a rate.
    public static let defaultLogRate = RateLimit(rate: 10, unit: .second, burst: 5)

    public init(counters: Bool = false, logRate: RateLimit? = nil, logGroup: UInt16 = DropObservation.defaultLogGroup) {
        self.counters = counters
        self.logRate = logRate
        self.logGroup = logGroup
    }

    /// Reads a `--log-drops=RATE` value (`RATE/UNIT [burst N]`, as the rate-limit annotations).
    /// The rate, or the reason it is not one.
    public static func parseRate(_ text: String) -> (rate: RateLimit?, reason: String?) {
        switch RateLimitSpec.parseLimit(text) {
        case .success(let rate): return (rate, nil)
        case .failure(let error): return (nil, error.reason)
        }
    }

    /// Prefix of every counter name and log prefix kubenft writes (`kubenft stats` reads them back).
    public static let logPrefixHead = "kubenft "

    /// The counter of a NetworkPolicy drop: the pods isolated in one direction by exactly these
    /// policies (`np-drop-in-shop/deny-all`, policies joined with `/`).
    static func policyCounter(_ direction: PolicyDirection, _ policies: [NetworkPolicy]) -> CounterObject {
        let names = policies.map(\.meta.qualifiedName).joined(separator: ", ")
        return CounterObject(name: Naming.identifier(direction == .ingress ? "np-drop-in" : "np-drop-out",
                                                     policies.flatMap { [$0.meta.namespace, $0.meta.name] }),
                             comment: "NetworkPolicy \(direction.rawValue) isolated by \(names)")
    }

    /// The counter of one Deny rule of an AdminNetworkPolicy or the baseline
    /// (`anp-deny-in-NAME/RULE`, `banp-deny-out-NAME/RULE`; an unnamed rule by its index).
    static func adminCounter(_ ref: AdminRuleRef) -> CounterObject {
        let tier = ref.policy.kind.abbreviation.lowercased()
        let rule = ref.rule.name.isEmpty ? String(ref.index) : ref.rule.name
        return CounterObject(name: Naming.identifier("\(tier)-deny-\(ref.direction == .ingress ? "in" : "out")", [ref.policy.meta.name, rule]),
                             comment: "\(ref.label) Deny")
    }

    /// The counter (and chain) of a Service port's reject when it has no endpoints
    /// (`svc-reject-ns/name/proto/port`).
    static func serviceCounter(_ service: Service, _ port: ServicePort) -> CounterObject {
        CounterObject(name: Naming.identifier("svc-reject", [service.meta.namespace, service.meta.name, port.protocol.nftName, Naming.portLabel(port)]),
                      comment: "Service \(Naming.serviceLabel(service, port)) has no endpoints")
    }

    /// The rule that logs a drop about to happen (nil without `--log-drops`): the drop rule's
    /// matches, the rate limit, and `log prefix "kubenft COUNTER " group N`.
    func logRule(before drop: [Statement], counter: CounterObject, comment: String?) -> Rule? {
        guard let logRate else { return nil }
        let prefix = String(decoding: (Self.logPrefixHead + counter.name + " ").utf8.prefix(LogTarget.maximumPrefixLength), as: UTF8.self)
        return Rule(drop + [.limitUnder(logRate), .log(LogTarget(prefix: prefix, group: logGroup))], comment: comment.map { "log: " + $0 })
    }

    /// The rules ending in a drop, observed: a log rule before each and the counter in it.
    func observe(_ rules: [Rule], counter: CounterObject, into assembly: inout Assembly) -> [Rule] {
        guard counters || logRate != nil else { return rules }
        var result: [Rule] = []
        for rule in rules {
            guard rule.statements.last == .verdict(.drop) else {
                result.append(rule)
                continue
            }
            let matches = Array(rule.statements.dropLast())
            if let log = logRule(before: matches, counter: counter, comment: rule.comment) { result.append(log) }
            var counted = rule
            if counters {
                counted.statements = matches + [.namedCounter(counter.name), .verdict(.drop)]
                assembly.add(counter)
            }
            result.append(counted)
        }
        return result
    }
}
