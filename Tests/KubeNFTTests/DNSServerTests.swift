import Foundation
import KubeNFT
import LabKit
import Testing

/// `kubenft dns`: golden zones, and the zone served by a real authoritative server (nsd) answering
/// `dig` with the records the Kubernetes DNS specification requires for `fixtures/dns-discovery`.
@Suite("kubenft dns")
struct DNSServerTests {
    static let zoneCases = Fixtures.valid.filter { $0.name.hasPrefix("real-") || ["demo", "dns-discovery"].contains($0.name) }

    static func zone(_ fixture: FixtureCase, _ options: DNSOptions = DNSOptions()) throws -> ZoneFile {
        let result = DNSGeneration.run(paths: [fixture.manifests], node: fixture.nodeOptions, strict: fixture.strict, options: options)
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description).joined(separator: "\n"))")
        return try #require(result.zone)
    }

    @Test("the zone matches the golden expected.zone", arguments: zoneCases)
    func goldenZone(_ fixture: FixtureCase) throws {
        let text = try Self.zone(fixture).text
        switch Fixtures.compare(text, golden: fixture.file("expected.zone")) {
        case .matches: break
        case .recorded: Issue.record("recorded \(fixture.name)/expected.zone; run again without \(Fixtures.recordVariable)")
        case .differs(let difference): Issue.record("\(fixture.name)/expected.zone differs at \(difference)")
        }
    }

    @Test("bad --cluster-domain, --reverse and --ttl are input errors naming the flag")
    func badOptions() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "dns-discovery" })
        for (options, flag) in [(DNSOptions(clusterDomain: "bad..domain"), "--cluster-domain"),
                                (DNSOptions(clusterDomain: "a\nb. 5 IN A 1.2.3.4"), "--cluster-domain"),
                                (DNSOptions(reverse: "10.244.1.0/4"), "--reverse"),
                                (DNSOptions(reverse: "10.244.1.1/24"), "--reverse"),
                                (DNSOptions(ttl: -1), "--ttl")] {
            let result = DNSGeneration.run(paths: [fixture.manifests], node: fixture.nodeOptions, options: options)
            #expect(result.zone == nil)
            #expect(result.errors.contains { $0.field == flag }, "\(flag): \(result.diagnostics)")
        }
    }

    @Test("the serial follows the content unless given")
    func serial() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "dns-discovery" })
        let first = try Self.zone(fixture), again = try Self.zone(fixture)
        #expect(first.serial == again.serial)
        #expect(try Self.zone(fixture, DNSOptions(ttl: 30)).serial != first.serial)
        #expect(try Self.zone(fixture, DNSOptions(serial: 2_026_113_001)).records.first?.data.presentation.contains(" 2026113001 ") == true)
    }

    @Test("nsd serves the zones and dig gets the records the specification requires",
          .enabled(if: DNSLab.enabled))
    func servedByNSD() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "dns-discovery" })
        var zones: [(String, String)] = [("cluster.local", try Self.zone(fixture).text)]
        for range in ["10.244.0.0/16", "10.96.0.0/16", "fd00:10:96::/64"] {
            let zone = try Self.zone(fixture, DNSOptions(reverse: range))
            zones.append((zone.origin.description, zone.text))
        }
        try DNSLab.withServer(zones: zones) { (dig: (String, String) throws -> DNSLab.Answer) throws in
            #expect(try dig("dns-version.cluster.local", "TXT").answers == ["\"1.1.0\""])
            // 2.3: a ClusterIP Service (dual-stack), its SRV per named port, none for unnamed ports.
            #expect(try dig("web.shop.svc.cluster.local", "A").answers == ["10.96.0.20"])
            #expect(try dig("web.shop.svc.cluster.local", "AAAA").answers == ["fd00:10:96::20"])
            #expect(try dig("_http._tcp.web.shop.svc.cluster.local", "SRV").answers == ["0 50 80 web.shop.svc.cluster.local."])
            #expect(try dig("_quic._udp.web.shop.svc.cluster.local", "SRV").answers == ["0 50 443 web.shop.svc.cluster.local."])
            #expect(try dig("resolver.shop.svc.cluster.local", "A").answers == ["10.96.0.53"])
            #expect(try dig("_dns._udp.resolver.shop.svc.cluster.local", "SRV").status == "NXDOMAIN")
            #expect(try dig("20.0.96.10.in-addr.arpa", "PTR").answers == ["web.shop.svc.cluster.local."])
            let v6 = "0.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.9.0.0.0.1.0.0.0.0.d.f.ip6.arpa"
            #expect(try dig(v6, "PTR").answers == ["web.shop.svc.cluster.local."])
            // 2.4: a headless Service: ready endpoints only, hostnames, SRV per hostname with the endpoint's port.
            #expect(try dig("pg.db.svc.cluster.local", "A").answers == ["10.244.1.10", "10.244.1.11", "10.244.1.13"])
            #expect(try dig("pg.db.svc.cluster.local", "AAAA").answers == ["fd00:10:244:1::a"])
            #expect(try dig("pg-0.pg.db.svc.cluster.local", "A").answers == ["10.244.1.10"])
            #expect(try dig("pg-0.pg.db.svc.cluster.local", "AAAA").answers == ["fd00:10:244:1::a"])
            #expect(try dig("pg-2.pg.db.svc.cluster.local", "A").status == "NXDOMAIN", "a not-ready endpoint is not published")
            #expect(try dig("10-244-1-13.pg.db.svc.cluster.local", "A").answers == ["10.244.1.13"])
            #expect(try dig("_postgres._tcp.pg.db.svc.cluster.local", "SRV").answers
                    == ["0 25 5433 10-244-1-13.pg.db.svc.cluster.local.", "0 25 5433 pg-0.pg.db.svc.cluster.local.",
                        "0 25 5433 pg-1.pg.db.svc.cluster.local."])
            #expect(try dig("10.1.244.10.in-addr.arpa", "PTR").answers == ["pg-0.pg.db.svc.cluster.local."])
            #expect(try dig("pg-all.db.svc.cluster.local", "A").answers == ["10.244.1.12"], "publishNotReadyAddresses")
            #expect(try dig("12.1.244.10.in-addr.arpa", "PTR").answers == ["pg-2.pg-all.db.svc.cluster.local."])
            #expect(try dig("idle.db.svc.cluster.local", "A").status == "NXDOMAIN", "no ready endpoint: NXDOMAIN")
            #expect(try dig("legacy.db.svc.cluster.local", "A").answers == ["10.244.2.5"])
            #expect(try dig("_gossip._udp.legacy.db.svc.cluster.local", "SRV").answers == ["0 100 7946 one.legacy.db.svc.cluster.local."])
            // 2.5: ExternalName.
            #expect(try dig("payments.shop.svc.cluster.local", "CNAME").answers == ["payments.example.com."])
            // 2.6: pod records.
            #expect(try dig("10-244-1-10.db.pod.cluster.local", "A").answers == ["10.244.1.10"])
        }
    }
}

/// A throwaway nsd on 127.0.0.1 at a random port, queried with dig.
enum DNSLab {
    struct Answer {
        var status: String
        var answers: [String]
    }

    static let tools = ["nsd", "dig"]

    /// The full path of `name` in PATH (or the sbin directories), if executable.
    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return directories.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var missing: [String] { tools.filter { executable($0) == nil } }

    /// True when nsd and dig are installed, or CI demands the test (it then fails loudly).
    static var enabled: Bool {
        if missing.isEmpty || Environment.isCI { return true }
        print("DNS server tests skipped: \(missing.joined(separator: ", ")) not found (apt-get install nsd dnsutils)")
        return false
    }

    static func withServer(zones: [(String, String)], _ body: ((String, String) throws -> Answer) throws -> Void) throws {
        if !missing.isEmpty { throw Kernel.Failure(description: "\(missing.joined(separator: ", ")) not installed: apt-get install nsd dnsutils") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-nsd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var zoneConfig = ""
        for (index, (origin, text)) in zones.enumerated() {
            try text.write(toFile: "\(directory)/\(index).zone", atomically: true, encoding: .utf8)
            zoneConfig += "zone:\n  name: \"\(origin)\"\n  zonefile: \"\(directory)/\(index).zone\"\n"
        }
        let port = Int.random(in: 20_000...60_000)
        let config = """
            server:
              ip-address: 127.0.0.1@\(port)
              port: \(port)
              username: ""
              chroot: ""
              zonesdir: "\(directory)"
              pidfile: "\(directory)/nsd.pid"
              database: ""
              xfrdfile: "\(directory)/xfrd.state"
              zonelistfile: "\(directory)/zone.list"
              xfrdir: "\(directory)"
              server-count: 1
              logfile: "\(directory)/nsd.log"
            remote-control:
              control-enable: no

            """ + zoneConfig
        try config.write(toFile: "\(directory)/nsd.conf", atomically: true, encoding: .utf8)
        // nsd daemonizes and writes its pid file; LabKit's spawn gives it default signal handling,
        // so SIGTERM to that pid stops it.
        let start = try Command.run([executable("nsd")!, "-c", "\(directory)/nsd.conf"], timeoutMs: 20_000)
        guard start.status == 0 else { throw Kernel.Failure(description: "nsd did not start: \(start.stderr)") }
        defer {
            if let text = try? String(contentsOfFile: "\(directory)/nsd.pid", encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGTERM)
                for _ in 0..<50 where kill(pid, 0) == 0 { usleep(50_000) }
            }
        }
        func dig(_ name: String, _ type: String) throws -> Answer {
            let output = try Command.output(["dig", "@127.0.0.1", "-p", "\(port)", "+norecurse", "+time=2", "+tries=2",
                                             "+noall", "+comments", "+answer", name, type])
            let status = output.split(separator: "\n").first { $0.contains("status:") }
                .flatMap { $0.split(separator: "status: ").last?.split(separator: ",").first }.map(String.init) ?? "?"
            let answers = output.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.isEmpty }
                .map { line in line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst(4).joined(separator: " ") }
            return Answer(status: status, answers: answers.sorted())
        }
        var ready = false
        for _ in 0..<50 where !ready {
            if let answer = try? dig("cluster.local", "SOA"), answer.status == "NOERROR", answer.answers.count == 1 { ready = true } else {
                usleep(100_000)
            }
        }
        guard ready else {
            let log = (try? String(contentsOfFile: "\(directory)/nsd.log", encoding: .utf8)) ?? ""
            throw Kernel.Failure(description: "nsd did not serve cluster.local on port \(port):\n\(log)")
        }
        let log = (try? String(contentsOfFile: "\(directory)/nsd.log", encoding: .utf8)) ?? ""
        #expect(!log.contains("error"), "nsd reported errors:\n\(log)")
        try body(dig)
    }
}
