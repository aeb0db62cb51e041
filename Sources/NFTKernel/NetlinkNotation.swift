import NFTRuleset

/// Kernel expressions printed in the notation `nft --debug=netlink` uses (libnftnl's), one
/// `[ … ]` line per expression, so a linearized rule can be compared with what nft itself sends
/// for the same rule. Anonymous sets print as nft names them before the kernel does
/// (`__set%d`, `__map%d`).
package enum NetlinkNotation {
    package static func lines(_ expressions: [KernelExpression], anonymousMaps: Set<Int> = []) -> [String] {
        expressions.map { "[ " + text($0, anonymousMaps: anonymousMaps) + "]" }
    }

    static func text(_ expression: KernelExpression, anonymousMaps: Set<Int>) -> String {
        switch expression {
        case .payload(let base, let offset, let length, let dreg):
            return "payload load \(length)b @ \(baseName(base)) header + \(offset) => reg \(dreg) "
        case .meta(let key, let dreg): return "meta load \(metaName(key)) => reg \(dreg) "
        case .metaSet(let key, let sreg): return "meta set \(metaName(key)) with reg \(sreg) "
        case .conntrack(let key, let direction, let dreg):
            var text = "ct load \(ctName(key)) => reg \(dreg) "
            if let direction { text += ", dir \(direction == 0 ? "original" : "reply") " }
            return text
        case .fib(let result, let flags, let dreg):
            let names = [(UInt32(1), "saddr"), (2, "daddr"), (4, "mark"), (8, "iif"), (16, "oif")].filter { flags & $0.0 != 0 }.map(\.1)
            let results = [UInt32(1): "oif", 2: "oifname", 3: "type"]
            return "fib \(names.joined(separator: " . ")) \(results[result] ?? "unknown") => reg \(dreg) "
        case .numgen(let modulus, let offset, let dreg):
            return "numgen reg \(dreg) = random mod \(modulus) " + (offset != 0 ? "offset \(offset) " : "")
        case .byteorder(let sreg, let dreg, let length, let size):
            return "byteorder reg \(dreg) = hton(reg \(sreg), \(size), \(length)) "
        case .cmp(let sreg, let op, let data): return "cmp \(opName(op)) reg \(sreg) " + value(data)
        case .range(let sreg, let op, let low, let high): return "range \(opName(op)) reg \(sreg) " + value(low) + value(high)
        case .bitwise(let sreg, let dreg, let mask, let xor):
            return "bitwise reg \(dreg) = ( reg \(sreg) & " + value(mask) + ") ^ " + value(xor)
        case .lookup(let sreg, let set, let dreg, let inverted):
            var text = "lookup reg \(sreg) set \(setName(set, anonymousMaps: anonymousMaps)) "
            if let dreg { text += "dreg \(dreg) " }
            if inverted { text += "0x1 " }
            return text
        case .immediateData(let dreg, let data): return "immediate reg \(dreg) " + value(data)
        case .immediateVerdict(let verdict): return "immediate reg 0 \(verdictText(verdict)) "
        case .dnat(let family, let address, let port, let flags):
            var text = "nat dnat \(family == 2 ? "ip" : family == 10 ? "ip6" : "family \(family)") addr_min reg \(address) "
            if let port { text += "proto_min reg \(port) " }
            if let flags { text += "flags 0x\(String(flags, radix: 16)) " }
            return text
        case .masquerade: return "masq "
        case .reject(let type, let code): return "reject type \(type) code \(code) "
        case .dynsetUpdate(let sreg, let set):
            return "dynset update reg_key \(sreg) set \(setName(set, anonymousMaps: anonymousMaps)) "
        case .counter: return "counter pkts 0 bytes 0 "
        case .limit(let rate, let unit, let burst, let inverted):
            return "limit rate \(rate)/\(unitName(unit)) burst \(burst) type packets flags 0x\(inverted ? 1 : 0) "
        case .dynsetUpdateLimit(let sreg, let set, let rate, let unit, let burst):
            // The per-element limit is always `limit rate over` (NFT_LIMIT_F_INV).
            return "dynset update reg_key \(sreg) set \(setName(set, anonymousMaps: anonymousMaps)) expr [ limit rate \(rate)/\(unitName(unit)) burst \(burst) type packets flags 0x1 ] "
        case .objref(let type, let name): return "objref type \(type) name \(name) "
        case .log(let prefix, let group): return "log prefix \(prefix) group \(group) snaplen 0 qthreshold 0 "
        }
    }

    /// A data register as libnftnl prints it: 32-bit words in host order, zero-padded.
    static func value(_ bytes: [UInt8]) -> String {
        var text = ""
        for start in stride(from: 0, to: bytes.count, by: 4) {
            var word: UInt32 = 0
            for index in 0..<4 where start + index < bytes.count { word |= UInt32(bytes[start + index]) << (8 * UInt32(index)) }
            let hex = String(word, radix: 16)
            text += "0x" + String(repeating: "0", count: 8 - hex.count) + hex + " "
        }
        return text
    }

    static func verdictText(_ verdict: Verdict) -> String {
        switch verdict {
        case .accept: return "accept"
        case .drop: return "drop"
        case .continue: return "continue"
        case .return: return "return"
        case .jump(let chain): return "jump -> \(chain)"
        case .goto(let chain): return "goto -> \(chain)"
        }
    }

    static func setName(_ set: SetReference, anonymousMaps: Set<Int>) -> String {
        switch set {
        case .named(let name): return name
        case .anonymous(let index): return anonymousMaps.contains(index) ? "__map%d" : "__set%d"
        }
    }

    static func baseName(_ base: UInt32) -> String { ["link", "network", "transport", "inner"][Int(min(base, 3))] }

    static func opName(_ op: KernelComparison) -> String {
        switch op {
        case .eq: return "eq"
        case .neq: return "neq"
        case .lt: return "lt"
        case .lte: return "lte"
        case .gt: return "gt"
        case .gte: return "gte"
        }
    }

    static func metaName(_ key: UInt32) -> String {
        let names = ["len", "protocol", "priority", "mark", "iif", "oif", "iifname", "oifname", "iiftype", "oiftype", "skuid",
                     "skgid", "nftrace", "rtclassid", "secmark", "nfproto", "l4proto"]
        return key < names.count ? names[Int(key)] : "unknown"
    }

    static func ctName(_ key: UInt32) -> String {
        let names = ["state", "direction", "status", "mark", "secmark", "expiration", "helper", "l3protocol", "src", "dst", "protocol",
                     "proto_src", "proto_dst", "label", "pkts", "bytes", "avgpkt", "zone", "eventmask", "src_ip", "dst_ip", "src_ip6", "dst_ip6"]
        return key < names.count ? names[Int(key)] : "unknown"
    }

    static func unitName(_ seconds: UInt64) -> String {
        [UInt64(1): "second", 60: "minute", 3600: "hour", 86400: "day", 604_800: "week"][seconds] ?? "error"
    }
}
