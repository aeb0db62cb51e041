import KubeManifest
import NFTRuleset

/// The rate-limit annotations of a Service: new connections to each of its ports above a rate, for
/// all clients together and per client address, are dropped (or rejected) in the kernel.
struct RateLimitSpec: Sendable, Hashable {
    static let serviceAnnotation = "kubenft.io/rate-limit"
    static let clientAnnotation = "kubenft.io/rate-limit-per-client"
    static let actionAnnotation = "kubenft.io/rate-limit-action"
    static let annotations = [serviceAnnotation, clientAnnotation, actionAnnotation]

    /// Entries a per-client set holds: nft (and the netlink encoder) give every dynamic set this
    /// size when none is declared. When it is full, further new clients are only under the
    /// Service-wide limit (the kernel cannot add them).
    static let clientSetSize = 65_535

    var service: RateLimit?
    var perClient: RateLimit?
    var reject: Bool

    var isEmpty: Bool { service == nil && perClient == nil }

    /// The statement that ends a rule whose limit is exceeded.
    var verdict: Statement { reject ? .reject(.default) : .verdict(.drop) }

    /// With `--counters`, the counter of a Service port's rate limits (`svc-limit-ns/name/proto/port`):
    /// new connections dropped or rejected for being over a limit, per client or Service-wide.
    static func counter(_ service: Service, _ port: ServicePort) -> CounterObject {
        CounterObject(name: Naming.identifier("svc-limit", [service.meta.namespace, service.meta.name, port.protocol.nftName, Naming.portLabel(port)]),
                      comment: "Service \(Naming.serviceLabel(service, port)) over its rate limit")
    }

    /// Reads the annotations; an invalid one yields a diagnostic at its own line.
    static func parse(_ service: Service) -> (RateLimitSpec?, [Diagnostic]) {
        var spec = RateLimitSpec(service: nil, perClient: nil, reject: false)
        var diagnostics: [Diagnostic] = []
        let annotations = service.meta.annotations
        func fail(_ key: String, _ reason: String) {
            diagnostics.append(Diagnostic(at: service.meta.annotationLocations[key] ?? service.meta.location,
                                          object: "Service \(service.meta.qualifiedName)", field: "metadata.annotations[\(key)]", reason: reason))
        }
        for key in [serviceAnnotation, clientAnnotation] {
            guard let text = annotations[key] else { continue }
            switch parseLimit(text) {
            case .success(let limit): if key == serviceAnnotation { spec.service = limit } else { spec.perClient = limit }
            case .failure(let error): fail(key, error.reason)
            }
        }
        if let action = annotations[actionAnnotation] {
            switch action {
            case "drop": spec.reject = false
            case "reject": spec.reject = true
            default: fail(actionAnnotation, "\"\(action)\" is not drop or reject")
            }
            if spec.isEmpty && diagnostics.isEmpty {
                fail(actionAnnotation, "has no effect without \(serviceAnnotation) or \(clientAnnotation)")
            }
        }
        return (diagnostics.isEmpty && !spec.isEmpty ? spec : nil, diagnostics)
    }

    /// `RATE/UNIT` or `RATE/UNIT burst N`: RATE 1-1000000000, UNIT second, minute, hour or day,
    /// N 1-1000000 packets (default 5, nft's default).
    static func parseLimit(_ text: String) -> Result<RateLimit, WeightError> {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        let usage = "\"\(text)\" is not RATE/UNIT [burst N] (e.g. \"200/second burst 50\"; UNIT second, minute, hour or day)"
        guard words.count == 1 || (words.count == 3 && words[1] == "burst") else { return .failure(WeightError(usage)) }
        let parts = words[0].split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let unit = RateLimit.Unit(rawValue: String(parts[1])) else { return .failure(WeightError(usage)) }
        guard let rate = number(parts[0], max: 1_000_000_000) else {
            return .failure(WeightError("rate \"\(parts[0])\" is not a whole number 1-1000000000"))
        }
        var burst: UInt64 = 5
        if words.count == 3 {
            guard let value = number(words[2], max: 1_000_000) else {
                return .failure(WeightError("burst \"\(words[2])\" is not a whole number 1-1000000"))
            }
            burst = value
        }
        let most = maximumBurst(rate: rate, unit: unit)
        guard burst <= most else {
            return .failure(WeightError("burst \(burst) at \(rate)/\(unit.rawValue) overflows the kernel's token bucket (at most \(most) packets at this rate)"))
        }
        return .success(RateLimit(rate: rate, unit: unit, burst: UInt32(burst)))
    }

    /// The kernel's `limit` keeps its bucket in nanoseconds, `(unit in ns / rate) × burst`, in 64
    /// bits and refuses the rule (EOVERFLOW) when that does not fit, so slow rates allow a smaller burst.
    static func maximumBurst(rate: UInt64, unit: RateLimit.Unit) -> UInt64 {
        let cost = unit.seconds * 1_000_000_000 / rate
        return cost == 0 ? UInt64.max : UInt64.max / cost
    }

    private static func number(_ text: Substring, max: UInt64) -> UInt64? {
        guard !text.isEmpty, text.count <= 10, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt64(text),
              (1...max).contains(value) else { return nil }
        return value
    }

    /// Seconds a per-client entry lives after its last new connection: long enough for its bucket
    /// to refill completely (so forgetting a client never admits more), at least a minute.
    static func clientTimeout(_ limit: RateLimit) -> Int {
        let refill = (UInt64(limit.burst) + 1) * limit.unit.seconds / limit.rate + 1
        return Int(max(60, min(refill, 86_400 * 7)))
    }
}
