import NFTRuleset
import NetAddress

/// Translates one nft rule into iptables rules for one family. Conditions multiply out into
/// alternatives (a set lookup becomes one rule per element); a verdict map becomes one rule per
/// element with that element's verdict. Elements of a set are distinct keys and interval sets hold
/// disjoint ranges, so at most one alternative matches a packet and the expansion keeps nft's
/// semantics; a rule that rolls a random number over more than one alternative is refused, since
/// each alternative would roll again.
struct RuleTranslator {
    let matches: MatchTranslator
    let chainNames: [String: String]
    /// More rules than this from one nft rule means the ruleset wants ipsets, not plain rules.
    static let maximumExpansion = 100_000

    private var family: IPFamily { matches.family }

    func translate(_ rule: Rule, in chain: Chain) throws(Unsupported) -> [IPTablesRule] {
        let name = chainNames[chain.name] ?? chain.name
        let comment = Self.comment(rule.comment ?? chain.comment ?? "kubenft \(chain.name)")
        var alternatives: Alternatives = [[]]
        var target: IPTablesTarget?
        var records: [IPTablesMatch] = []
        var branches: [(Alternatives, IPTablesTarget?, String)]?
        for statement in rule.statements {
            guard branches == nil else { throw Unsupported("statement after a verdict map") }
            switch statement {
            case .match(let left, let comparison, let right):
                alternatives = try product(alternatives, try matches.alternatives(left, comparison, right))
            case .verdict(let verdict):
                if let verdictTarget = try self.target(verdict) { try assign(&target, verdictTarget) }
            case .verdictMap(let key, let map):
                guard target == nil, records.isEmpty else { throw Unsupported("verdict map after an action") }
                branches = try mapBranches(key: key, map: map)
            case .dnat(let dnatFamily, .endpoint(let address, let port)):
                guard dnatFamily == family, address.family == family else { return [] }
                try assign(&target, .dnat(address, port))
            case .dnat(_, .lookup), .dnat(_, .lookups):
                throw Unsupported("DNAT through a data map")
            case .masquerade:
                try assign(&target, .masquerade)
            case .reject(let kind):
                try assign(&target, .reject(try rejectOption(kind)))
            case .setMarkBits(let bits):
                try assign(&target, .orMark(bits))
            case .updateSet(let set, let key):
                guard matches.familyMatches(key) else { return [] }
                records.append(try recentSet(set, key))
            case .limitOver(let limit):
                records.append(.hashlimitAbove(name: IPTablesNames.hashlimit("\(chain.name)|\(rule.comment ?? "")|\(family)"),
                                               limit: limit, perSource: false, expireSeconds: nil))
            case .updateSetLimitOver(let set, let key, let limit):
                guard matches.familyMatches(key) else { return [] }
                records.append(.hashlimitAbove(name: IPTablesNames.hashlimit(set), limit: limit, perSource: true,
                                               expireSeconds: matches.setTimeout(set)))
            case .counter:
                continue
            case .namedCounter:
                // Every iptables rule counts; `limitations` says where the count is then read.
                continue
            case .limitUnder(let limit):
                records.append(.limitUnder(limit))
            case .log(let log):
                let prefix = String(decoding: Self.comment(log.prefix).utf8.prefix(63), as: UTF8.self)
                try assign(&target, .nflog(group: log.group, prefix: prefix))
            @unknown default:
                throw Unsupported("statement \(statement)")
            }
        }
        var out: [IPTablesRule] = []
        for (branchAlternatives, branchTarget, branchComment) in branches ?? [([[]], target, comment)] {
            let combined = try product(alternatives, branchAlternatives)
            try checkRandom(combined)
            for conjunction in combined {
                guard let normalized = try Self.normalize(conjunction) else { continue }
                out.append(IPTablesRule(chain: name, matches: Self.ordered(normalized) + records, target: branchTarget, comment: branchComment))
            }
        }
        return out
    }

    private func mapBranches(key: Expression, map: String) throws(Unsupported) -> [(Alternatives, IPTablesTarget?, String)] {
        try matches.mapElements(map).map { element throws(Unsupported) in
            guard case .verdict(let verdict)? = element.data else { throw Unsupported("element of \(map) without a verdict") }
            let alternatives = element.key.count == 1
                ? try matches.alternatives(key, .equal, .value(element.key[0]))
                : try elementAlternatives(key, element.key)
            return (alternatives, try target(verdict), Self.comment(element.comment ?? map))
        }
    }

    /// A concatenated key of one map element, compared field by field.
    private func elementAlternatives(_ key: Expression, _ values: [Value]) throws(Unsupported) -> Alternatives {
        guard case .concat(let fields) = key, fields.count == values.count else {
            throw Unsupported("map key of \(values.count) values for \(key)")
        }
        var result: Alternatives = [[]]
        for (field, value) in zip(fields, values) {
            result = try product(result, try matches.alternatives(field, .equal, .value(value)))
        }
        return result
    }

    private func product(_ left: Alternatives, _ right: Alternatives) throws(Unsupported) -> Alternatives {
        guard left.count * right.count <= Self.maximumExpansion else {
            throw Unsupported("more than \(Self.maximumExpansion) iptables rules for one nft rule")
        }
        return left.flatMap { head in right.map { head + $0 } }
    }

    private func checkRandom(_ alternatives: Alternatives) throws(Unsupported) {
        let rolls = alternatives.contains { $0.contains { if case .random = $0 { return true } else { return false } } }
        if rolls && alternatives.count > 1 { throw Unsupported("random choice combined with a set of \(alternatives.count) alternatives") }
    }

    private func assign(_ target: inout IPTablesTarget?, _ new: IPTablesTarget) throws(Unsupported) {
        guard target == nil else { throw Unsupported("two actions in one rule (\(target!) and \(new))") }
        target = new
    }

    private func target(_ verdict: Verdict) throws(Unsupported) -> IPTablesTarget? {
        switch verdict {
        case .accept: return .accept
        case .drop: return .drop
        case .return: return .return
        case .continue: return nil
        case .jump(let chain): return .jump(try chainName(chain))
        case .goto(let chain): return .goto(try chainName(chain))
        }
    }

    private func chainName(_ chain: String) throws(Unsupported) -> String {
        guard let name = chainNames[chain] else { throw Unsupported("reference to a missing chain \(chain)") }
        return name
    }

    private func rejectOption(_ kind: RejectKind) throws(Unsupported) -> String? {
        switch kind {
        // nft's plain `reject` in an inet table is icmpx port unreachable, TCP included (the kernel
        // shows `reject type 2 code 1` for `meta l4proto tcp reject` too), as is iptables' REJECT.
        case .default, .icmpxPortUnreachable: return nil
        case .tcpReset: return "tcp-reset"
        case .icmpxAdminProhibited: return family == .v4 ? "icmp-admin-prohibited" : "icmp6-adm-prohibited"
        }
    }

    private func recentSet(_ name: String, _ key: Expression) throws(Unsupported) -> IPTablesMatch {
        let source: PayloadField = family == .v4 ? .ipSaddr : .ip6Saddr
        guard let set = matches.ruleset.set(named: name), set.flags.contains(.dynamic), key == .payload(source) else {
            throw Unsupported("update of \(name) other than a source-address affinity set")
        }
        return .recentSet(name: IPTablesNames.recentList(name))
    }

    /// Removes duplicates and resolves protocols: two different positive protocols never match.
    /// Returns nil for a conjunction that cannot match.
    static func normalize(_ conjunction: [IPTablesMatch]) throws(Unsupported) -> [IPTablesMatch]? {
        var seen = Set<IPTablesMatch>()
        let unique = conjunction.filter { seen.insert($0).inserted }
        let protocols = Set(unique.compactMap { match -> String? in
            if case .proto(let name, false) = match { return name } else { return nil }
        })
        if protocols.count > 1 { return nil }
        let hasPorts = unique.contains { if case .port = $0 { return true } else { return false } }
        if hasPorts && !(protocols.first.map { ["tcp", "udp", "sctp", "udplite", "dccp"].contains($0) } ?? false) {
            throw Unsupported("port match without one of tcp, udp, sctp as the protocol")
        }
        for direction in [IPTablesMatch.Direction.source, .destination] {
            let interfaces = unique.filter { if case .interface(direction, _, _) = $0 { return true } else { return false } }
            if interfaces.count > 1 { throw Unsupported("more than one \(direction == .source ? "input" : "output") interface match") }
        }
        let negatedProtocols = unique.filter { if case .proto(_, true) = $0 { return true } else { return false } }
        if negatedProtocols.count > 1 || (!negatedProtocols.isEmpty && !protocols.isEmpty) {
            throw Unsupported("more than one protocol match")
        }
        return unique
    }

    /// Conditions first, the random roll last, so a rule rolls only when everything else matched.
    static func ordered(_ conjunction: [IPTablesMatch]) -> [IPTablesMatch] {
        let isRandom: (IPTablesMatch) -> Bool = { if case .random = $0 { return true } else { return false } }
        return conjunction.filter { !isRandom($0) } + conjunction.filter(isRandom)
    }

    static func comment(_ text: String) -> String {
        String(NFTQuoting.comment(text).map { $0 == "\\" ? "_" : $0 })
    }
}
