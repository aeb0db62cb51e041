import Foundation

/// The size of one synthetic cluster: `services` Services, each with one EndpointSlice of
/// `endpoints` ready endpoints (and, unless disabled, one Pod per endpoint).
struct Scenario: Hashable, Codable {
    var services: Int
    var endpoints: Int
    var namespaces: Int = 100
    var pods: Bool = true

    var label: String { "\(Scenario.short(services))×\(endpoints)" + (pods ? "" : " (no pods)") }

    static func short(_ count: Int) -> String {
        count >= 1000 && count % 1000 == 0 ? "\(count / 1000)k" : String(count)
    }

    /// Parses `1000x10` (or `1000×10`).
    static func parse(_ text: String) -> Scenario? {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
        guard parts.count == 2, let services = Int(parts[0]), let endpoints = Int(parts[1]),
              services > 0, endpoints > 0 else { return nil }
        return Scenario(services: services, endpoints: endpoints)
    }
}

/// One service port: the Service side, and the port the endpoints listen on.
struct PortPlan {
    var name: String
    var port: Int
    var targetPort: Document
    var containerPort: Int
    var nodePort: Int?
}

/// Everything the generator decides about one Service, derived deterministically from its index.
struct ServicePlan {
    enum Kind: String { case clusterIP = "ClusterIP", nodePort = "NodePort", loadBalancer = "LoadBalancer" }

    var index: Int
    var namespace: String
    var name: String
    var clusterIP: String
    var kind: Kind
    var ports: [PortPlan]
    var loadBalancerIP: String?
    var templateHash: String
}

/// Address and name plan of a synthetic cluster. ClusterIPs come from 10.96.0.0/12 and pod IPs
/// from 10.128.0.0/9, both skipping .0 and .255 of every /24 so every address is unique and plain.
struct ClusterPlan {
    static let nodeCount = 20
    static let nodeName = "node-1"
    static let nodeIP = "192.168.50.11"
    static let clusterCIDR = "10.128.0.0/9"

    let scenario: Scenario
    let services: [ServicePlan]

    init(_ scenario: Scenario) {
        self.scenario = scenario
        var nextNodePort = 30000
        var plans: [ServicePlan] = []
        plans.reserveCapacity(scenario.services)
        for index in 0..<scenario.services {
            var kind: ServicePlan.Kind = index % 20 == 1 ? .nodePort : index % 20 == 2 ? .loadBalancer : .clusterIP
            let portCount = index % 3 == 0 ? 2 : 1
            // NodePorts are unique cluster-wide; past the range, further services stay ClusterIP.
            if kind != .clusterIP && nextNodePort + portCount - 1 > 32767 { kind = .clusterIP }
            var ports = [PortPlan(name: "http", port: 80, targetPort: .string("http"), containerPort: 8080, nodePort: nil)]
            if portCount == 2 {
                ports.append(PortPlan(name: "metrics", port: 9090, targetPort: .int(9090), containerPort: 9090, nodePort: nil))
            }
            if kind != .clusterIP {
                for slot in ports.indices {
                    ports[slot].nodePort = nextNodePort
                    nextNodePort += 1
                }
            }
            let name = "app-\(index)"
            plans.append(ServicePlan(
                index: index, namespace: Self.namespace(index % scenario.namespaces), name: name,
                clusterIP: Self.address(base: (10, 96), host: index + 254), kind: kind, ports: ports,
                loadBalancerIP: kind == .loadBalancer ? Self.address(base: (198, 18), host: index) : nil,
                templateHash: Self.token(UInt64(index), length: 10)))
        }
        services = plans
    }

    static func namespace(_ index: Int) -> String { "team-\(index)" }

    /// The `host`-th usable address of a /16-aligned base, 254 per /24 (never .0 or .255).
    static func address(base: (Int, Int), host: Int) -> String {
        let block = host / 254
        return "\(base.0).\(base.1 + block / 256).\(block % 256).\(host % 254 + 1)"
    }

    func podIP(service: Int, endpoint: Int) -> String {
        Self.address(base: (10, 128), host: service * scenario.endpoints + endpoint)
    }

    func nodeName(service: Int, endpoint: Int) -> String {
        "node-\((service * scenario.endpoints + endpoint) % Self.nodeCount + 1)"
    }

    func podName(_ plan: ServicePlan, endpoint: Int) -> String {
        // Distinct endpoints give distinct suffixes: a base-27 counter from a per-service offset.
        let space: UInt64 = 14_348_907 // 27^5
        let value = (Self.mix(UInt64(plan.index)) % space + UInt64(endpoint)) % space
        return "\(plan.name)-\(plan.templateHash)-\(Self.digits(value, length: 5))"
    }

    /// A lowercase alphanumeric token as Kubernetes uses in generated names (no vowels, no digits 0, 1, 3).
    static func token(_ seed: UInt64, length: Int) -> String {
        var state = mix(seed)
        var out: [UInt8] = []
        for _ in 0..<length {
            out.append(alphabet[Int(state % UInt64(alphabet.count))])
            state /= UInt64(alphabet.count)
            if state == 0 { state = mix(seed &+ UInt64(out.count)) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789".utf8)

    /// `value` in base 27 over the token alphabet, `length` digits.
    static func digits(_ value: UInt64, length: Int) -> String {
        var state = value
        var out: [UInt8] = []
        for _ in 0..<length {
            out.append(alphabet[Int(state % UInt64(alphabet.count))])
            state /= UInt64(alphabet.count)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A deterministic UUID for object `index` of `kind`.
    static func uid(_ kind: UInt64, _ index: Int) -> String {
        let high = mix(kind << 40 ^ UInt64(index))
        let low = mix(high ^ 0x9E37_79B9_7F4A_7C15)
        let hex = Array((hexDigits(high) + hexDigits(low)).utf8)
        func part(_ range: Range<Int>) -> String { String(decoding: hex[range], as: UTF8.self) }
        return "\(part(0..<8))-\(part(8..<12))-5\(part(13..<16))-\(part(16..<20))-\(part(20..<32))"
    }

    private static func hexDigits(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }

    /// splitmix64.
    static func mix(_ seed: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
