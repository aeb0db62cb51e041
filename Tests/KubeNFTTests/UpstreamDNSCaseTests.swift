import Foundation
import KubeManifest
import KubeNFT
import Testing

/// Records the Kubernetes DNS specification (kubernetes/dns docs/specification.md, schema 1.1.0)
/// requires, and what CoreDNS's kubernetes plugin answers for the same objects (its
/// handler_test.go and reverse tests), written here by hand for small inputs: each case is
/// manifests → the exact set of records (`name TYPE data`, TTL left out) kubenft must produce,
/// forward and reverse, apart from the apex SOA and NS.
@Suite("Upstream DNS cases")
struct UpstreamDNSCaseTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var manifests: String
        var records: Set<String>
        /// Substrings of warnings the input must produce.
        var warnings: [String] = []
        var description: String { name }
    }

    static let version = "dns-version.cluster.local. TXT \"1.1.0\""

    /// A Service in `ns1` with the given `spec` body.
    static func service(_ name: String, _ spec: String, annotations: String = "") -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: \(name), namespace: ns1\(annotations.isEmpty ? "" : ", annotations: {\(annotations)}")}
        spec: \(spec)
        """
    }

    /// An EndpointSlice of Service `service` in `ns1`.
    static func slice(_ name: String, service: String, type: String = "IPv4", ports: String, endpoints: String) -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: \(name), namespace: ns1, labels: {kubernetes.io/service-name: \(service)}}
        addressType: \(type)
        ports: \(ports)
        endpoints: \(endpoints)
        """
    }

    static func join(_ documents: String...) -> String { documents.joined(separator: "\n---\n") + "\n" }

    // 5678:abcd:0:…:1 and :2, nibbles from the right.
    static let hdls1PTR1: String = "1." + String(repeating: "0.", count: 23) + "d.c.b.a.8.7.6.5.ip6.arpa. PTR 5678-abcd--1.hdls1.ns1.svc.cluster.local."
    static let hdls1PTR2: String = "2." + String(repeating: "0.", count: 23) + "d.c.b.a.8.7.6.5.ip6.arpa. PTR 5678-abcd--2.hdls1.ns1.svc.cluster.local."
    // fd00:0010:0000:0000:0000:0000:0000:000a, nibbles from the right.
    static let fd00PTR: String = "a." + String(repeating: "0.", count: 24) + "1.0.0.0.0.d.f.ip6.arpa. PTR fd00-10--a.h.ns1.svc.cluster.local."

    static let cases: [Case] = [
        // Spec 2.2 (an unnamed port has no SRV, 2.3.2): the spec on master is schema 1.1.0, and
        // CoreDNS answers "1.1.0" (handler_test "TXT Schema").
        Case(name: "schema version", manifests: join(service("a", "{clusterIP: 10.96.0.10, ports: [{port: 80}]}")),
             records: [version, "a.ns1.svc.cluster.local. A 10.96.0.10", "10.0.96.10.in-addr.arpa. PTR a.ns1.svc.cluster.local."]),
        // Spec 2.3.1–2.3.3: A, SRV per named port (TCP and UDP) targeting the Service, PTR.
        // CoreDNS: priority 0, weight 100 for one record (handler_test "SRV Service").
        Case(name: "ClusterIP with named ports",
             manifests: join(service("web", "{clusterIP: 10.96.0.11, ports: [{name: http, port: 80}, {name: dns, port: 53, protocol: UDP}]}")),
             records: [version, "web.ns1.svc.cluster.local. A 10.96.0.11",
                       "_http._tcp.web.ns1.svc.cluster.local. SRV 0 100 80 web.ns1.svc.cluster.local.",
                       "_dns._udp.web.ns1.svc.cluster.local. SRV 0 100 53 web.ns1.svc.cluster.local.",
                       "11.0.96.10.in-addr.arpa. PTR web.ns1.svc.cluster.local."]),
        // CoreDNS handler_test "Dual Stack ClusterIP Services": A, AAAA, and one SRV of weight 50
        // (its weight is shared by the two cluster IPs before the duplicate target is dropped).
        Case(name: "dual-stack ClusterIP",
             manifests: join(service("ds", "{clusterIP: 10.96.0.3, clusterIPs: [10.96.0.3, 'fd00::3'], ipFamilies: [IPv4, IPv6], ipFamilyPolicy: RequireDualStack, ports: [{name: http, port: 80}]}")),
             records: [version, "ds.ns1.svc.cluster.local. A 10.96.0.3", "ds.ns1.svc.cluster.local. AAAA fd00::3",
                       "_http._tcp.ds.ns1.svc.cluster.local. SRV 0 50 80 ds.ns1.svc.cluster.local.",
                       "3.0.96.10.in-addr.arpa. PTR ds.ns1.svc.cluster.local.",
                       "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR ds.ns1.svc.cluster.local."]),
        // Spec 2.4: A per ready endpoint; hostnames from the address (CoreDNS `172-0-0-2`,
        // `5678-abcd--1`); SRV per endpoint with the endpoint's port, weight 100/N rounded down
        // (CoreDNS handler_test "SRV Service (Headless)": 6 endpoints → 16); not-ready left out;
        // PTR of each ready address to its hostname name (spec 2.4.3).
        Case(name: "headless without hostnames",
             manifests: join(service("h", "{clusterIP: None, ports: [{name: http, port: 80, targetPort: 8080}]}"),
                             slice("h-1", service: "h", ports: "[{name: http, port: 8080}]",
                                   endpoints: "[{addresses: [10.0.0.2]}, {addresses: [10.0.0.3], conditions: {ready: true}}, {addresses: [10.0.0.4], conditions: {ready: false}}]"),
                             slice("h-2", service: "h", type: "IPv6", ports: "[{name: http, port: 8080}]",
                                   endpoints: "[{addresses: ['fd00:10::a']}]")),
             records: [version, "h.ns1.svc.cluster.local. A 10.0.0.2", "h.ns1.svc.cluster.local. A 10.0.0.3",
                       "h.ns1.svc.cluster.local. AAAA fd00:10::a",
                       "10-0-0-2.h.ns1.svc.cluster.local. A 10.0.0.2", "10-0-0-3.h.ns1.svc.cluster.local. A 10.0.0.3",
                       "fd00-10--a.h.ns1.svc.cluster.local. AAAA fd00:10::a",
                       "_http._tcp.h.ns1.svc.cluster.local. SRV 0 33 8080 10-0-0-2.h.ns1.svc.cluster.local.",
                       "_http._tcp.h.ns1.svc.cluster.local. SRV 0 33 8080 10-0-0-3.h.ns1.svc.cluster.local.",
                       "_http._tcp.h.ns1.svc.cluster.local. SRV 0 33 8080 fd00-10--a.h.ns1.svc.cluster.local.",
                       "2.0.0.10.in-addr.arpa. PTR 10-0-0-2.h.ns1.svc.cluster.local.",
                       "3.0.0.10.in-addr.arpa. PTR 10-0-0-3.h.ns1.svc.cluster.local.",
                       fd00PTR]),
        // Spec 2.4.1: one A per IP of a hostname (CoreDNS `dup-name`); the same address in two
        // slices is one record; terminating (ready false, serving true) is not ready. Both
        // addresses of db-0 share the weight of its one SRV record (CoreDNS `dup-name`).
        Case(name: "headless with hostnames across slices",
             manifests: join(service("db", "{clusterIP: None, ports: [{name: pg, port: 5432}]}"),
                             slice("db-1", service: "db", ports: "[{name: pg, port: 5432}]",
                                   endpoints: "[{addresses: [10.0.1.1], hostname: db-0}, {addresses: [10.0.1.2], hostname: db-0}]"),
                             slice("db-2", service: "db", ports: "[{name: pg, port: 5432}]",
                                   endpoints: "[{addresses: [10.0.1.1], hostname: db-0}, {addresses: [10.0.1.3], hostname: db-1, conditions: {ready: false, serving: true, terminating: true}}]")),
             records: [version, "db.ns1.svc.cluster.local. A 10.0.1.1", "db.ns1.svc.cluster.local. A 10.0.1.2",
                       "db-0.db.ns1.svc.cluster.local. A 10.0.1.1", "db-0.db.ns1.svc.cluster.local. A 10.0.1.2",
                       "_pg._tcp.db.ns1.svc.cluster.local. SRV 0 50 5432 db-0.db.ns1.svc.cluster.local.",
                       "1.1.0.10.in-addr.arpa. PTR db-0.db.ns1.svc.cluster.local.",
                       "2.1.0.10.in-addr.arpa. PTR db-0.db.ns1.svc.cluster.local."]),
        // CoreDNS handler_test hdls1: six ready addresses (two under hostname dup-name) → five SRV
        // records of weight 16, dup-name with both addresses.
        Case(name: "CoreDNS hdls1",
             manifests: join(service("hdls1", "{clusterIP: None, ports: [{name: http, port: 80}]}"),
                             slice("hdls1-4", service: "hdls1", ports: "[{name: http, port: 80}]",
                                   endpoints: "[{addresses: [172.0.0.2]}, {addresses: [172.0.0.3]}, {addresses: [172.0.0.4], hostname: dup-name}, {addresses: [172.0.0.5], hostname: dup-name}]"),
                             slice("hdls1-6", service: "hdls1", type: "IPv6", ports: "[{name: http, port: 80}]",
                                   endpoints: "[{addresses: ['5678:abcd::1']}, {addresses: ['5678:abcd::2']}]")),
             records: [version,
                 "hdls1.ns1.svc.cluster.local. A 172.0.0.2", "hdls1.ns1.svc.cluster.local. A 172.0.0.3",
                 "hdls1.ns1.svc.cluster.local. A 172.0.0.4", "hdls1.ns1.svc.cluster.local. A 172.0.0.5",
                 "hdls1.ns1.svc.cluster.local. AAAA 5678:abcd::1", "hdls1.ns1.svc.cluster.local. AAAA 5678:abcd::2",
                 "172-0-0-2.hdls1.ns1.svc.cluster.local. A 172.0.0.2", "172-0-0-3.hdls1.ns1.svc.cluster.local. A 172.0.0.3",
                 "dup-name.hdls1.ns1.svc.cluster.local. A 172.0.0.4", "dup-name.hdls1.ns1.svc.cluster.local. A 172.0.0.5",
                 "5678-abcd--1.hdls1.ns1.svc.cluster.local. AAAA 5678:abcd::1", "5678-abcd--2.hdls1.ns1.svc.cluster.local. AAAA 5678:abcd::2",
                 "_http._tcp.hdls1.ns1.svc.cluster.local. SRV 0 16 80 172-0-0-2.hdls1.ns1.svc.cluster.local.",
                 "_http._tcp.hdls1.ns1.svc.cluster.local. SRV 0 16 80 172-0-0-3.hdls1.ns1.svc.cluster.local.",
                 "_http._tcp.hdls1.ns1.svc.cluster.local. SRV 0 16 80 5678-abcd--1.hdls1.ns1.svc.cluster.local.",
                 "_http._tcp.hdls1.ns1.svc.cluster.local. SRV 0 16 80 5678-abcd--2.hdls1.ns1.svc.cluster.local.",
                 "_http._tcp.hdls1.ns1.svc.cluster.local. SRV 0 16 80 dup-name.hdls1.ns1.svc.cluster.local.",
                 "2.0.0.172.in-addr.arpa. PTR 172-0-0-2.hdls1.ns1.svc.cluster.local.",
                 "3.0.0.172.in-addr.arpa. PTR 172-0-0-3.hdls1.ns1.svc.cluster.local.",
                 "4.0.0.172.in-addr.arpa. PTR dup-name.hdls1.ns1.svc.cluster.local.",
                 "5.0.0.172.in-addr.arpa. PTR dup-name.hdls1.ns1.svc.cluster.local.",
                 hdls1PTR1, hdls1PTR2]),
        // publishNotReadyAddresses: every endpoint is published.
        Case(name: "headless publishing not-ready addresses",
             manifests: join(service("p", "{clusterIP: None, publishNotReadyAddresses: true, ports: [{port: 80}]}"),
                             slice("p-1", service: "p", ports: "[{port: 80}]",
                                   endpoints: "[{addresses: [10.0.2.1], conditions: {ready: false}}]")),
             records: [version, "p.ns1.svc.cluster.local. A 10.0.2.1", "10-0-2-1.p.ns1.svc.cluster.local. A 10.0.2.1",
                       "1.2.0.10.in-addr.arpa. PTR 10-0-2-1.p.ns1.svc.cluster.local."]),
        // Spec 2.5 and CoreDNS handler_test "CNAME External".
        Case(name: "ExternalName", manifests: join(service("ext", "{type: ExternalName, externalName: ext.interwebs.test}")),
             records: [version, "ext.ns1.svc.cluster.local. CNAME ext.interwebs.test."]),
        // An ExternalName that is an IPv4 address: the API accepts it as a name of digits, and
        // CoreDNS answers nothing for it (only names whose host type is CNAME are served).
        Case(name: "ExternalName that is an IP address",
             manifests: join(service("ipx", "{type: ExternalName, externalName: 192.0.2.10}")),
             records: [version], warnings: ["Service ns1/ipx", "spec.externalName", "IP address"]),
        // A Service without a selector and a hand-written slice: records as for any headless Service.
        Case(name: "headless without selector, hand-written slice",
             manifests: join(service("manual", "{clusterIP: None, ports: [{name: api, port: 443}]}"),
                             slice("manual-x", service: "manual", ports: "[{name: api, port: 6443}]",
                                   endpoints: "[{addresses: [192.0.2.7], hostname: apiserver}]")),
             records: [version, "manual.ns1.svc.cluster.local. A 192.0.2.7", "apiserver.manual.ns1.svc.cluster.local. A 192.0.2.7",
                       "_api._tcp.manual.ns1.svc.cluster.local. SRV 0 100 6443 apiserver.manual.ns1.svc.cluster.local.",
                       "7.2.0.192.in-addr.arpa. PTR apiserver.manual.ns1.svc.cluster.local."]),
        // A headless Service without ready endpoints: no records (the name is NXDOMAIN, spec 2.4.1).
        Case(name: "headless without ready endpoints",
             manifests: join(service("none", "{clusterIP: None, ports: [{name: http, port: 80}]}"),
                             slice("none-1", service: "none", ports: "[{name: http, port: 80}]",
                                   endpoints: "[{addresses: [10.0.3.1], conditions: {ready: false}}]")),
             records: [version]),
    ]

    static func run(_ manifests: String) throws -> (records: Set<String>, warnings: [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-dns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cluster.yaml").path
        try manifests.write(toFile: path, atomically: true, encoding: .utf8)
        let result = DNSGeneration.run(paths: [path], node: NodeOptions(nodeName: "node-1"), options: DNSOptions())
        #expect(result.errors.isEmpty, "\(result.errors.map(\.description))")
        let (records, _) = ServiceDiscovery(zone: DomainName(labels: ["cluster", "local"]), ttl: 5).records(for: result.cluster)
        return (Set(records.map { "\($0.name) \($0.data.type) \($0.data.presentation)" }),
                result.diagnostics.map(\.description))
    }

    @Test(arguments: cases)
    func upstreamCase(_ testCase: Case) throws {
        let (records, warnings) = try Self.run(testCase.manifests)
        #expect(records.subtracting(testCase.records).sorted() == [], "unexpected records")
        #expect(testCase.records.subtracting(records).sorted() == [], "missing records")
        for expected in testCase.warnings {
            #expect(warnings.contains { $0.contains(expected) }, "no warning containing \(expected): \(warnings)")
        }
    }
}

/// Names past DNS's limits (RFC 1035: 63 bytes a label, 255 a name): only the records whose names
/// do not fit are left out, and the warning says which.
@Suite("DNS names too long")
struct LongDNSNameTests {
    @Test func srvNamesTooLongLeaveTheAddressRecords() throws {
        let service = String(repeating: "a", count: 63), namespace = String(repeating: "b", count: 63)
        // A cluster domain of 60 + 54 bytes: `<svc>.<ns>.svc.<zone>.` is 249 bytes on the wire
        // (each label plus its length byte, plus the root), the SRV name 10 more (259), the
        // hostname `10-0-0-8` 9 more (258), the hostname `x` 2 more (251).
        let domain = String(repeating: "d", count: 60) + "." + String(repeating: "e", count: 54)
        let manifests = UpstreamDNSCaseTests.join(
            """
            apiVersion: v1
            kind: Service
            metadata: {name: \(service), namespace: \(namespace)}
            spec: {clusterIP: None, ports: [{name: http, port: 80}]}
            """,
            """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: s1, namespace: \(namespace), labels: {kubernetes.io/service-name: \(service)}}
            addressType: IPv4
            ports: [{name: http, port: 80}]
            endpoints: [{addresses: [10.0.0.8]}, {addresses: [10.0.0.9], hostname: x}]
            """)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-dns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cluster.yaml").path
        try manifests.write(toFile: path, atomically: true, encoding: .utf8)
        let result = DNSGeneration.run(paths: [path], node: NodeOptions(nodeName: "node-1"), options: DNSOptions(clusterDomain: domain))
        let zone = try #require(result.zone)
        let lines = Set(zone.records.map { "\($0.name.labels.first ?? "") \($0.data.type) \($0.data.presentation)" })
        #expect(lines.contains("\(service) A 10.0.0.9"))
        #expect(lines.contains("x A 10.0.0.9"))
        #expect(!lines.contains { $0.hasPrefix("10-0-0-8 ") })
        #expect(!zone.records.contains { $0.data.type == "SRV" })
        let warnings = result.diagnostics.map(\.description)
        #expect(warnings.filter { $0.contains("no SRV records for port http") }.count == 1, "\(warnings)")
        #expect(warnings.contains { $0.contains("the endpoint at 10.0.0.8 gets no records") }, "\(warnings)")
        #expect(!warnings.contains { $0.hasSuffix("; no records") }, "\(warnings)")
    }
}
