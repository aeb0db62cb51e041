import Foundation
import KubeNFT
import Testing

/// `diff` must not miss a protocol a policy opens on a destination that declares ports of another
/// protocol only: the repo-shop fixture's web Deployment declares only TCP 8080, and
/// `shop/web-public` isolates it for ingress.
@Suite("diff probes the protocols policies name")
struct DiffProtocolTests {
    /// A NetworkPolicy admitting `from` to shop's web pods on `ports`.
    static func rule(_ name: String, from: String, ports: String) -> String {
        """
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: \(name), namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          ingress:
          - from: [\(from)]
            ports: [\(ports)]
        """
    }

    @Test("a new ingress rule opening UDP 53 from 0.0.0.0/0 on a TCP-only pod fails the gate and names the pair and udp/53")
    func newUDPPort() throws {
        let rule = Self.rule("dns-in", from: "{ipBlock: {cidr: 0.0.0.0/0}}", ports: "{protocol: UDP, port: 53}")
        let shop = try DiffPortTests.changedShop { $0 + "\n" + rule + "\n" }
        defer { shop.cleanup() }
        let result = try DiffPortTests.diff(shop.before, shop.after)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("+ allowed  outside:0.0.0.0/0 -> shop/web[Deployment] udp/53\n"), "\(result.stdout)")
        #expect(result.stdout.contains("+ allowed  db/db[StatefulSet] -> shop/web[Deployment] udp/53\n"), "\(result.stdout)")
        // The other UDP ports stay blocked, and TCP is as it was.
        #expect(!result.stdout.contains("udp/1-52") && !result.stdout.contains("udp/54-65535"), "\(result.stdout)")
        #expect(!result.stdout.contains("tcp/"), "\(result.stdout)")

        let json = try DiffPortTests.diff(shop.before, shop.after, ["--output", "json"])
        #expect(json.stdout.contains(#""to": "shop/web[Deployment]", "port": 53, "portRange": {"first": 53, "last": 53}, "protocol": "udp""#),
                "\(json.stdout)")
    }

    @Test("a new ingress rule opening SCTP (no port: every port) on a TCP-only pod fails the gate and names the pair")
    func newSCTPProtocol() throws {
        let rule = Self.rule("sctp-in", from: "{namespaceSelector: {}}", ports: "{protocol: SCTP}")
        let shop = try DiffPortTests.changedShop { $0 + "\n" + rule + "\n" }
        defer { shop.cleanup() }
        let result = try DiffPortTests.diff(shop.before, shop.after)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("+ allowed  db/db[StatefulSet] -> shop/web[Deployment] sctp/1-65535\n"), "\(result.stdout)")
        // A namespaceSelector admits pods only: the outside classes stay blocked.
        #expect(!result.stdout.contains("outside:0.0.0.0/0 -> shop/web[Deployment] sctp"), "\(result.stdout)")
    }

    @Test("an unchanged cluster whose policies name UDP reports nothing")
    func unchangedWithUDP() throws {
        let rule = Self.rule("dns-in", from: "{ipBlock: {cidr: 0.0.0.0/0}}", ports: "{protocol: UDP, port: 53}")
        let shop = try DiffPortTests.changedShop { $0 + "\n" + rule + "\n" }
        defer { shop.cleanup() }
        let result = try DiffPortTests.diff(shop.after, shop.after)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "no changes\n")
    }
}

/// Egress to the outside classes and the node: a rule opening every port of a protocol is probed.
@Suite("diff probes a protocol an egress rule opens towards the outside")
struct DiffEgressProtocolTests {
    /// Shop's web pods may reach 0.0.0.0/0 on `ports` only.
    static func egress(_ ports: String) -> String {
        """
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: web-out, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: web}}
          policyTypes: [Egress]
          egress:
          - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
            ports: [\(ports)]
        """
    }

    @Test("widening egress from TCP 443 to also every UDP port fails the gate and names the pair")
    func newUDPEgress() throws {
        let before = try DiffPortTests.changedShop { $0 + "\n" + Self.egress("{port: 443}") + "\n" }
        defer { before.cleanup() }
        let after = try DiffPortTests.changedShop { $0 + "\n" + Self.egress("{port: 443}, {protocol: UDP}") + "\n" }
        defer { after.cleanup() }
        let result = try DiffPortTests.diff(before.after, after.after)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("+ allowed  shop/web[Deployment] -> outside:0.0.0.0/0 udp/1\n"), "\(result.stdout)")
        #expect(!result.stdout.contains("tcp/"), "\(result.stdout)")
    }
}
