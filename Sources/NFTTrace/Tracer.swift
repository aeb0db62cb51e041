import NetAddress
import NFTRuleset

/// Follows a packet through a compiled ruleset in hook order, exploring every random branch, and
/// reports each possible path with its probability. It evaluates the same IR that is emitted and
/// loaded, so its answers are about what the kernel will do.
public struct Tracer: Sendable {
    public let ruleset: Ruleset
    public let environment: TraceEnvironment
    let chains: [String: Chain]
    let sets: [String: SetIndex]
    /// Base chains of each hook in evaluation order (priority, then filter before nat, then name).
    let baseChains: [Chain.Hook.Point: [Chain]]
    /// Keep the rule-by-rule path; verdict-only callers (matrix, diff) turn it off for speed.
    public let recordsSteps: Bool

    public init(ruleset: Ruleset, environment: TraceEnvironment, recordsSteps: Bool = true) {
        self.ruleset = ruleset
        self.environment = environment
        self.recordsSteps = recordsSteps
        var chains: [String: Chain] = [:]
        for chain in ruleset.chains { chains[chain.name] = chain }
        self.chains = chains
        var sets: [String: SetIndex] = [:]
        for set in ruleset.sets { sets[set.name] = SetIndex(set) }
        self.sets = sets
        var bases: [Chain.Hook.Point: [Chain]] = [:]
        for chain in ruleset.chains { if let hook = chain.hook { bases[hook.point, default: []].append(chain) } }
        self.baseChains = bases.mapValues { list in
            list.sorted {
                ($0.hook?.priority ?? 0, $0.hook?.type == .nat ? 1 : 0, $0.name) < ($1.hook?.priority ?? 0, $1.hook?.type == .nat ? 1 : 0, $1.name)
            }
        }
    }

    /// Traces the first packet of a new connection.
    public func trace(_ packet: TracePacket, origin: TraceOrigin) throws -> TraceResult {
        var state = TraceState(packet: packet, probability: 1, originalDestination: packet.destination, recordsSteps: recordsSteps)
        let firstHooks: [Chain.Hook.Point] = origin == .node ? [.output] : [.prerouting]
        var live = [state]
        var finished: [TraceState] = []
        for hook in firstHooks {
            (live, finished) = try runHook(hook, states: live, finished: finished)
        }
        var next: [TraceState] = []
        for candidate in live {
            state = candidate
            if origin == .network {
                let inbound: Chain.Hook.Point = environment.isLocal(state.packet.destination) ? .input : .forward
                let (passed, stopped) = try runHook(inbound, states: [state], finished: [])
                finished += stopped
                if inbound == .input {
                    finished += passed.map { var done = $0; done.verdict = .accept; return done }
                    continue
                }
                next += passed
            } else {
                next.append(state)
            }
        }
        let (delivered, stopped) = try runHook(.postrouting, states: next, finished: [])
        finished += stopped
        finished += delivered.map { var done = $0; done.verdict = .accept; return done }
        return TraceResult(paths: finished.map(\.path))
    }

    /// Runs every base chain of one hook in priority order; accept moves on, drop and reject stop.
    func runHook(_ point: Chain.Hook.Point, states: [TraceState], finished: [TraceState]) throws -> ([TraceState], [TraceState]) {
        let bases = baseChains[point] ?? []
        var live = states
        var stopped = finished
        for base in bases {
            var next: [TraceState] = []
            for state in live {
                var entering = state
                entering.hook = point.rawValue
                for outcome in try run(chain: base, state: entering, depth: 0) {
                    let passes = outcome.end == .accept || (outcome.end == .fellThrough && base.hook?.policy != .drop)
                    if passes {
                        next.append(outcome.state)
                        continue
                    }
                    switch outcome.end {
                    case .accept: break
                    case .fellThrough:
                        var dropped = outcome.state
                        dropped.record(chain: base.name, rule: nil, text: "policy drop", comment: nil)
                        dropped.verdict = .drop
                        stopped.append(dropped)
                    case .drop, .reject:
                        var done = outcome.state
                        done.verdict = outcome.end == .drop ? .drop : .reject
                        stopped.append(done)
                    }
                }
            }
            live = next
        }
        return (live, stopped)
    }
}

/// The packet and everything that happened to it on one path.
struct TraceState {
    var packet: TracePacket
    var probability: Double
    /// The destination before any DNAT (`ct original … daddr`).
    var originalDestination: IPAddress
    var recordsSteps: Bool
    var hook = ""
    var steps: [TraceStep] = []
    var verdict: TraceVerdict = .accept
    var translated = false
    var masqueraded = false
    var notes: [String] = []

    mutating func record(chain: String, rule: Int?, text: @autoclosure () -> String, comment: String?) {
        guard recordsSteps else { return }
        steps.append(TraceStep(hook: hook, chain: chain, rule: rule, text: text(), comment: comment))
    }

    var path: TracePath {
        TracePath(probability: probability, steps: steps, verdict: verdict,
                  translatedDestination: translated ? packet.destination : nil,
                  translatedPort: translated ? packet.destinationPort : nil, masqueraded: masqueraded, notes: notes)
    }
}
