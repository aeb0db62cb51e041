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
        case .dnat(let family, .lookup(.mapLookup(let key, let map))):
            guard family == state.packet.family else { return [(state, .next)] }
            return try translate(state, key: key, map: map)
        case .dnat(let family, .lookups(.mapLookup(let key, let map), .mapLookup(let portKey, let portMap))):
            guard family == state.packet.family else { return [(state, .next)] }
            guard let ports = sets[portMap] else { throw TraceError(description: "map \(portMap) does not exist") }
            let portValue = try value(portKey, state: state)
            guard !portValue.containsAbsent, let element = ports.lookup(portValue), case .values(let data)? = element.data,
                  data.count == 1, case .port(let port) = data[0] else { return [(state, .next)] }
            return try translate(state, key: key, map: map, port: port)
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

    /// `dnat to KEY map @m`: a key with one `numgen random mod N` field splits the path N ways with
    /// probability 1/N each; a bucket whose key is missing leaves the rule unmatched. Buckets with
    /// the same destination are one path (their probabilities added), so every backend appears once.
    /// With `port`, the map's data is the address alone and every bucket takes that port
    /// (`dnat to ADDRESS map : PORT map`, whose port lookup has already found it).
    private func translate(_ state: TraceState, key: Expression, map: String, port fixedPort: UInt16? = nil) throws -> [(TraceState, RuleFlow?)] {
        guard let index = sets[map] else { throw TraceError(description: "map \(map) does not exist") }
        let parts: [Expression]
        if case .concat(let fields) = key { parts = fields } else { parts = [key] }
        let random = parts.indices.filter { if case .randomNumber = parts[$0] { return true } else { return false } }
        guard random.count <= 1 else { throw TraceError(description: "more than one numgen in a map key") }
        var buckets: [(value: RuntimeValue, probability: Double)] = []
        if let position = random.first {
            guard case .randomNumber(let modulus, let offset) = parts[position], modulus > 0 else {
                throw TraceError(description: "numgen with modulus 0")
            }
            var fixed = try parts.map { part -> RuntimeValue in
                if case .randomNumber = part { return .integer(0) }
                return try value(part, state: state)
            }
            for bucket in 0..<modulus {
                fixed[position] = .integer(UInt64(offset + bucket))
                buckets.append((fixed.count == 1 ? fixed[0] : .concat(fixed), 1 / Double(modulus)))
            }
        } else {
            buckets.append((try value(key, state: state), 1))
        }
        var order: [[RuntimeValue]] = []
        var shares: [[RuntimeValue]: Double] = [:]
        var missed = 0.0
        for (bucketKey, probability) in buckets {
            guard !bucketKey.containsAbsent, let element = index.lookup(bucketKey), case .values(let data)? = element.data,
                  let (address, port) = Self.destination(data, port: fixedPort) else {
                missed += probability
                continue
            }
            let target = [RuntimeValue.address(address), .integer(UInt64(port))]
            if shares[target] == nil { order.append(target) }
            shares[target, default: 0] += probability
        }
        var results: [(TraceState, RuleFlow?)] = []
        for target in order {
            guard case .address(let address) = target[0], case .integer(let port) = target[1] else { continue }
            var taken = state
            taken.probability *= shares[target] ?? 0
            try translate(&taken, target: .endpoint(address, UInt16(port)))
            results.append((taken, .accept))
        }
        if missed > 0 {
            var passed = state
            passed.probability *= missed
            results.append((passed, .next))
        }
        return results
    }

    /// The address and port a DNAT map element gives: `address . port`, or `address` with the port
    /// from a port map.
    private static func destination(_ data: [Value], port fixedPort: UInt16?) -> (IPAddress, UInt16)? {
        switch (data.count, fixedPort) {
        case (2, nil):
            guard case .address(let address) = data[0], case .port(let port) = data[1] else { return nil }
            return (address, port)
        case (1, let port?):
            guard case .address(let address) = data[0] else { return nil }
            return (address, port)
        default: return nil
        }
    }

    private func translate(_ state: inout TraceState, target: DNATTarget) throws {
        // Map lookups are handled above, where they can split the path.
        switch target {
        case .endpoint(let address, let port):
            state.packet.destination = address
            state.packet.destinationPort = port
        case .lookup, .lookups:
            throw TraceError(description: "DNAT through a map lookup is not traced")
        }
        state.translated = true
    }
}
