import NetAddress

/// Prints a ruleset in the libnftables JSON schema that `nft -j -f` loads: the same commands as the
/// text form (add table, delete table, add table, then chains, sets and rules), one per line. Chains
/// come before sets because the kernel resolves a verdict-map element's chain when the element is added.
public struct NFTJSONEmitter: Sendable {
    public init() {}

    public func emit(_ ruleset: Ruleset) -> String {
        var commands: [JSONText] = [.object([("metainfo", .object([("json_schema_version", 1)]))])]
        let family = JSONText.string(NFTQuoting.identifier(ruleset.family)), tableName = JSONText.string(NFTQuoting.identifier(ruleset.name))
        let table: [(String, JSONText)] = [("family", family), ("name", tableName)]
        commands.append(Self.command("add", "table", table))
        commands.append(Self.command("delete", "table", table))
        commands.append(Self.command("add", "table", table + (ruleset.comment.map { [("comment", .string(NFTQuoting.comment($0)))] } ?? [])))
        let owner: [(String, JSONText)] = [("family", family), ("table", tableName)]
        for counter in ruleset.counters { commands.append(Self.counter(counter, owner: owner)) }
        for chain in ruleset.chains { commands.append(Self.chain(chain, owner: owner)) }
        for set in ruleset.sets { commands.append(Self.set(set, owner: owner)) }
        for chain in ruleset.chains {
            for rule in chain.rules { commands.append(Self.rule(rule, chain: chain.name, owner: owner)) }
        }
        var out = "{\"nftables\": [\n"
        for (index, command) in commands.enumerated() {
            command.write(into: &out)
            out += index == commands.count - 1 ? "\n" : ",\n"
        }
        out += "]}\n"
        return out
    }

    /// A table, chain or set name, mapped exactly as the text form maps it, so both load alike.
    static func name(_ identifier: String) -> JSONText { .string(NFTQuoting.identifier(identifier)) }

    static func reference(_ identifier: String) -> JSONText { .string("@" + NFTQuoting.identifier(identifier)) }

    static func command(_ verb: String, _ kind: String, _ body: [(String, JSONText)]) -> JSONText {
        .object([(verb, .object([(kind, .object(body))]))])
    }

    static func counter(_ counter: CounterObject, owner: [(String, JSONText)]) -> JSONText {
        var body = owner + [("name", name(counter.name))]
        if let comment = counter.comment { body.append(("comment", .string(NFTQuoting.comment(comment)))) }
        return command("add", "counter", body)
    }

    static func set(_ set: NamedSet, owner: [(String, JSONText)]) -> JSONText {
        var body = owner + [("name", name(set.name))]
        body.append(("type", set.key.count == 1 ? .string(set.key[0].rawValue) : .array(set.key.map { .string($0.rawValue) })))
        switch set.mapping {
        case .none: break
        case .verdict: body.append(("map", "verdict"))
        case .data(let type): body.append(("map", .string(type.rawValue)))
        // nft 1.0.6 crashes on this; the pipeline compiles the cascade shape for JSON (docs/design.md).
        case .concatenatedData(let types): body.append(("map", .array(types.map { .string($0.rawValue) })))
        }
        // nft 1.0.6's JSON parser knows no `dynamic` flag; it marks sets used by `update` itself.
        let flags = set.flags.filter { $0 != .dynamic }
        if !flags.isEmpty { body.append(("flags", .array(flags.map { .string($0.rawValue) }))) }
        if let timeout = set.timeout { body.append(("timeout", .number(Int64(timeout)))) }
        if let size = set.size { body.append(("size", .number(Int64(size)))) }
        if let comment = set.comment { body.append(("comment", .string(NFTQuoting.comment(comment)))) }
        if !set.elements.isEmpty { body.append(("elem", .array(set.elements.map(element)))) }
        return command("add", set.isMap ? "map" : "set", body)
    }

    static func element(_ element: SetElement) -> JSONText {
        var key = element.key.count == 1 ? value(element.key[0]) : .object([("concat", .array(element.key.map(value)))])
        if let comment = element.comment {
            key = .object([("elem", .object([("val", key), ("comment", .string(NFTQuoting.comment(comment)))]))])
        }
        switch element.data {
        case nil: return key
        case .values(let values)?:
            return .array([key, values.count == 1 ? value(values[0]) : .object([("concat", .array(values.map(value)))])])
        case .verdict(let verdict)?: return .array([key, Self.verdict(verdict)])
        }
    }

    static func chain(_ chain: Chain, owner: [(String, JSONText)]) -> JSONText {
        var body = owner + [("name", name(chain.name))]
        if let hook = chain.hook {
            body += [("type", .string(hook.type.rawValue)), ("hook", .string(hook.point.rawValue)),
                     ("prio", .number(Int64(hook.priority))), ("policy", .string(hook.policy.rawValue))]
        }
        if let comment = chain.comment { body.append(("comment", .string(NFTQuoting.comment(comment)))) }
        return command("add", "chain", body)
    }

    static func rule(_ rule: Rule, chain: String, owner: [(String, JSONText)]) -> JSONText {
        var body = owner + [("chain", name(chain)), ("expr", .array(rule.statements.map(statement)))]
        if let comment = rule.comment { body.append(("comment", .string(NFTQuoting.comment(comment)))) }
        return command("add", "rule", body)
    }

    static func statement(_ statement: Statement) -> JSONText {
        switch statement {
        case .match(let left, let comparison, let right):
            // "in" is nft's implicit operator, which the text form uses for equality: it reads flag
            // types (ct state) as flag tests, exactly as `ct state new` does in text.
            var op = comparison.rawValue
            if comparison == .equal, !left.isBitwise { op = "in" }
            return .object([("match", .object([("op", .string(op)), ("left", expression(left)), ("right", expression(right))]))])
        case .verdict(let verdict): return Self.verdict(verdict)
        case .verdictMap(let key, let map):
            return .object([("vmap", .object([("key", expression(key)), ("data", reference(map))]))])
        case .dnat(let family, let target):
            var body: [(String, JSONText)] = [("family", family == .v4 ? "ip" : "ip6")]
            switch target {
            case .endpoint(let address, let port):
                body += [("addr", .string(address.description)), ("port", .number(Int64(port)))]
            case .lookup(let lookup): body.append(("addr", expression(lookup)))
            case .lookups(let address, let port): body += [("addr", expression(address)), ("port", expression(port))]
            }
            return .object([("dnat", .object(body))])
        case .masquerade: return .object([("masquerade", .null)])
        case .reject(let kind):
            switch kind {
            case .default: return .object([("reject", .null)])
            case .tcpReset: return .object([("reject", .object([("type", "tcp reset")]))])
            case .icmpxAdminProhibited: return .object([("reject", .object([("type", "icmpx"), ("expr", "admin-prohibited")]))])
            case .icmpxPortUnreachable: return .object([("reject", .object([("type", "icmpx"), ("expr", "port-unreachable")]))])
            }
        case .setMarkBits(let bits):
            let mark: JSONText = .object([("meta", .object([("key", "mark")]))])
            return .object([("mangle", .object([("key", mark), ("value", .object([("|", .array([mark, .number(Int64(bits))]))]))]))])
        case .updateSet(let name, let key):
            return .object([("set", .object([("op", "update"), ("elem", expression(key)), ("set", reference(name))]))])
        case .counter: return .object([("counter", .object([("packets", 0), ("bytes", 0)]))])
        case .limitOver(let limit): return limitJSON(limit)
        case .updateSetLimitOver(let name, let key, let limit):
            return .object([("set", .object([("op", "update"), ("elem", expression(key)), ("set", reference(name)),
                                             ("stmt", .array([limitJSON(limit)]))]))])
        case .namedCounter(let counter): return .object([("counter", name(counter))])
        case .limitUnder(let limit):
            return .object([("limit", .object([("rate", .number(Int64(limit.rate))), ("burst", .number(Int64(limit.burst))),
                                               ("per", .string(limit.unit.rawValue))]))])
        case .log(let target):
            return .object([("log", .object([("prefix", .string(NFTQuoting.comment(target.prefix))), ("group", .number(Int64(target.group)))]))])
        }
    }

    static func limitJSON(_ limit: RateLimit) -> JSONText {
        .object([("limit", .object([("rate", .number(Int64(limit.rate))), ("burst", .number(Int64(limit.burst))),
                                    ("per", .string(limit.unit.rawValue)), ("inv", .bool(true))]))])
    }

    static func expression(_ expression: Expression) -> JSONText {
        switch expression {
        case .payload(let field):
            let (proto, name) = field.jsonParts
            return .object([("payload", .object([("protocol", .string(proto)), ("field", .string(name))]))])
        case .meta(let key): return .object([("meta", .object([("key", .string(key.rawValue))]))])
        case .conntrack(let key): return .object([("ct", .object([("key", .string(key.rawValue))]))])
        case .conntrackOriginalDestination(let family):
            return .object([("ct", .object([("key", "daddr"), ("family", family == .v4 ? "ip" : "ip6"), ("dir", "original")]))])
        case .fibAddressType(let destination):
            return .object([("fib", .object([("result", "type"), ("flags", .array([destination ? "daddr" : "saddr"]))]))])
        case .randomNumber(let modulus, let offset):
            return .object([("numgen", .object([("mode", "random"), ("mod", .number(Int64(modulus))), ("offset", .number(Int64(offset)))]))])
        case .concat(let parts): return .object([("concat", .array(parts.map(Self.expression)))])
        case .value(let value): return Self.value(value)
        case .anonymousSet(let values): return .object([("set", .array(values.map(value)))])
        case .setReference(let name): return reference(name)
        case .mapLookup(let key, let map):
            return .object([("map", .object([("key", Self.expression(key)), ("data", reference(map))]))])
        case .bitwiseAnd(let inner, let mask): return .object([("&", .array([Self.expression(inner), value(mask)]))])
        case .bitwiseOr(let inner, let bits): return .object([("|", .array([Self.expression(inner), value(bits)]))])
        }
    }

    static func value(_ value: Value) -> JSONText {
        switch value {
        case .address(let address): return .string(address.description)
        case .prefix(let cidr):
            return .object([("prefix", .object([("addr", .string(cidr.address.description)), ("len", .number(Int64(cidr.prefixLength)))]))])
        case .addressRange(let low, let high): return .object([("range", .array([.string(low.description), .string(high.description)]))])
        case .integer(let number): return .number(Int64(clamping: number))
        case .port(let port): return .number(Int64(port))
        case .portRange(let low, let high): return .object([("range", .array([.number(Int64(low)), .number(Int64(high))]))])
        case .hex(let number): return .number(Int64(number))
        case .proto(let name): return .string(NFTQuoting.wordValue(name))
        case .symbol(let name): return .string(NFTQuoting.wordValue(name))
        }
    }

    static func verdict(_ verdict: Verdict) -> JSONText {
        switch verdict {
        case .accept: return .object([("accept", .null)])
        case .drop: return .object([("drop", .null)])
        case .continue: return .object([("continue", .null)])
        case .return: return .object([("return", .null)])
        case .jump(let chain): return .object([("jump", .object([("target", name(chain))]))])
        case .goto(let chain): return .object([("goto", .object([("target", name(chain))]))])
        }
    }
}
