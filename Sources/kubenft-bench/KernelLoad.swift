import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The time one `nft -f` load took inside a fresh network namespace.
struct KernelLoadResult: Codable {
    var ok: Bool
    var wallSeconds: Double
    var userSeconds: Double
    var systemSeconds: Double
    var error: String?
}

/// Loads rulesets with `nft -f` in throw-away network namespaces. Never touches the ruleset of
/// the namespace it runs in: every load gets a new namespace, deleted again whatever happened.
enum KernelLoader {
    /// Why kernel loads cannot run here, or nil when they can.
    static func unavailableReason() -> String? {
        if geteuid() != 0 { return "not running as root (network namespaces need CAP_SYS_ADMIN)" }
        for tool in ["ip", "nft"] where findInPath(tool) == nil {
            return "`\(tool)` not found in PATH"
        }
        return nil
    }

    static func findInPath(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for directory in path.split(separator: ":") + ["/usr/sbin", "/sbin"] {
            let candidate = "\(directory)/\(tool)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Loads `file` with `nft -f` in a new namespace `kn-bench-<pid>-<n>`, timing only the load.
    static func load(file: String, scratch: String) -> KernelLoadResult {
        let name = "kn-bench-\(getpid())-\(Int.random(in: 1000...9999))"
        let errors = scratch + "/nft-\(name).err"
        defer { try? FileManager.default.removeItem(atPath: errors) }
        let created = Spawner.run(["ip", "netns", "add", name], stderrPath: errors)
        guard created.succeeded else {
            return KernelLoadResult(ok: false, wallSeconds: 0, userSeconds: 0, systemSeconds: 0,
                                    error: "ip netns add failed: \(firstLine(of: errors))")
        }
        defer { _ = Spawner.run(["ip", "netns", "del", name]) }
        let outcome = Spawner.run(["ip", "netns", "exec", name, "nft", "-f", file], stderrPath: errors)
        return KernelLoadResult(ok: outcome.succeeded, wallSeconds: outcome.wallSeconds, userSeconds: outcome.userSeconds,
                                systemSeconds: outcome.systemSeconds,
                                error: outcome.succeeded ? nil : "nft -f exited \(outcome.status): \(firstLine(of: errors))")
    }

    private static func firstLine(of path: String) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return String(text.split(separator: "\n").first ?? "").trimmingCharacters(in: .whitespaces)
    }
}

/// Writes a ruleset shaped like kube-proxy's nftables mode for the same cluster, for comparison:
/// a `service-ips` verdict map dispatching to one chain per service port, which picks an endpoint
/// with `numgen random mod N vmap { ... }` (an anonymous map per service port), and one chain per
/// endpoint doing the DNAT.
enum KubeProxyShape {
    static func write(_ plan: ClusterPlan, to path: String) -> Bool {
        guard let sink = ByteSink(path: path) else { return false }
        let endpoints = plan.scenario.endpoints
        sink.write("table inet kube-proxy-bench\ndelete table inet kube-proxy-bench\ntable inet kube-proxy-bench {\n")
        sink.write("\tmap service-ips {\n\t\ttype ipv4_addr . inet_proto . inet_service : verdict\n\t\telements = {\n")
        var first = true
        for service in plan.services {
            for port in service.ports {
                sink.write(first ? "\t\t\t" : ",\n\t\t\t")
                first = false
                sink.write("\(service.clusterIP) . tcp . \(port.port) : goto \(chainName(service, port))")
            }
        }
        sink.write("\n\t\t}\n\t}\n")
        sink.write("\tchain nat-prerouting {\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t\tjump services\n\t}\n")
        sink.write("\tchain nat-output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tjump services\n\t}\n")
        sink.write("\tchain services {\n\t\tip daddr . meta l4proto . th dport vmap @service-ips\n\t}\n")
        sink.write("\tchain mark-for-masquerade {\n\t\tmeta mark set meta mark or 0x4000\n\t}\n")
        for service in plan.services {
            for port in service.ports {
                let chain = chainName(service, port)
                sink.write("\tchain \(chain) {\n")
                sink.write("\t\tip daddr \(service.clusterIP) tcp dport \(port.port) ip saddr != \(ClusterPlan.clusterCIDR) jump mark-for-masquerade\n")
                sink.write("\t\tnumgen random mod \(endpoints) vmap { ")
                for slot in 0..<endpoints {
                    if slot > 0 { sink.write(", ") }
                    sink.write("\(slot) : goto \(endpointChain(chain, slot: slot))")
                }
                sink.write(" }\n\t}\n")
                for slot in 0..<endpoints {
                    let ip = plan.podIP(service: service.index, endpoint: slot)
                    sink.write("\tchain \(endpointChain(chain, slot: slot)) {\n")
                    sink.write("\t\tip saddr \(ip) jump mark-for-masquerade\n")
                    sink.write("\t\tmeta l4proto tcp dnat ip to \(ip):\(port.containerPort)\n\t}\n")
                }
            }
        }
        sink.write("}\n")
        sink.flush()
        return !sink.failed
    }

    private static func chainName(_ service: ServicePlan, _ port: PortPlan) -> String {
        "service-\(service.index)-\(service.namespace)-\(service.name)-tcp-\(port.name)"
    }

    private static func endpointChain(_ serviceChain: String, slot: Int) -> String {
        "endpoint-\(slot)-" + serviceChain.dropFirst("service-".count)
    }
}
