import NFTRuleset
import NetAddress

/// Turns what the kernel holds back into the IR, so `show` prints it with the text emitter and
/// reports name objects the way the compiler does. It understands the shapes the linearizer
/// produces; a rule it cannot read becomes an empty rule whose comment carries the kernel's text.
package enum KernelRaiser {
    package static func ruleset(_ table: KernelTable, family: String, name: String) -> Ruleset {
        let sets = table.sets.map(namedSet)
        let chains = table.chains.map { chain in
            Chain(name: chain.name, hook: chain.hook, comment: chain.comment, rules: chain.rules.map(rule))
        }
        let counters = table.counters.map { CounterObject(name: $0.name, comment: $0.comment) }
        return Ruleset(family: family, name: name, comment: table.comment, counters: counters, sets: sets, chains: chains)
    }

    package static func namedSet(_ set: KernelSet) -> NamedSet {
        let layout = set.layout
        var flags: [NamedSet.Flag] = []
        if layout.flags & SetLayout.flagConstant != 0 { flags.append(.constant) }
        if layout.flags & SetLayout.flagEval != 0 { flags.append(.dynamic) }
        if layout.flags & SetLayout.flagInterval != 0 { flags.append(.interval) }
        if layout.flags & SetLayout.flagTimeout != 0 { flags.append(.timeout) }
        var mapping = NamedSet.Mapping.none
        if layout.flags & SetLayout.flagMap != 0 {
            if layout.dataType == Kernel.verdictMapData {
                mapping = .verdict
            } else if let types = layout.dataTypes, types.count > 1 {
                mapping = .concatenatedData(types.compactMap(\.dataType))
            } else if let type = layout.dataType.flatMap(FieldType.forDatatype)?.dataType {
                mapping = .data(type)
            }
        }
        var typeof: NamedSet.Typeof?
        if let key = UserData.find(3, in: layout.userdata).flatMap(SetLayout.typeofExpression), case .concat(let fields) = key,
           !fields.isEmpty {
            let data = UserData.find(4, in: layout.userdata).flatMap(SetLayout.typeofExpression)
            if case .concat(let dataFields)? = data { typeof = .init(key: fields, data: dataFields) } else { typeof = .init(key: fields, data: data.map { [$0] } ?? []) }
        }
        let size = layout.flags & SetLayout.flagEval != 0 && layout.size == SetLayout.dynamicSize ? nil : layout.size.map(Int.init)
        return NamedSet(name: set.name, key: layout.keyTypes.compactMap(\.dataType), mapping: mapping, flags: flags,
                        timeout: layout.timeoutMilliseconds.map { Int($0 / 1000) }, size: size,
                        comment: UserData.string(7, in: layout.userdata), typeof: typeof, elements: elements(set.elements, layout: layout))
    }

    /// Elements in key order; interval sets folded back into addresses, prefixes and ranges.
    package static func elements(_ encoded: Set<EncodedElement>, layout: SetLayout, sorted: Bool = true) -> [SetElement] {
        if layout.isInterval, layout.keyTypes.count == 1 { return intervals(encoded, type: layout.keyTypes[0], layout: layout) }
        var result: [SetElement] = []
        result.reserveCapacity(encoded.count)
        for element in encoded {
            guard let key = splitKey(element.key, types: layout.keyTypes) else { continue }
            result.append(SetElement(key: key, data: data(element, layout: layout), comment: element.comment))
        }
        guard sorted else { return result }
        return result.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    package static func splitKey(_ bytes: [UInt8], types: [FieldType]) -> [Value]? {
        if types.count == 1 { return ValueCodec.value(bytes, as: types[0]).map { [$0] } }
        var values: [Value] = []
        var offset = 0
        for type in types {
            guard offset < bytes.count, let value = ValueCodec.value(Array(bytes[offset...]), as: type) else { return nil }
            values.append(value)
            offset += Kernel.slots(forLength: type.length) * 4
        }
        return values
    }

    private static func data(_ element: EncodedElement, layout: SetLayout) -> SetElement.Data? {
        if let verdict = element.verdict { return .verdict(verdict) }
        if let bytes = element.data, let types = layout.dataTypes, types.count > 1 {
            return splitKey(bytes, types: types).map { .values($0) }
        }
        guard let bytes = element.data, let type = layout.dataType.flatMap(FieldType.forDatatype),
              let value = ValueCodec.value(bytes, as: type) else { return nil }
        return .values([value])
    }

    private static func intervals(_ encoded: Set<EncodedElement>, type: FieldType, layout: SetLayout) -> [SetElement] {
        let sorted = encoded.sorted { number($0.key) < number($1.key) || (number($0.key) == number($1.key) && $0.intervalEnd) }
        let maximum: UInt128 = type.length >= 16 ? UInt128.max : (UInt128(1) << (8 * type.length)) - 1
        var result: [SetElement] = []
        for (index, element) in sorted.enumerated() where !element.intervalEnd {
            let low = number(element.key)
            var high = maximum
            if let end = sorted[(index + 1)...].first(where: { $0.intervalEnd }) { high = number(end.key) - 1 }
            guard let value = intervalValue(low, high, type) else { continue }
            result.append(SetElement(key: [value], data: data(element, layout: layout), comment: element.comment))
        }
        return result
    }

    package static func number(_ bytes: [UInt8]) -> UInt128 { bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }

    /// The shortest spelling of [low, high]: one value, a prefix, or a range.
    package static func intervalValue(_ low: UInt128, _ high: UInt128, _ type: FieldType) -> Value? {
        switch type {
        case .ipv4, .ipv6:
            let family: IPFamily = type == .ipv4 ? .v4 : .v6
            let lowAddress = IPAddress(numericValue: low, family: family)
            if low == high { return .address(lowAddress) }
            let prefixes = AddressRange(family: family, lower: low, upper: high).prefixes
            if prefixes.count == 1 { return .prefix(prefixes[0]) }
            return .addressRange(lowAddress, IPAddress(numericValue: high, family: family))
        case .port:
            guard high <= 0xFFFF else { return nil }
            return low == high ? .port(UInt16(low)) : .portRange(UInt16(low), UInt16(high))
        default:
            return low == high ? ValueCodec.value(ElementEncoder.numberBytes(low, type), as: type) : nil
        }
    }

    package static func rule(_ rule: KernelRule) -> Rule {
        if let foreign = rule.foreign { return Rule([], comment: "kubenft cannot decode: " + foreign) }
        do {
            var parser = RuleParser(expressions: rule.expressions, anonymousSets: rule.anonymousSets)
            return Rule(try parser.statements(), comment: rule.comment)
        } catch {
            return Rule([], comment: "kubenft cannot decode: \(error.message)")
        }
    }
}
