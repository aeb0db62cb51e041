import NetAddress
import NFTRuleset

/// How evaluation of a chain ended for one path.
enum ChainEnd {
    case fellThrough, accept, drop, reject
}

/// What one rule did to one path.
enum RuleFlow {
    case next
    case accept, drop, reject
    case jump(String), goto(String), `return`
}

extension Tracer {
    static let maximumDepth = 32

    /// Evaluates a chain for one path, returning every path's end (random branches multiply them).
    func run(chain: Chain, state: TraceState, depth: Int) throws -> [(state: TraceState, end: ChainEnd)] {
        guard depth < Self.maximumDepth else { throw TraceError(description: "chain nesting deeper than \(Self.maximumDepth) at \(chain.name)") }
        var results: [(state: TraceState, end: ChainEnd)] = []
        var pending: [(state: TraceState, rule: Int)] = [(state, 0)]
        while let (current, position) = pending.popLast() {
            guard position < chain.rules.count else {
                results.append((current, .fellThrough))
                continue
            }
            for (after, flow) in try evaluate(chain.rules[position], index: position, chain: chain.name, state: current) {
                switch flow {
                case .next: pending.append((after, position + 1))
                case .accept: results.append((after, .accept))
                case .drop: results.append((after, .drop))
                case .reject: results.append((after, .reject))
                case .return: results.append((after, .fellThrough))
                case .jump(let target), .goto(let target):
                    guard let callee = chains[target] else { throw TraceError(description: "chain \(target) does not exist") }
                    for (inner, end) in try run(chain: callee, state: after, depth: depth + 1) {
                        if case .fellThrough = end {
                            if case .jump = flow { pending.append((inner, position + 1)) } else { results.append((inner, .fellThrough)) }
                        } else {
                            results.append((inner, end))
                        }
                    }
                }
            }
        }
        return results
    }

    /// Evaluates one rule's statements left to right for one path.
    func evaluate(_ rule: Rule, index: Int, chain: String, state: TraceState) throws -> [(TraceState, RuleFlow)] {
        var live: [TraceState] = [state]
        var done: [(TraceState, RuleFlow)] = []
        for statement in rule.statements {
            var next: [TraceState] = []
            for current in live {
                for (after, flow) in try apply(statement, state: current) {
                    if let flow {
                        var stopped = after
                        if case .next = flow {} else {
                            stopped.record(chain: chain, rule: index, text: NFTTextEmitter.rule(rule), comment: rule.comment)
                        }
                        done.append((stopped, flow))
                    } else {
                        next.append(after)
                    }
                }
            }
            live = next
        }
        for current in live {
            var matched = current
            matched.record(chain: chain, rule: index, text: NFTTextEmitter.rule(rule), comment: rule.comment)
            done.append((matched, .next))
        }
        return done
    }

    /// One statement: nil flow means "continue with the next statement".
    func apply(_ statement: Statement, state: TraceState) throws -> [(TraceState, RuleFlow?)] {
        var state = state
        switch statement {
        case .match(.randomNumber(let modulus, let offset), .lessThan, .value(let bound)):
            guard case .integer(let limit) = bound, offset == 0, modulus > 0 else {
                throw TraceError(description: "unsupported numgen comparison")
            }
            let taken = min(1, Double(limit) / Double(modulus))
            var yes = state, no = state
            yes.probability *= taken
            no.probability *= 1 - taken
            return [(yes, nil), (no, .next)].filter { $0.0.probability > 0 }
        case .match(let left, let comparison, let right):
            let matched = try matches(left, comparison, right, state: state)
            return [(state, matched ? nil : .next)]
        case .verdict(let verdict): return [(state, flow(verdict))]
        case .verdictMap(let key, let map):
            guard let index = sets[map] else { throw TraceError(description: "map \(map) does not exist") }
            guard let element = index.lookup(try value(key, state: state)), case .verdict(let verdict)? = element.data else {
                return [(state, .next)]
            }
            return [(state, flow(verdict))]
        case .dnat(let family, let target):
            guard family == state.packet.family else { return [(state, .next)] }
            try translate(&state, target: target)
            return [(state, .accept)]
        case .masquerade:
            state.masqueraded = true
            return [(state, .accept)]
        case .reject: return [(state, .reject)]
        case .setMarkBits(let bits):
            state.packet.mark |= bits
            return [(state, nil)]
        case .updateSet(let name, _):
            state.notes.append("client address remembered in \(name) (session affinity)")
            return [(state, nil)]
        case .counter: return [(state, nil)]
        case .limitOver(let limit):
            // A traced packet is the first of a new connection on an idle host: the kernel's token
            // bucket starts full, so it is under any limit. The note shows the limit that applies.
            state.notes.append("rate limit \(limit.text): this connection passes; above the rate the rule goes on")
            return [(state, .next)]
        case .updateSetLimitOver(let name, _, let limit):
            state.notes.append("per-client rate limit \(limit.text) in \(name): a new client passes; above the rate the rule goes on")
            return [(state, .next)]
        case .namedCounter: return [(state, nil)]
        case .limitUnder:
            // The first packet on an idle host is under the limit: the rule goes on (to its log).
            return [(state, nil)]
        case .log(let target):
            state.notes.append("logged to nflog group \(target.group) with prefix \"\(target.prefix)\"")
            return [(state, nil)]
        }
    }

    private func flow(_ verdict: Verdict) -> RuleFlow {
        switch verdict {
        case .accept: return .accept
        case .drop: return .drop
        case .continue: return .next
        case .return: return .return
        case .jump(let chain): return .jump(chain)
        case .goto(let chain): return .goto(chain)
        }
    }

    private func translate(_ state: inout TraceState, target: DNATTarget) throws {
        switch target {
        case .endpoint(let address, let port):
            state.packet.destination = address
            state.packet.destinationPort = port
        case .lookup:
            throw TraceError(description: "DNAT through a map lookup is not traced")
        }
        state.translated = true
    }
}
