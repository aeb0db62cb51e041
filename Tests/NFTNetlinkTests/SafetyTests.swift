import CNftnl
import CNftnlShim
import NetAddress
import NFTRuleset
import Testing
@testable import NFTNetlink

#if canImport(Glibc)
import Glibc
#endif

/// The netlink layer's guards that need no kernel: acknowledgements are counted, the C shim
/// refuses messages larger than the room it gives libnftnl's builders, and fingerprints computed
/// in parallel slices are the same as computed one by one (run it under ThreadSanitizer too:
/// scripts/sanitize.sh).
@Suite("Netlink safety without the kernel")
struct SafetyTests {
    @Test("a batch answered with fewer or more acknowledgements than messages is an error")
    func acknowledgementsCounted() throws {
        try NetlinkSocket.checkAcknowledgements(messages: 12, acknowledged: 12, refusals: 0)
        // Refusals are reported as such; the kernel stops answering after one.
        try NetlinkSocket.checkAcknowledgements(messages: 12, acknowledged: 3, refusals: 1)
        for acknowledged in [0, 11, 13] {
            #expect(throws: NetlinkError.self) {
                try NetlinkSocket.checkAcknowledgements(messages: 12, acknowledged: acknowledged, refusals: 0)
            }
        }
        do {
            try NetlinkSocket.checkAcknowledgements(messages: 12, acknowledged: 11, refusals: 0)
        } catch {
            #expect(error.code == EPROTO)
            #expect(error.message.contains("acknowledged 11 of 12 messages"))
        }
    }

    /// A rule whose comment (userdata) is `size` bytes, added to a fresh batch.
    private static func addRule(userdata size: Int, expressions: Int = 1) -> Int32 {
        guard let batch = kubenft_nl_batch_new(1), let rule = nftnl_rule_alloc() else { return -1 }
        defer {
            nftnl_rule_free(rule)
            kubenft_nl_batch_free(batch)
        }
        nftnl_rule_set_str(rule, UInt16(NFTNL_RULE_TABLE.rawValue), "kubenft")
        nftnl_rule_set_str(rule, UInt16(NFTNL_RULE_CHAIN.rawValue), "c")
        let comment = [UInt8](repeating: 0x61, count: size)
        _ = comment.withUnsafeBytes { nftnl_rule_set_data(rule, UInt16(NFTNL_RULE_USERDATA.rawValue), $0.baseAddress, UInt32(size)) }
        for _ in 0..<expressions {
            guard let expression = nftnl_expr_alloc("counter") else { return -1 }
            nftnl_rule_add_expr(rule, expression)
        }
        var sequence: UInt32 = 0
        return kubenft_nl_batch_add_rule(batch, UInt16(NFT_MSG_NEWRULE.rawValue), 1, 0, rule, &sequence)
    }

    @Test("the shim refuses a rule larger than the room libnftnl's builder is given, instead of writing past it")
    func oversizedRuleRefused() {
        #expect(Self.addRule(userdata: 100) == 0)
        #expect(Self.addRule(userdata: 4 << 20) == EMSGSIZE)
        #expect(Self.addRule(userdata: 16, expressions: 128) == 0)
        #expect(Self.addRule(userdata: 16, expressions: 129) == EMSGSIZE)
    }

    @Test("fingerprints of a large ruleset, computed in parallel slices, equal those computed one by one")
    func parallelFingerprints() {
        let chains = (0..<5000).map { index in
            Chain(name: "chain-\(index)", comment: "c\(index)", rules: [Rule([.verdict(.accept)], comment: "r\(index)")])
        }
        let sets = (0..<50).map { index in
            NamedSet(name: "set-\(index)", key: [.ipv4Address],
                     elements: [SetElement(key: [.address(IPAddress("10.0.0.\(index)")!)])])
        }
        let ruleset = Ruleset(comment: "fingerprint", sets: sets, chains: chains)
        let key = HashKey(first: 7, second: 11)
        for _ in 0..<4 {
            let (setPrints, chainPrints) = RulesetFingerprint.prints(ruleset, key: key)
            #expect(chainPrints == chains.map { RulesetFingerprint.print($0, key: key) })
            #expect(setPrints == sets.map { RulesetFingerprint.print($0, key: key) })
        }
    }
}
