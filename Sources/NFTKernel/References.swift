import NFTRuleset

/// The chains and named sets a rule or a map element refers to: what the kernel counts as uses,
/// refusing to delete a chain or set that is still used (`EBUSY`) and to add a rule or element
/// that uses one it does not hold (`ENOENT`). The recording transport checks batches with them.
package struct References: Equatable {
    package var chains: Set<String> = []
    package var sets: Set<String> = []

    package init(_ rule: Rule) {
        for statement in rule.statements { add(statement) }
    }

    package init(_ element: SetElement) {
        if case .verdict(let verdict)? = element.data { add(verdict) }
    }

    private mutating func add(_ statement: Statement) {
        switch statement {
        case .match(let left, _, let right):
            add(left)
            add(right)
        case .verdict(let verdict): add(verdict)
        case .verdictMap(let key, let map):
            add(key)
            sets.insert(map)
        case .dnat(_, .lookup(let expression)): add(expression)
        case .dnat(_, .lookups(let address, let port)):
            add(address)
            add(port)
        case .updateSet(let name, let key):
            sets.insert(name)
            add(key)
        case .updateSetLimitOver(let name, let key, _):
            sets.insert(name)
            add(key)
        case .dnat(_, .endpoint), .masquerade, .reject, .setMarkBits, .counter, .limitOver, .namedCounter, .limitUnder, .log: break
        }
    }

    private mutating func add(_ verdict: Verdict) {
        switch verdict {
        case .jump(let chain), .goto(let chain): chains.insert(chain)
        case .accept, .drop, .continue, .return: break
        }
    }

    private mutating func add(_ expression: Expression) {
        switch expression {
        case .setReference(let name): sets.insert(name)
        case .mapLookup(let key, let map):
            add(key)
            sets.insert(map)
        case .concat(let parts): for part in parts { add(part) }
        case .bitwiseAnd(let inner, _), .bitwiseOr(let inner, _): add(inner)
        case .payload, .meta, .conntrack, .conntrackOriginalDestination, .fibAddressType, .randomNumber, .value, .anonymousSet: break
        }
    }
}
