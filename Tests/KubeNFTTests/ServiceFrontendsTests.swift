import KubeNFT
import KubeNFTCompiler
import Testing

/// The frontends the conntrack cleanup takes from the model agree with what the compiled table
/// programs: every frontend in the table's maps is one from the model, and a model frontend with
/// ready endpoints is in the maps.
@Suite("Service frontends for the conntrack cleanup")
struct ServiceFrontendsTests {
    struct Key: Hashable {
        var destination: ServiceFrontend.Destination
        var proto: String
        var port: UInt16
    }

    static func key(_ frontend: ServiceFrontend) -> Key { Key(destination: frontend.destination, proto: frontend.proto.rawValue, port: frontend.port) }

    @Test("golden cases: the table's frontends are the model's")
    func agree() throws {
        var compared = 0
        for fixture in Fixtures.valid {
            let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
            guard let ruleset = result.ruleset else { continue }
            let model = ServiceFrontends.of(result.cluster, context: result.context)
            let table = Set(ServiceFrontends.programmed(in: ruleset.sets).map(Self.key))
            let fromModel = Set(model.map(Self.key))
            #expect(table.isSubset(of: fromModel), "\(fixture.name): in the table only: \(table.subtracting(fromModel))")
            compared += table.count
        }
        #expect(compared > 20, "only \(compared) frontends compared")
        let lab = try #require(Fixtures.valid.first { $0.name == "lab-services" })
        let result = Pipeline.run(paths: [lab.manifests], node: lab.nodeOptions)
        let ruleset = try #require(result.ruleset)
        let table = Set(ServiceFrontends.programmed(in: ruleset.sets).map(Self.key))
        let withEndpoints = ServiceFrontends.of(result.cluster, context: result.context).filter { !$0.endpoints.isEmpty }
        #expect(!withEndpoints.isEmpty && withEndpoints.contains { $0.proto == .udp })
        #expect(withEndpoints.contains { if case .nodePort = $0.destination { return true } else { return false } })
        for frontend in withEndpoints { #expect(table.contains(Self.key(frontend)), "\(frontend) is not programmed") }
    }
}
