import NetAddress

/// Prints a ruleset as `nft -f` input. The output first creates and deletes the table, then declares
/// it whole, so loading it replaces any previous kubenft table in one transaction and touches nothing
/// else. Printing is deterministic: it follows the IR's order exactly.
public struct NFTTextEmitter: Sendable {
    public init() {}

    public func emit(_ ruleset: Ruleset) -> String {
        var out = ""
        out.reserveCapacity(64 * (ruleset.sets.reduce(0) { $0 + $1.elements.count } + ruleset.chains.reduce(0) { $0 + $1.rules.count + 2 }))
        out += "#!/usr/sbin/nft -f\n"
        for note in ruleset.notes { out += "# \(NFTQuoting.noteLine(note))\n" }
        let table = NFTQuoting.identifier(ruleset.family) + " " + NFTQuoting.identifier(ruleset.name)
        out += "table \(table)\n"
        out += "delete table \(table)\n"
        out += "table \(table) {\n"
        if let comment = ruleset.comment { out += "\tcomment \"\(NFTQuoting.comment(comment))\"\n" }
        for counter in ruleset.counters { emit(counter, into: &out) }
        let elementChunks = ElementLines.chunks(of: ruleset.sets)
        for (index, set) in ruleset.sets.enumerated() { emit(set, elementChunks: elementChunks?[index], into: &out) }
        for chain in ruleset.chains { emit(chain, into: &out) }
        out += "}\n"
        return out
    }

    private func emit(_ counter: CounterObject, into out: inout String) {
        out += "\n\tcounter \(NFTQuoting.identifier(counter.name)) {\n"
        if let comment = counter.comment { out += "\t\tcomment \"\(NFTQuoting.comment(comment))\"\n" }
        out += "\t}\n"
    }

    /// `elementChunks`, when given, are the set's element lines already printed (`ElementLines`).
    private func emit(_ set: NamedSet, elementChunks: [String]?, into out: inout String) {
        out += "\n\t\(set.isMap ? "map" : "set") \(NFTQuoting.identifier(set.name)) {\n"
        out += "\t\t" + Self.keyDeclaration(set) + "\n"
        if !set.flags.isEmpty { out += "\t\tflags \(set.flags.map(\.rawValue).joined(separator: ","))\n" }
        if let timeout = set.timeout { out += "\t\ttimeout \(timeout)s\n" }
        if let size = set.size { out += "\t\tsize \(size)\n" }
        if let comment = set.comment { out += "\t\tcomment \"\(NFTQuoting.comment(comment))\"\n" }
        if !set.elements.isEmpty {
            out += "\t\telements = {\n"
            if let elementChunks {
                for chunk in elementChunks { out += chunk }
            } else {
                for (index, element) in set.elements.enumerated() {
                    ElementLines.append(element, last: index == set.elements.count - 1, to: &out)
                }
            }
            out += "\t\t}\n"
        }
        out += "\t}\n"
    }

    static func keyDeclaration(_ set: NamedSet) -> String {
        if let typeof = set.typeof {
            let key = "typeof " + typeof.key.map(Self.expression).joined(separator: " . ")
            return typeof.data.isEmpty ? key : key + " : " + typeof.data.map(Self.expression).joined(separator: " . ")
        }
        let key = "type " + set.key.map(\.rawValue).joined(separator: " . ")
        switch set.mapping {
        case .none: return key
        case .verdict: return key + " : verdict"
        case .data(let data): return key + " : " + data.rawValue
        case .concatenatedData(let data): return key + " : " + data.map(\.rawValue).joined(separator: " . ")
        }
    }

    /// One set or map element as nft writes it inside `elements = { … }`.
    public static func element(_ element: SetElement) -> String {
        var text = ""
        appendElement(element, to: &text)
        return text
    }

    /// `element`, appended to `out` without building a string per value: a large ruleset has a
    /// million elements, and their text is most of the output.
    static func appendElement(_ element: SetElement, to out: inout String) {
        appendValues(element.key, to: &out)
        if let comment = element.comment {
            out += " comment \""
            out += NFTQuoting.comment(comment)
            out += "\""
        }
        switch element.data {
        case nil: break
        case .values(let values)?:
            out += " : "
            appendValues(values, to: &out)
        case .verdict(let verdict)?:
            out += " : "
            switch verdict {
            case .jump(let chain), .goto(let chain):
                out += verdict == .jump(chain) ? "jump " : "goto "
                out += NFTQuoting.identifier(chain)
            default:
                out += Self.verdict(verdict)
            }
        }
    }

    /// Values joined with ` . `, as a concatenated key or data is written.
    private static func appendValues(_ values: [Value], to out: inout String) {
        for (index, value) in values.enumerated() {
            if index > 0 { out += " . " }
            appendValue(value, to: &out)
        }
    }

    /// `value(_:)`, appended to `out`; addresses and ports are written without intermediate strings.
    private static func appendValue(_ value: Value, to out: inout String) {
        switch value {
        case .address(let address): address.appendDescription(to: &out)
        case .port(let port): out += String(port)
        default: out += Self.value(value)
        }
    }

    private func emit(_ chain: Chain, into out: inout String) {
        out += "\n\tchain \(NFTQuoting.identifier(chain.name)) {\n"
        if let hook = chain.hook {
            out += "\t\ttype \(hook.type.rawValue) hook \(hook.point.rawValue) priority \(hook.priority); policy \(hook.policy.rawValue);\n"
        }
        if let comment = chain.comment { out += "\t\tcomment \"\(NFTQuoting.comment(comment))\"\n" }
        for rule in chain.rules { out += "\t\t" + Self.rule(rule) + "\n" }
        out += "\t}\n"
    }

    public static func rule(_ rule: Rule) -> String {
        var text = rule.statements.map(Self.statement).joined(separator: " ")
        if let comment = rule.comment { text += " comment \"\(NFTQuoting.comment(comment))\"" }
        return text
    }

    public static func statement(_ statement: Statement) -> String {
        switch statement {
        case .match(let left, let comparison, let right):
            // nft's implicit operator reads a bitwise expression as a flag test, so spell `==` there.
            let implicit = comparison == .equal && !left.isBitwise
            let op = implicit ? " " : " \(comparison.rawValue) "
            return expression(left) + op + expression(right)
        case .verdict(let verdict): return Self.verdict(verdict)
        case .verdictMap(let key, let map): return "\(expression(key)) vmap @\(NFTQuoting.identifier(map))"
        case .dnat(let family, let target):
            let keyword = family == .v4 ? "ip" : "ip6"
            switch target {
            case .endpoint(let address, let port):
                let host = family == .v4 ? "\(address)" : "[\(address)]"
                return "dnat \(keyword) to \(host):\(port)"
            case .lookup(let lookup): return "dnat \(keyword) to \(expression(lookup))"
            case .lookups(let address, let port): return "dnat \(keyword) to \(expression(address)) : \(expression(port))"
            }
        case .masquerade: return "masquerade"
        case .reject(let kind):
            switch kind {
            case .default: return "reject"
            case .tcpReset: return "reject with tcp reset"
            case .icmpxAdminProhibited: return "reject with icmpx admin-prohibited"
            case .icmpxPortUnreachable: return "reject with icmpx port-unreachable"
            }
        case .setMarkBits(let bits): return "meta mark set meta mark | \(value(.hex(bits)))"
        case .updateSet(let name, let key): return "update @\(NFTQuoting.identifier(name)) { \(expression(key)) }"
        case .counter: return "counter"
        case .limitOver(let limit): return limit.text
        case .updateSetLimitOver(let name, let key, let limit):
            return "update @\(NFTQuoting.identifier(name)) { \(expression(key)) \(limit.text) }"
        case .namedCounter(let name): return "counter name \"\(NFTQuoting.identifier(name))\""
        case .limitUnder(let limit): return limit.underText
        case .log(let target): return target.text
        }
    }

    public static func expression(_ expression: Expression) -> String {
        switch expression {
        case .payload(let field): return field.rawValue
        case .meta(let key): return "meta \(key.rawValue)"
        case .conntrack(let key): return "ct \(key.rawValue)"
        case .conntrackOriginalDestination(let family): return "ct original \(family == .v4 ? "ip" : "ip6") daddr"
        case .fibAddressType(let destination): return "fib \(destination ? "daddr" : "saddr") type"
        case .randomNumber(let modulus, let offset):
            return "numgen random mod \(modulus)" + (offset == 0 ? "" : " offset \(offset)")
        case .concat(let parts): return parts.map(Self.expression).joined(separator: " . ")
        case .value(let value): return Self.value(value)
        case .anonymousSet(let values): return "{ " + values.map(Self.value).joined(separator: ", ") + " }"
        case .setReference(let name): return "@\(NFTQuoting.identifier(name))"
        case .mapLookup(let key, let map): return "\(Self.expression(key)) map @\(NFTQuoting.identifier(map))"
        case .bitwiseAnd(let inner, let mask): return "\(Self.expression(inner)) & \(value(mask))"
        case .bitwiseOr(let inner, let bits): return "\(Self.expression(inner)) | \(value(bits))"
        }
    }

    public static func value(_ value: Value) -> String {
        switch value {
        case .address(let address): return address.description
        case .prefix(let cidr): return cidr.description
        case .addressRange(let low, let high): return "\(low)-\(high)"
        case .integer(let number): return String(number)
        case .port(let port): return String(port)
        case .portRange(let low, let high): return "\(low)-\(high)"
        case .hex(let number):
            let digits = String(number, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
        case .proto(let name): return NFTQuoting.word(name)
        case .symbol(let name): return NFTQuoting.word(name)
        }
    }

    public static func verdict(_ verdict: Verdict) -> String {
        switch verdict {
        case .accept: return "accept"
        case .drop: return "drop"
        case .continue: return "continue"
        case .return: return "return"
        case .jump(let chain): return "jump \(NFTQuoting.identifier(chain))"
        case .goto(let chain): return "goto \(NFTQuoting.identifier(chain))"
        }
    }
}
