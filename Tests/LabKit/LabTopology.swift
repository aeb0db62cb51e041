import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Address helpers for the topology.
enum LabAddress {
    /// True for a numeric IPv6 address, false for IPv4; throws for anything else.
    static func isV6(_ text: String) throws -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return false }
        if inet_pton(AF_INET6, text, &v6) == 1 { return true }
        throw LabError.invalidRequest("'\(text)' is not a numeric IP address")
    }

    /// The prefix length of `a.b.c.d/n` or `x::/n`, checked against the family.
    static func prefixLength(_ subnet: String, v6: Bool) throws -> Int {
        let parts = subnet.split(separator: "/")
        let limit = v6 ? 128 : 32
        guard parts.count == 2, let length = Int(parts[1]), (1...limit).contains(length),
              try isV6(String(parts[0])) == v6 else {
            throw LabError.invalidRequest("'\(subnet)' is not an IPv\(v6 ? 6 : 4) subnet like \(v6 ? "fd00::/64" : "198.51.100.0/24")")
        }
        return length
    }
}

extension Lab {
    /// Gives the node its own IPs on the external bridge `kn-ext`, where clients attach.
    /// The first address of each family is the clients' default gateway; prefix
    /// lengths come from the subnets (e.g. `198.51.100.0/24`, `fd00:198:51:100::/64`).
    ///
    /// With `defaultRoute` (the default) the node gets `default dev kn-ext` for both
    /// families, as a real node has a default gateway: a socket on the node can then
    /// connect to a ClusterIP and the nat output hook rewrites it. Traffic nobody
    /// DNATs goes out to the bridge and fails after ARP/ND gives up (~3 s).
    public func addNode(
        addresses: [String], clientSubnetV4: String, clientSubnetV6: String, defaultRoute: Bool = true
    ) throws {
        let prefixes = (v4: try LabAddress.prefixLength(clientSubnetV4, v6: false),
                        v6: try LabAddress.prefixLength(clientSubnetV6, v6: true))
        let families = try addresses.map { try LabAddress.isV6($0) }
        try lock.withLock {
            guard nodeGateways == nil else { throw LabError.invalidRequest("addNode called twice") }
            nodeGateways = (nil, nil)
        }
        let node = try requireNamespace(Lab.node)
        let bridge = Lab.externalBridge
        try ip(node, ["link", "add", bridge, "type", "bridge"])
        try ip(node, ["link", "set", bridge, "up"])
        var gateways: (v4: String?, v6: String?) = (nil, nil)
        for (address, v6) in zip(addresses, families) {
            let cidr = address + "/" + String(v6 ? prefixes.v6 : prefixes.v4)
            try ip(node, ["addr", "add", cidr, "dev", bridge] + (v6 ? ["nodad"] : []))
            if v6 { gateways.v6 = gateways.v6 ?? address } else { gateways.v4 = gateways.v4 ?? address }
        }
        if defaultRoute {
            try ip(node, ["route", "add", "default", "dev", bridge])
            try ip(node, ["-6", "route", "add", "default", "dev", bridge])
        }
        lock.withLock {
            nodeGateways = gateways
            subnetPrefixes = prefixes
        }
    }

    /// Adds a pod namespace wired Calico-style to the node and, unless `serve`
    /// is nil, starts `kubenft-lab-agent serve` in it (waiting for `ready`).
    /// Returns the server's startup warnings. Call `addNode` first.
    @discardableResult
    public func addPod(_ pod: LabPod, serve spec: ServeSpec? = nil) throws -> String {
        let families = try pod.addresses.map { try LabAddress.isV6($0) }
        let index = try reserveIndex(role: pod.name)
        let hostSide = pod.hostInterface ?? "knp\(index)"
        guard hostSide.utf8.count <= 15 else { throw LabError.invalidRequest("interface name '\(hostSide)' too long") }
        let podNS = try createNamespace(suffix: "p\(index)", role: pod.name)
        try setSysctls(in: podNS, forwarding: false)
        let node = try requireNamespace(Lab.node)
        try ip(node, ["link", "add", hostSide, "address", Lab.hostVethMAC, "type", "veth", "peer", "name", "eth0", "netns", podNS])
        try ip(node, ["link", "set", hostSide, "up"])
        try ip(node, ["addr", "add", Lab.podGatewayV6 + "/64", "dev", hostSide, "nodad"])
        try ip(podNS, ["link", "set", "eth0", "up"])
        for (address, v6) in zip(pod.addresses, families) {
            try ip(podNS, ["addr", "add", address + (v6 ? "/128" : "/32"), "dev", "eth0"] + (v6 ? ["nodad"] : []))
            try ip(node, (v6 ? ["-6"] : []) + ["route", "add", address + (v6 ? "/128" : "/32"), "dev", hostSide])
        }
        if families.contains(false) {
            try ip(podNS, ["route", "add", Lab.podGatewayV4, "dev", "eth0", "scope", "link"])
            try ip(podNS, ["route", "add", "default", "via", Lab.podGatewayV4, "dev", "eth0"])
            try ip(podNS, ["neigh", "replace", Lab.podGatewayV4, "lladdr", Lab.hostVethMAC, "dev", "eth0", "nud", "permanent"])
        }
        if families.contains(true) {
            try ip(podNS, ["-6", "route", "add", "default", "via", Lab.podGatewayV6, "dev", "eth0"])
        }
        guard let spec else { return "" }
        return try serve(in: pod.name, spec)
    }

    /// Adds an external client namespace on the node's bridge. Its addresses get the
    /// subnet prefix given to `addNode`; all its traffic routes via the node IPs.
    public func addClient(name: String, addresses: [String]) throws {
        let families = try addresses.map { try LabAddress.isV6($0) }
        let (gateways, prefixes) = try lock.withLock { () throws -> ((v4: String?, v6: String?), (v4: Int, v6: Int)) in
            guard let gateways = nodeGateways else { throw LabError.invalidRequest("call addNode before addClient") }
            return (gateways, subnetPrefixes)
        }
        let index = try reserveIndex(role: name)
        let clientNS = try createNamespace(suffix: "c\(index)", role: name)
        try setSysctls(in: clientNS, forwarding: false)
        let node = try requireNamespace(Lab.node)
        let hostSide = "knc\(index)"
        try ip(node, ["link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", clientNS])
        try ip(node, ["link", "set", hostSide, "master", Lab.externalBridge, "up"])
        try ip(clientNS, ["link", "set", "eth0", "up"])
        for (address, v6) in zip(addresses, families) {
            let cidr = address + "/" + String(v6 ? prefixes.v6 : prefixes.v4)
            try ip(clientNS, ["addr", "add", cidr, "dev", "eth0"] + (v6 ? ["nodad"] : []))
        }
        if families.contains(false), let gateway = gateways.v4 {
            try ip(clientNS, ["route", "add", "default", "via", gateway, "dev", "eth0"])
        }
        if families.contains(true), let gateway = gateways.v6 {
            try ip(clientNS, ["-6", "route", "add", "default", "via", gateway, "dev", "eth0"])
        }
    }

    /// Checks the role is new and returns a fresh index for interface names.
    func reserveIndex(role: String) throws -> Int {
        try lock.withLock {
            guard !tornDown else { throw LabError.invalidRequest("lab \(id) was torn down") }
            guard roles[role] == nil, role != Lab.node, !role.isEmpty else {
                throw LabError.invalidRequest("role '\(role)' already exists in lab \(id)")
            }
            nextIndex += 1
            return nextIndex
        }
    }

    /// Creates `kn-<id>-<suffix>`, records it for teardown, brings up `lo`.
    func createNamespace(suffix: String, role: String) throws -> String {
        let name = "kn-\(id)-\(suffix)"
        try check(try Subprocess.run(["ip", "netns", "add", name]), ["ip", "netns", "add", name])
        let accepted = lock.withLock { () -> Bool in
            guard !tornDown else { return false }
            namespaces.append(name)
            roles[role] = name
            return true
        }
        if !accepted {
            _ = try? Subprocess.run(["ip", "netns", "del", name])
            throw LabError.invalidRequest("lab \(id) was torn down")
        }
        try ip(name, ["link", "set", "lo", "up"])
        return name
    }

    /// rp_filter off and DAD off everywhere; forwarding on in the node.
    func setSysctls(in namespace: String, forwarding: Bool) throws {
        var settings = [
            "ipv4/conf/all/rp_filter": "0", "ipv4/conf/default/rp_filter": "0",
            "ipv6/conf/all/accept_dad": "0", "ipv6/conf/default/accept_dad": "0",
        ]
        if forwarding {
            settings["ipv4/ip_forward"] = "1"
            settings["ipv6/conf/all/forwarding"] = "1"
        }
        let script = settings.keys.sorted().map { "echo \(settings[$0] ?? "0") > /proc/sys/net/\($0)" }
            .joined(separator: " && ")
        let argv = ["ip", "netns", "exec", namespace, "sh", "-c", script]
        try check(try Subprocess.run(argv), argv)
    }

    /// Runs `ip -n NAMESPACE args...` and throws on failure.
    func ip(_ namespace: String, _ args: [String]) throws {
        let argv = ["ip", "-n", namespace] + args
        try check(try Subprocess.run(argv), argv)
    }

    func check(_ result: CommandResult, _ argv: [String]) throws {
        guard result.status == 0 else { throw LabError.commandFailed(command: argv, result: result) }
    }
}
