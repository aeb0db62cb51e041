import NFTRuleset
import NetAddress

/// One family's iptables form of a ruleset: per table, the dispatcher chains the built-in chains
/// jump to, and every kubenft chain reachable from them.
struct IPTablesProgram: Sendable {
    struct Table: Sendable {
        var name: IPTablesTableName
        /// Built-in chain (`PREROUTING`) and the dispatcher it jumps to (`KUBENFT-PREROUTING`).
        var hooks: [(builtin: String, dispatcher: String)]
        var chains: [IPTablesChain]
    }

    var family: IPFamily
    var tables: [Table]
}

/// Builds the iptables form of a ruleset from its IR, the same value the nft emitters, the netlink
/// applier and the tracer use. nft base chains become regular chains; each hook gets one dispatcher
/// chain that jumps to them in priority order, and each built-in chain one jump to its dispatcher.
struct IPTablesTranslator {
    let ruleset: Ruleset
    let family: IPFamily

    static let hookOrder: [Chain.Hook.Point] = [.prerouting, .input, .forward, .output, .postrouting]

    func translate() throws(IPTablesTranslationError) -> IPTablesProgram {
        let names = try chainNames()
        let rules = try translatedRules(names)
        var tables: [IPTablesProgram.Table] = []
        var natDrops = false
        var natRejects = false
        for table in IPTablesTableName.allCases {
            let type: Chain.Hook.ChainType = table == .nat ? .nat : .filter
            var hooks: [(String, String)] = []
            var chains: [IPTablesChain] = []
            var roots: [String] = []
            for point in Self.hookOrder {
                let bases = ruleset.chains.enumerated()
                    .filter { $0.element.hook?.type == type && $0.element.hook?.point == point }
                    .sorted { ($0.element.hook!.priority, $0.offset) < ($1.element.hook!.priority, $1.offset) }
                    .map(\.element)
                guard !bases.isEmpty else { continue }
                try checkHook(table, point)
                let builtin = point.rawValue.uppercased()
                let dispatcher = IPTablesNames.dispatcher(builtin)
                hooks.append((builtin, dispatcher))
                var dropMarked: [IPTablesRule] = []
                if natDrops && table == .filter {
                    dropMarked.append(IPTablesRule(chain: dispatcher, matches: [.mark(value: dropMark, mask: dropMark, negated: false)],
                                                   target: .drop, comment: "kubenft drop: dropped by a chain of the nat table"))
                }
                if natRejects && table == .filter {
                    dropMarked.append(IPTablesRule(chain: dispatcher, matches: [.mark(value: rejectMark, mask: rejectMark, negated: false)],
                                                   target: .reject(nil), comment: "kubenft reject: rejected by a chain of the nat table"))
                }
                chains.append(IPTablesChain(name: dispatcher, origin: "\(table.rawValue) \(point.rawValue) hook", rules: dropMarked + bases.map { base in
                    IPTablesRule(chain: dispatcher, matches: [], target: .jump(names[base.name]!),
                                 comment: RuleTranslator.comment("kubenft \(base.name) priority \(base.hook!.priority)"))
                }))
                roots += bases.map(\.name)
                try checkAccept(bases: bases, rules: rules, names: names)
            }
            guard !hooks.isEmpty else { continue }
            let reachable = Self.reachable(from: roots, rules: rules, names: names)
            for chain in ruleset.chains where reachable.contains(chain.name) {
                var chainRules = rules[chain.name] ?? []
                if table == .nat && chainRules.contains(where: { $0.target == .drop }) {
                    natDrops = true
                    chainRules = chainRules.flatMap(markInsteadOfDrop)
                }
                if table == .nat && chainRules.contains(where: { $0.target == .reject(nil) }) {
                    natRejects = true
                    chainRules = chainRules.flatMap(markInsteadOfReject)
                }
                chains.append(IPTablesChain(name: names[chain.name]!, origin: chain.name + (chain.comment.map { " (\($0))" } ?? ""),
                                            rules: chainRules))
            }
            tables.append(IPTablesProgram.Table(name: table, hooks: hooks, chains: chains))
        }
        return IPTablesProgram(family: family, tables: tables)
    }

    /// The nat table may not DROP. As kube-proxy's iptables mode did, a nat rule that drops marks the
    /// packet with a bit the ruleset does not otherwise use and ACCEPTs it (no NAT); the first rule of
    /// every filter dispatcher then drops packets with that bit. The first packet of the connection
    /// never passes, so its conntrack entry is never confirmed and the next attempt is judged again.
    private func markInsteadOfDrop(_ rule: IPTablesRule) -> [IPTablesRule] {
        guard rule.target == .drop else { return [rule] }
        var mark = rule
        mark.target = .orMark(dropMark)
        // The ACCEPT tests the bit just set rather than repeating the matches: a stateful match
        // (a rate limit) must be evaluated once per packet.
        var accept = rule
        accept.matches = [.mark(value: dropMark, mask: dropMark, negated: false)]
        accept.target = .accept
        return [mark, accept]
    }

    /// REJECT is not allowed in the nat table either (a rate limit's reject sits in a Service's
    /// backend chain): the same mark-and-accept, with another bit, and the filter dispatchers reject.
    private func markInsteadOfReject(_ rule: IPTablesRule) -> [IPTablesRule] {
        guard rule.target == .reject(nil) else { return [rule] }
        var mark = rule
        mark.target = .orMark(rejectMark)
        // The ACCEPT tests the bit just set rather than repeating the matches: a stateful match
        // (a rate limit) must be evaluated once per packet.
        var accept = rule
        accept.matches = [.mark(value: rejectMark, mask: rejectMark, negated: false)]
        accept.target = .accept
        return [mark, accept]
    }

    /// Bits the ruleset itself sets.
    private var usedMarkBits: UInt32 {
        var used: UInt32 = 0
        for chain in ruleset.chains {
            for rule in chain.rules {
                for statement in rule.statements { if case .setMarkBits(let bits) = statement { used |= bits } }
            }
        }
        return used
    }

    /// Bit 15 (kube-proxy's KUBE-MARK-DROP bit) unless the ruleset already sets it, else the highest free bit.
    var dropMark: UInt32 {
        let used = usedMarkBits
        for bit in ([15] + Array((0...31).reversed())) where used & (1 << UInt32(bit)) == 0 { return 1 << UInt32(bit) }
        return 1 << 15
    }

    /// The highest bit free of the ruleset's own bits and of `dropMark`.
    var rejectMark: UInt32 {
        let used = usedMarkBits | dropMark
        for bit in (0...31).reversed() where used & (1 << UInt32(bit)) == 0 { return 1 << UInt32(bit) }
        return 1 << 13
    }

    /// Every nft chain's iptables name, checked to be unique (with the dispatchers).
    private func chainNames() throws(IPTablesTranslationError) -> [String: String] {
        var names: [String: String] = [:]
        var owners: [String: String] = [:]
        for point in Self.hookOrder { owners[IPTablesNames.dispatcher(point.rawValue.uppercased())] = "the \(point.rawValue) dispatcher" }
        for chain in ruleset.chains {
            let name = IPTablesNames.chain(chain.name)
            if let owner = owners[name] {
                throw IPTablesTranslationError(chain: chain.name, rule: nil, reason: "its iptables name \(name) is also that of \(owner)")
            }
            owners[name] = chain.name
            names[chain.name] = name
        }
        return names
    }

    private func translatedRules(_ names: [String: String]) throws(IPTablesTranslationError) -> [String: [IPTablesRule]] {
        let translator = RuleTranslator(matches: MatchTranslator(ruleset: ruleset, family: family), chainNames: names)
        var result: [String: [IPTablesRule]] = [:]
        for chain in ruleset.chains {
            var rules: [IPTablesRule] = []
            for rule in chain.rules {
                do {
                    rules += try translator.translate(rule, in: chain)
                } catch {
                    throw IPTablesTranslationError(chain: chain.name, rule: rule.comment, reason: error.reason)
                }
            }
            if let hook = chain.hook, hook.policy == .drop {
                rules.append(IPTablesRule(chain: names[chain.name]!, matches: [], target: .drop,
                                          comment: RuleTranslator.comment("kubenft \(chain.name) policy drop")))
            }
            result[chain.name] = rules
        }
        return result
    }

    /// iptables has no filter prerouting/postrouting and no nat forward hook.
    private func checkHook(_ table: IPTablesTableName, _ point: Chain.Hook.Point) throws(IPTablesTranslationError) {
        let valid: Set<Chain.Hook.Point> = table == .nat ? [.prerouting, .input, .output, .postrouting] : [.input, .forward, .output]
        guard valid.contains(point) else {
            throw IPTablesTranslationError(chain: "\(table.rawValue) \(point.rawValue)", rule: nil, reason: "no such hook in the \(table.rawValue) table")
        }
    }

    /// In nft, `accept` ends only its base chain and the next base chain of the hook still runs; in
    /// iptables ACCEPT ends the built-in chain. So only the last base chain of a hook may accept.
    private func checkAccept(bases: [Chain], rules: [String: [IPTablesRule]], names: [String: String]) throws(IPTablesTranslationError) {
        for base in bases.dropLast() {
            let reachable = Self.reachable(from: [base.name], rules: rules, names: names)
            for chain in reachable where rules[chain]?.contains(where: { $0.target?.isAccept == true }) == true {
                throw IPTablesTranslationError(chain: chain, rule: nil, reason:
                    "accepts while reached from \(base.name), which is not the last base chain of its hook")
            }
        }
    }

    /// nft chains reachable through jumps and gotos of the translated rules.
    static func reachable(from roots: [String], rules: [String: [IPTablesRule]], names: [String: String]) -> Set<String> {
        let nftName = Dictionary(names.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        var seen = Set(roots)
        var stack = roots
        while let chain = stack.popLast() {
            for rule in rules[chain] ?? [] {
                let next: String?
                switch rule.target {
                case .jump(let name)?, .goto(let name)?: next = nftName[name]
                default: next = nil
                }
                if let next, seen.insert(next).inserted { stack.append(next) }
            }
        }
        return seen
    }
}
