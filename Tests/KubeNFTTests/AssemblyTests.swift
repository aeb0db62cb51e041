import Testing
import KubeManifest
import NFTRuleset
@testable import KubeNFTCompiler

/// The assembly never drops what a compiler adds to it.
@Suite struct AssemblyTests {
    @Test("an element added to a set that was never declared is an error, not dropped")
    func undeclaredSet() throws {
        var assembly = Assembly()
        assembly.declare(NamedSet(name: "declared", key: [.ipv4Address]))
        let address = try #require(IPAddress("10.0.0.1"))
        assembly.add(SetElement(key: [.address(address)]), to: "declared")
        assembly.add(SetElement(key: [.address(address)], comment: "ns/pod"), to: "missing")
        #expect(assembly.sets["declared"]?.elements.count == 1)
        #expect(assembly.diagnostics.map(\.severity) == [.error])
        #expect(assembly.diagnostics.first?.reason.contains("set missing, which was never declared") == true)
        #expect(assembly.diagnostics.first?.reason.contains("ns/pod") == true)
    }
}
