import NFTRuleset
import Testing
@testable import NFTNetlink

@Suite("Linearizer")
struct LinearizerTests {
    @Test("an IPv4 address match gets its meta nfproto dependency")
    func dependency() throws {
        let linear = try Linearizer(sets: [:]).linearize(Rule([.matches(.payload(.ipDaddr), .setReference("s")), .verdict(.accept)]))
        #expect(linear.expressions.count == 5)
    }
}
