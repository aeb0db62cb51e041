import Foundation
import KubeNFT
import Testing

/// `diff` must not miss a port a policy names that the destination does not declare: containers
/// listen on ports they do not declare. The repo-shop fixture's web Deployment declares only 8080
/// (`http`), and `shop/web-public` admits every source on 8080.
@Suite("diff probes the ports policies name")
struct DiffPortTests {
    static let sshRule = """
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: ssh-in, namespace: shop}
    spec:
      podSelector: {matchLabels: {app: web}}
      ingress:
      - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
        ports: [{port: 22}]
    """

    /// The repo-shop manifests with the policies edited by `change`, in a new directory.
    static func changedShop(_ change: (String) -> String) throws -> (before: String, after: String, cleanup: () -> Void) {
        let fixture = try CLITests.fixture("repo-shop")
        let after = NSTemporaryDirectory() + "kubenft-diffports-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: after, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: fixture.manifests + "/workloads.yaml", toPath: after + "/workloads.yaml")
        let policies = try String(contentsOfFile: fixture.manifests + "/policies.yaml", encoding: .utf8)
        let changed = change(policies)
        #expect(changed != policies, "the change applies to the fixture")
        try changed.write(toFile: after + "/policies.yaml", atomically: true, encoding: .utf8)
        return (fixture.manifests, after, { try? FileManager.default.removeItem(atPath: after) })
    }

    static func diff(_ before: String, _ after: String, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try CLITests.run(["diff", "--from", before, "--to", after, "--node-name", "node-1", "--cluster-cidr", "10.244.0.0/16",
                          "--fail-on", "added"] + extra)
    }

    @Test("a new ingress rule opening undeclared port 22 from 0.0.0.0/0 fails the gate and names the pair and port")
    func newUndeclaredPort() throws {
        let shop = try Self.changedShop { $0 + "\n" + Self.sshRule + "\n" }
        defer { shop.cleanup() }
        let result = try Self.diff(shop.before, shop.after)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        // Port 22 is a class of its own: the rule names it alone.
        #expect(result.stdout.contains("+ allowed  outside:0.0.0.0/0 -> shop/web[Deployment] tcp/22\n"), "\(result.stdout)")
        #expect(result.stdout.contains("+ allowed  db/db[StatefulSet] -> shop/web[Deployment] tcp/22\n"), "\(result.stdout)")
        #expect(!result.stdout.contains("tcp/8080"), "the declared port was open before and after")
    }

    @Test("widening port 8080 to 8000-9000 on a pod declaring only 8080 fails the gate and names the new port classes")
    func widenedRange() throws {
        let shop = try Self.changedShop { $0.replacingOccurrences(of: "  - ports:\n    - port: 8080", with: "  - ports:\n    - port: 8000\n      endPort: 9000") }
        defer { shop.cleanup() }
        let result = try Self.diff(shop.before, shop.after)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        // 8080 splits the new range: below it 8000-8079, above it 8081-9000; both newly allowed.
        for ports in ["tcp/8000-8079", "tcp/8081-9000"] {
            #expect(result.stdout.contains("+ allowed  shop/report[CronJob] -> shop/web[Deployment] \(ports)\n"), "\(result.stdout)")
            #expect(result.stdout.contains("+ allowed  outside:0.0.0.0/0 -> shop/web[Deployment] \(ports)\n"), "\(result.stdout)")
        }
        #expect(!result.stdout.contains("tcp/1-7999") && !result.stdout.contains("tcp/9001-65535"), "ports outside the range stay blocked")

        let json = try Self.diff(shop.before, shop.after, ["--output", "json"])
        #expect(json.stdout.contains(#"{"from": "shop/report[CronJob]", "to": "shop/web[Deployment]", "port": 8000, "portRange": {"first": 8000, "last": 8079}, "protocol": "tcp""#),
                "\(json.stdout)")
        let markdown = try Self.diff(shop.before, shop.after, ["--output", "markdown"])
        #expect(markdown.stdout.contains("| :warning: allowed | `shop/report[CronJob]` | `shop/web[Deployment]` | tcp/8081-9000 |"), "\(markdown.stdout)")
    }

    @Test("an unchanged cluster still reports nothing")
    func unchanged() throws {
        let fixture = try CLITests.fixture("repo-shop")
        let result = try Self.diff(fixture.manifests, fixture.manifests)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "no changes\n")
    }

    @Test("matrix without --ports prints a note listing the port classes the policies cut; with --ports it does not")
    func matrixNote() throws {
        let fixture = try CLITests.fixture("repo-shop")
        let plain = try CLITests.run(["matrix", "-f", fixture.manifests, "--node-name", "node-1", "--cluster-cidr", "10.244.0.0/16"])
        #expect(plain.status == 0, "\(plain.stderr)")
        // The policies name 8080 and postgres (5432 on db): TCP cut at 5432 and 8080.
        #expect(plain.stderr.contains("tcp/1-5431, tcp/5432, tcp/5433-8079, tcp/8080, tcp/8081-65535"), "\(plain.stderr)")
        let asked = try CLITests.run(["matrix", "-f", fixture.manifests, "--node-name", "node-1", "--cluster-cidr", "10.244.0.0/16",
                                      "--ports", "22,8080"])
        #expect(asked.status == 0)
        #expect(!asked.stderr.contains("note:"), "\(asked.stderr)")
    }
}
