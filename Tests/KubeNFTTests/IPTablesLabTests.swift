import Foundation
import KubeNFT
import LabKit
import NetAddress
import Testing

/// The Service lab tests and NetworkPolicy truth tables, run again with the iptables form of the same
/// compile loaded into the node (through iptables-nft and iptables-legacy). The tests and their
/// expectations are those of `ServiceLabTests` and `NetworkPolicyLabTests`; only the loaded form differs.
@Suite("iptables form with real packets", .enabled(if: Environment.labTestsEnabled))
struct IPTablesLabTests {
    /// The Service lab tests, by name.
    enum ServiceCheck: String, CaseIterable, Sendable {
        case weightedClusterIP, equalSharesUDPAndTCP, nodePortFromOutside, loadBalancerSourceRanges
        case rejectIsFast, sessionAffinity, externalTrafficPolicyLocal, hairpinAndNodeTraffic

        func run() async throws {
            let tests = ServiceLabTests()
            switch self {
            case .weightedClusterIP: try await tests.weightedClusterIP()
            case .equalSharesUDPAndTCP: try await tests.equalSharesUDPAndTCP()
            case .nodePortFromOutside: try await tests.nodePortFromOutside()
            case .loadBalancerSourceRanges: try await tests.loadBalancerSourceRanges()
            case .rejectIsFast: try await tests.rejectIsFast()
            case .sessionAffinity: try await tests.sessionAffinity()
            case .externalTrafficPolicyLocal: try await tests.externalTrafficPolicyLocal()
            case .hairpinAndNodeTraffic: try await tests.hairpinAndNodeTraffic()
            }
        }
    }

    /// Scenarios chosen to cover each policy feature once: default deny, namespace and pod selectors,
    /// ipBlock with except and over IPv6, named ports both ways, port ranges, SCTP-only policies and
    /// the admin tiers (Pass to the baseline, Deny over a NetworkPolicy allow).
    static let scenarios = [
        "default-deny-all", "podselector-and-nsselector", "ipblock-except", "ipv6-ipblock", "named-port-ingress",
        "named-port-egress", "endport-range", "sctp-only-isolates", "anp-pass-to-baseline", "anp-deny-beats-np-allow",
    ]

    @Test("Service lab tests on the iptables form", arguments: IPTablesBackend.allCases, ServiceCheck.allCases)
    func services(_ backend: IPTablesBackend, _ check: ServiceCheck) async throws {
        guard try IPTablesTools.available() else { return }
        try await RulesetForm.$current.withValue(.iptables(backend)) { try await check.run() }
    }

    @Test("NetworkPolicy truth tables on the iptables form", arguments: IPTablesBackend.allCases, scenarios)
    func policies(_ backend: IPTablesBackend, _ name: String) async throws {
        guard try IPTablesTools.available() else { return }
        let scenario = try #require(PolicyScenario.all.first { $0.name == name }, "no scenario \(name)")
        try await RulesetForm.$current.withValue(.iptables(backend)) { try await NetworkPolicyLabTests().truthTables(scenario) }
    }

    /// The traced matrix (`Review.matrix`, evaluated over the IR) against real packets through the
    /// iptables form: the review tools need no second evaluator when these agree.
    @Test("the traced matrix agrees with real packets through the iptables form",
          arguments: IPTablesBackend.allCases, ["demo", "real-online-boutique", "np-scenarios/anp-pass-to-networkpolicy"])
    func matrixAgreement(_ backend: IPTablesBackend, _ name: String) async throws {
        guard try IPTablesTools.available() else { return }
        let test = try #require(AgreementCase.all.first { $0.name.hasPrefix(name) }, "no agreement case \(name)")
        try await RulesetForm.$current.withValue(.iptables(backend)) { try await MatrixAgreementTests().agreement(test) }
    }

    @Test("every NetworkPolicy scenario has an iptables form that both backends accept", .enabled(if: Environment.labTestsEnabled))
    func everyScenarioLoads() throws {
        guard try IPTablesTools.available() else { return }
        for scenario in PolicyScenario.all {
            let result = Pipeline.run(paths: [PolicyScenario.modelManifests, scenario.policies], node: PolicyScenario.nodeOptions,
                                      shape: .cascade)
            let ruleset = try #require(result.ruleset, "\(scenario.name) must compile")
            for family in [IPFamily.v4, .v6] {
                let text = try Pipeline.renderIPTables(ruleset, family: family)
                for backend in IPTablesBackend.allCases {
                    try Kernel.withNamespace { try backend.restore(text, family: family, in: $0, test: true) }
                }
            }
        }
    }
}
