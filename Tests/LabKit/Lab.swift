// LabKit: a fake Kubernetes node built from network namespaces, for tests
// that load a ruleset and send real packets.
//
// Topology (all names unique per `Lab`, `kn-<id>-...`):
//
//   client ns (eth0: 198.51.100.10/24)      pod ns (eth0: 10.244.1.2/32, fd00:10:244::2/128)
//        |  default via node IP                 |  default via 169.254.1.1 (static neigh
//        |                                       |  ee:ee:ee:ee:ee:ee) and via fe80::1
//   [kncN]--bridge kn-ext (node IPs)        [knpN] (mac ee:ee:ee:ee:ee:ee, fe80::1/64)
//                 \_________ node ns ___________/
//     forwarding on, rp_filter off, route <pod IP> dev knpN, default dev kn-ext,
//     the ruleset under test is loaded here.
//
// Service, LoadBalancer and external IPs live on no interface: clients and pods
// route everything via the node, where the nat hooks rewrite it.
//
// Environment knobs: KUBENFT_LAB_AGENT (agent binary), KUBENFT_LAB_TRACE=1
// (print every command with its duration), KUBENFT_LAB_REQUIRE_SCTP=1 (SCTP
// checks fail instead of skipping on kernels without SCTP), CI=true (a machine
// that cannot host a lab fails the tests instead of skipping them).

import Foundation

/// A pod: one network namespace wired to the node by its own veth pair.
public struct LabPod: Sendable {
    /// The pod's role name in the lab (used by `probe(from:)`, `run(in:)`).
    public var name: String
    /// Its IPs, e.g. `["10.244.1.2", "fd00:10:244::2"]`; configured as /32 and /128.
    public var addresses: [String]
    /// The node-side veth name (at most 15 characters); default `knp<N>`.
    public var hostInterface: String?

    public init(name: String, addresses: [String], hostInterface: String? = nil) {
        self.name = name
        self.addresses = addresses
        self.hostInterface = hostInterface
    }
}

/// A tiny Kubernetes node built from Linux network namespaces.
///
/// Roles: `"node"` (routes, holds the ruleset), one role per pod, one per
/// external client. Namespaces are named `kn-<6 hex id>-<node|pN|cN>`, unique
/// per instance, and `tearDown()` (also run by `withLab` and on deinit)
/// removes all of them. Methods block; they are safe to call from any thread.
///
/// Typical use: `addNode`, then `addPod`/`addClient`, `loadRuleset(text:)`,
/// then `probe(from:to:port:proto:)`.
public final class Lab: @unchecked Sendable {
    /// The role name of the node namespace.
    public static let node = "node"
    /// The gateway pods use (reached via a static neighbour entry on eth0).
    public static let podGatewayV4 = "169.254.1.1"
    /// The link-local gateway pods use for IPv6 (on every node-side veth).
    public static let podGatewayV6 = "fe80::1"
    /// The MAC of every node-side pod veth (as in Calico).
    public static let hostVethMAC = "ee:ee:ee:ee:ee:ee"
    /// The bridge in the node that carries the node IPs and the clients.
    public static let externalBridge = "kn-ext"

    /// Random per-instance id; every namespace name starts with `kn-<id>-`.
    public let id: String
    /// Free text identifying the owner in error messages.
    public let tag: String

    let lock = NSLock()
    var namespaces: [String] = []
    var roles: [String: String] = [:]
    var servers: [ServerProcess] = []
    var nodeGateways: (v4: String?, v6: String?)?
    var subnetPrefixes: (v4: Int, v6: Int) = (24, 64)
    var nextIndex = 0
    var tornDown = false

    /// Creates the node namespace. Throws `LabUnavailable` when the machine
    /// cannot host a lab (outside CI) or `LabError.requiredButUnavailable` under CI=true.
    public init(tag: String = "") throws {
        try Environment.ensureKernelLab()
        self.id = randomLabID()
        self.tag = tag
        do {
            let name = try createNamespace(suffix: "node", role: Lab.node)
            try setSysctls(in: name, forwarding: true)
        } catch {
            tearDown()
            throw error
        }
    }

    deinit { tearDown() }

    /// The namespace name behind a role, if the role exists.
    public func namespaceName(of role: String) -> String? {
        lock.withLock { roles[role] }
    }

    /// Every namespace this lab created and has not yet deleted.
    public var createdNamespaces: [String] {
        lock.withLock { namespaces }
    }

    /// Runs `args` inside a role's namespace (`ip netns exec`); never throws on a non-zero exit.
    @discardableResult
    public func run(in role: String, _ args: [String], stdin: String? = nil, timeoutMs: Int = 60_000) throws -> CommandResult {
        let namespace = try requireNamespace(role)
        return try Subprocess.run(["ip", "netns", "exec", namespace] + args, stdin: stdin, timeoutMs: timeoutMs)
    }

    /// Loads a ruleset with `nft -f -` in a role's namespace (default: the node).
    /// Throws `LabError.rulesetRejected` carrying nft's stderr.
    public func loadRuleset(text: String, into role: String = Lab.node) throws {
        let result = try run(in: role, ["nft", "-f", "-"], stdin: text)
        guard result.status == 0 else { throw LabError.rulesetRejected(stderr: result.stderr) }
    }

    /// Removes every table in a role's namespace (`nft flush ruleset`).
    public func flushRuleset(in role: String = Lab.node) throws {
        try check(run(in: role, ["nft", "flush", "ruleset"]), ["nft", "flush", "ruleset"])
    }

    /// `nft list ruleset` in a role's namespace, for diagnostics.
    public func listRuleset(in role: String = Lab.node) throws -> String {
        try run(in: role, ["nft", "list", "ruleset"]).stdout
    }

    /// Starts `kubenft-lab-agent serve` in any role (pods get one from `addPod`)
    /// and waits for it to print `ready`. Returns its startup warnings (e.g. no SCTP).
    @discardableResult
    public func serve(in role: String, _ spec: ServeSpec) throws -> String {
        let namespace = try requireNamespace(role)
        let argv = ["ip", "netns", "exec", namespace, try AgentLocator.agentPath()] + spec.arguments(defaultName: role)
        let server = try ServerProcess(role: role, argv: argv)
        let accepted = lock.withLock { () -> Bool in
            guard !tornDown else { return false }
            servers.append(server)
            return true
        }
        if !accepted {
            server.stop()
            throw LabError.invalidRequest("lab \(id) was torn down")
        }
        return server.startupWarnings
    }

    /// Stops every server and deletes every namespace; idempotent.
    /// Returns problems met on the way (empty when all went well).
    @discardableResult
    public func tearDown() -> [String] {
        let (toStop, toDelete) = lock.withLock { () -> ([ServerProcess], [String]) in
            tornDown = true
            let work = (servers, namespaces)
            servers = []
            namespaces = []
            roles = [:]
            return work
        }
        ServerProcess.stopAll(toStop)
        var problems: [String] = []
        for name in toDelete.reversed() {
            let result = try? Subprocess.run(["ip", "netns", "del", name], timeoutMs: 30_000)
            if result?.status != 0 {
                problems.append("ip netns del \(name): \(result?.stderr.trimmedLab ?? "could not run ip")")
            }
        }
        return problems
    }

    func requireNamespace(_ role: String) throws -> String {
        guard let namespace = namespaceName(of: role) else {
            throw LabError.invalidRequest("lab \(id) has no role '\(role)'")
        }
        return namespace
    }
}

/// Builds a lab, runs `body`, and tears the lab down on every path, including thrown errors.
public func withLab<T>(tag: String = #function, _ body: (Lab) async throws -> T) async throws -> T {
    let lab = try Lab(tag: tag)
    do {
        let value = try await body(lab)
        lab.tearDown()
        return value
    } catch {
        lab.tearDown()
        throw error
    }
}
