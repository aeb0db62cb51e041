import Foundation
import LabKit
import Testing

/// The standard small node: two serving pods and one external client.
enum Topo {
    static let nodeV4 = "198.51.100.1"
    static let nodeV6 = "fd00:198:51:100::1"
    static let podA = LabPod(name: "web-a", addresses: ["10.244.1.2", "fd00:10:244::2"])
    static let podB = LabPod(name: "web-b", addresses: ["10.244.1.3", "fd00:10:244::3"])
    static let ports = [80, 8080]

    static func build(_ lab: Lab) throws {
        try lab.addNode(addresses: [nodeV4, nodeV6],
                        clientSubnetV4: "198.51.100.0/24", clientSubnetV6: "fd00:198:51:100::/64")
        try lab.addPod(podA, serve: .all(ports))
        try lab.addPod(podB, serve: .all(ports))
        try lab.addClient(name: "client", addresses: ["198.51.100.10", "fd00:198:51:100::10"])
    }

    /// Namespaces named `kn-<id>-...` that still exist.
    static func leftovers(_ id: String) throws -> [String] {
        let list = try String(decoding: runHost(["ip", "netns", "list"]), as: UTF8.self)
        return list.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
            .filter { $0.hasPrefix("kn-\(id)-") }
    }

    static func runHost(_ argv: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }
}

/// A service VIP DNAT'ed to web-a:8080, for every path into the node.
let dnatRuleset = """
table inet kubenft {
    chain svc {
        ip daddr 10.96.0.10 tcp dport 80 dnat ip to 10.244.1.2:8080
        ip daddr 10.96.0.10 udp dport 80 dnat ip to 10.244.1.2:8080
        ip6 daddr fd00:10:96::10 tcp dport 80 dnat ip6 to [fd00:10:244::2]:8080
        ip6 daddr fd00:10:96::10 udp dport 80 dnat ip6 to [fd00:10:244::2]:8080
        ip daddr 198.51.100.1 tcp dport 30080 dnat ip to 10.244.1.2:8080
        ip6 daddr fd00:198:51:100::1 tcp dport 30080 dnat ip6 to [fd00:10:244::2]:8080
    }
    chain nat-prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        jump svc
    }
    chain nat-output {
        type nat hook output priority -100; policy accept;
        jump svc
    }
}

"""

/// Reject vs drop towards web-b, in the forward hook.
let filterRuleset = """
table inet kubenft {
    chain forward {
        type filter hook forward priority filter; policy accept;
        ip daddr 10.244.1.3 tcp dport 80 reject with tcp reset
        ip6 daddr fd00:10:244::3 tcp dport 80 reject with tcp reset
        ip daddr 10.244.1.3 udp dport 80 reject
        meta l4proto tcp th dport 9999 reject with icmpx admin-prohibited
        ip daddr 10.244.1.3 tcp dport 8080 drop
        ip daddr 10.244.1.3 udp dport 8080 drop
    }
}

"""

@Suite(.enabled(if: Environment.labTestsEnabled))
struct LabKitTests {
    @Test(arguments: [LabProtocol.tcp, .udp])
    func podToPodDirect(proto: LabProtocol) async throws {
        try await withLab { lab in
            try Topo.build(lab)
            for target in Topo.podA.addresses {
                let result = try lab.probe(from: "web-b", to: target, port: 80, proto: proto, count: 3)
                print("pod->pod \(proto) \(target): \(result)")
                #expect(result.replies == ["web-a": 3], "\(result)")
            }
        }
    }

    @Test func podToPodDirectSCTP() async throws {
        if !Environment.sctpAvailable && !Environment.sctpRequired {
            print("SCTP checks skipped: this kernel has no SCTP (set KUBENFT_LAB_REQUIRE_SCTP=1 to fail instead)")
            return
        }
        try await withLab { lab in
            try Topo.build(lab)
            for target in Topo.podA.addresses {
                let result = try lab.probe(from: "web-b", to: target, port: 80, proto: .sctp, count: 3)
                print("pod->pod sctp \(target): \(result)")
                #expect(result.replies == ["web-a": 3], "\(result)")
            }
        }
    }

    @Test func clientReachesNodeIPs() async throws {
        try await withLab { lab in
            try Topo.build(lab)
            try lab.serve(in: Lab.node, ServeSpec(name: "node", tcp: [30080], udp: [30080]))
            for target in [Topo.nodeV4, Topo.nodeV6] {
                for proto in [LabProtocol.tcp, .udp] {
                    let result = try lab.probe(from: "client", to: target, port: 30080, proto: proto, count: 2)
                    print("client->node \(proto) \(target): \(result)")
                    #expect(result.replies == ["node": 2], "\(result)")
                }
            }
        }
    }

    @Test func dnatToPodFromClientPodAndNode() async throws {
        try await withLab { lab in
            try Topo.build(lab)
            try lab.loadRuleset(text: dnatRuleset)
            for from in ["client", "web-b", Lab.node] {
                for vip in ["10.96.0.10", "fd00:10:96::10"] {
                    for proto in [LabProtocol.tcp, .udp] {
                        let result = try lab.probe(from: from, to: vip, port: 80, proto: proto, count: 3)
                        print("\(from)->\(vip) \(proto) via DNAT: \(result)")
                        #expect(result.replies == ["web-a": 3], "\(from) \(vip) \(proto): \(result)")
                    }
                }
            }
            for nodeIP in [Topo.nodeV4, Topo.nodeV6] {
                let result = try lab.probe(from: "client", to: nodeIP, port: 30080, count: 3)
                print("client->\(nodeIP):30080 NodePort-style DNAT: \(result)")
                #expect(result.replies == ["web-a": 3], "\(result)")
            }
        }
    }

    @Test func rejectIsFastRefusedAndDropTimesOut() async throws {
        try await withLab { lab in
            try Topo.build(lab)
            try lab.loadRuleset(text: filterRuleset)
            for target in Topo.podB.addresses {
                let rejected = try lab.probe(from: "client", to: target, port: 80, proto: .tcp, count: 3, timeoutMs: 2000)
                print("reject tcp \(target): \(rejected)")
                #expect(rejected.refused == 3, "\(rejected)")
                #expect(rejected.elapsedMs < 1000, "\(rejected)")
            }
            let udpRejected = try lab.probe(from: "client", to: "10.244.1.3", port: 80, proto: .udp, count: 3)
            print("reject udp: \(udpRejected)")
            #expect(udpRejected.refused == 3, "\(udpRejected)")
            for proto in [LabProtocol.tcp, .udp] {
                let dropped = try lab.probe(from: "client", to: "10.244.1.3", port: 8080, proto: proto, count: 2, timeoutMs: 300)
                print("drop \(proto): \(dropped)")
                #expect(dropped.timeout == 2, "\(dropped)")
            }
            for target in Topo.podB.addresses {
                let prohibited = try lab.probe(from: "client", to: target, port: 9999, count: 2)
                print("reject icmpx admin-prohibited \(target): \(prohibited)")
                #expect(prohibited.unreachable == 2, "\(prohibited)")
            }
            let untouched = try lab.probe(from: "client", to: "10.244.1.2", port: 80, proto: .tcp, count: 2)
            #expect(untouched.replies == ["web-a": 2], "\(untouched)")
        }
    }

    @Test func badRulesetIsReportedWithNftMessage() async throws {
        try await withLab { lab in
            #expect(throws: LabError.self) { try lab.loadRuleset(text: "table inet kubenft { chain c { bogus } }\n") }
            try lab.loadRuleset(text: "table inet kubenft { }\n")
            #expect(try lab.listRuleset().contains("table inet kubenft"))
        }
    }

    @Test func netnsCheckerLoadsAndReports() throws {
        #expect(try NetnsChecker.loadOnly(text: dnatRuleset) == nil)
        let failure = try NetnsChecker.loadOnly(text: "table inet kubenft { chain c { ip daddr nonsense } }\n")
        #expect(failure?.contains("Error") == true, "\(failure ?? "nil")")
    }

    @Test func tearDownRemovesEverything() async throws {
        let lab = try Lab(tag: "teardown")
        try Topo.build(lab)
        #expect(try Topo.leftovers(lab.id).count == 4)
        #expect(lab.tearDown().isEmpty)
        #expect(try Topo.leftovers(lab.id).isEmpty)
        #expect(lab.tearDown().isEmpty)
    }

    struct Boom: Error {}

    @Test func withLabTearsDownAfterThrownError() async throws {
        let ids = IDBox()
        await #expect(throws: Boom.self) {
            try await withLab { lab in
                ids.value = lab.id
                try Topo.build(lab)
                throw Boom()
            }
        }
        let id = try #require(ids.value)
        #expect(try Topo.leftovers(id).isEmpty)
    }
}

/// Carries a lab id out of a closure.
final class IDBox: @unchecked Sendable {
    var value: String?
}
