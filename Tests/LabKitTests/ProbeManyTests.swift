import Foundation
import LabKit
import Testing

/// `Lab.probeMany`: many destinations probed at once under one deadline.
@Suite(.enabled(if: Environment.labTestsEnabled))
struct ProbeManyTests {
    @Test("allowed targets reply, a rejected one is refused, a dropped one times out; order is kept")
    func outcomesPerTarget() async throws {
        try await withLab { lab in
            try Topo.build(lab)
            try lab.loadRuleset(text: filterRuleset)
            let targets = [
                ProbeTarget(address: "10.244.1.2", port: 80, proto: .tcp, label: "a tcp"),
                ProbeTarget(address: "fd00:10:244::2", port: 8080, proto: .udp, label: "a udp v6"),
                ProbeTarget(address: "10.244.1.3", port: 80, proto: .tcp, label: "b rejected"),
                ProbeTarget(address: "10.244.1.3", port: 8080, proto: .tcp, label: "b dropped, tcp"),
                ProbeTarget(address: "10.244.1.3", port: 8080, proto: .udp),
            ]
            let outcomes = try lab.probeMany(from: "client", targets: targets, timeoutMs: 500)
            print(outcomes.map(\.description).joined(separator: "\n"))
            #expect(outcomes.map(\.label) == targets.map(\.label))
            #expect(outcomes[0].result == .reply && outcomes[0].reply == "web-a")
            #expect(outcomes[1].result == .reply && outcomes[1].reply == "web-a")
            #expect(outcomes[2].result == .refused)
            #expect(outcomes[2].elapsedMs < 400, "a refusal must not wait for the deadline")
            #expect(outcomes[3].result == .timeout && outcomes[3].reply == nil)
            #expect(outcomes[4].result == .timeout)
            #expect(outcomes[4].label == "10.244.1.3:8080/udp")
        }
    }

    @Test("20 dropped targets finish in about one timeout, not twenty")
    func droppedTargetsRunConcurrently() async throws {
        try await withLab { lab in
            try Topo.build(lab)
            try lab.loadRuleset(text: filterRuleset)
            let dropped = (0..<20).map { index in
                ProbeTarget(address: "10.244.1.3", port: 8080, proto: index.isMultiple(of: 2) ? .tcp : .udp, label: "drop \(index)")
            }
            let targets = dropped + [ProbeTarget(address: "10.244.1.2", port: 80, label: "allowed")]
            let started = Date()
            let outcomes = try lab.probeMany(from: "web-a", targets: targets, timeoutMs: 600)
            let wallMs = Date().timeIntervalSince(started) * 1000
            print("probe-many of \(targets.count) targets took \(Int(wallMs)) ms")
            #expect(outcomes.prefix(20).allSatisfy { $0.result == .timeout }, "\(outcomes)")
            #expect(outcomes.prefix(20).allSatisfy { $0.elapsedMs >= 590 }, "\(outcomes)")
            #expect(outcomes[20].result == .reply && outcomes[20].reply == "web-a")
            #expect(wallMs < 2500, "twenty timeouts of 600 ms must overlap; took \(Int(wallMs)) ms")
        }
    }

    @Test("targets given as --target options, labels with commas")
    func targetsOnTheCommandLine() async throws {
        try await withLab { lab in
            try Topo.build(lab)
            let agent = try AgentLocator.agentPath()
            let result = try lab.run(in: "client", [agent, "probe-many", "--timeout-ms", "500",
                                                    "--target", "10.244.1.3,8080,udp,b, udp",
                                                    "--target", "fd00:10:244::2,80,tcp"])
            #expect(result.status == 0, "\(result)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(result)")
            #expect(lines.first?.contains("\"label\":\"b, udp\"") == true, "\(result)")
            #expect(lines.first?.contains("\"reply\":\"web-b\"") == true, "\(result)")
            #expect(lines.last?.contains("\"result\":\"reply\"") == true, "\(result)")
            let bad = try lab.run(in: "client", [agent, "probe-many", "--target", "10.244.1.3,80"])
            #expect(bad.status == 2 && bad.stderr.contains("ADDR,PORT,PROTO"), "\(bad)")
        }
    }
}
