import Foundation
import KubeManifest
import KubeNFT
import NFTTrace
import Testing

/// Packet flows taken from kube-proxy's own tests and code (pkg/proxy/nftables proxier tests and
/// packet tests, pkg/proxy CategorizeEndpoints and the EndpointSlice cache): each case is the
/// outcome upstream states for one packet, written here by hand, not computed by kubenft.
/// The node is `node-1` at 192.168.0.2 with cluster CIDR 10.0.0.0/8 (detectLocalMode ClusterCIDR);
/// 10.0.0.2 is a pod on this node, 203.0.113.x are outside clients.
@Suite("Upstream kube-proxy packet flows")
struct UpstreamProxyCaseTests {
    /// What upstream says happens to the first packet of a connection.
    enum Outcome: Sendable, CustomStringConvertible {
        /// Accepted and DNATed to exactly these `address:port` backends (each with a non-zero share).
        case dnat(Set<String>, masqueraded: Bool)
        case drop
        case reject

        var description: String {
            switch self {
            case .dnat(let backends, let masqueraded): return "dnat \(backends.sorted()) masq=\(masqueraded)"
            case .drop: return "drop"
            case .reject: return "reject"
            }
        }
    }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var manifests: String
        var from: TraceEndpoint
        var to: TraceEndpoint
        var port: UInt16
        var expected: Outcome
        var description: String { name }
    }

    static let podHere = TraceEndpoint.address(ip("10.0.0.2"))
    static let outside = TraceEndpoint.external(ip("203.0.113.2"))
    static let outsideRanges = TraceEndpoint.external(ip("203.0.113.200"))

    /// One Service (with `spec` lines indented under `spec:`) and one EndpointSlice of its port `p80`.
    static func service(_ name: String, clusterIP: String, spec: String = "", status: String = "", endpoints: String) -> String {
        let nodePort = spec.contains("type: NodePort") || spec.contains("type: LoadBalancer") ? ", nodePort: 30080" : ""
        let extra = spec.isEmpty ? "" : "\n" + spec.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let statusBlock = status.isEmpty ? "" : "\nstatus:\n" + status.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
        let slice = endpoints.isEmpty ? "" : """

            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: \(name)-1, namespace: ns1, labels: {kubernetes.io/service-name: \(name)}}
            addressType: IPv4
            ports: [{name: p80, port: 80, protocol: TCP}]
            endpoints:
            \(endpoints)
            """
        return """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: \(name), namespace: ns1}
            spec:
              clusterIP: \(clusterIP)
              clusterIPs: [\(clusterIP)]\(extra)
              ports: [{name: p80, port: 80, protocol: TCP, targetPort: 80\(nodePort)}]\(statusBlock)
            """ + slice + "\n"
    }

    static func endpoint(_ address: String, node: String, conditions: String) -> String {
        "- {addresses: [\(address)], nodeName: \(node), conditions: {\(conditions)}}"
    }

    static func compile(_ manifests: String, nodeIPs: [String] = ["192.168.0.2"]) throws -> PipelineResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kubenft-upstream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("cluster.yaml")
        try manifests.write(to: file, atomically: true, encoding: .utf8)
        let result = Pipeline.run(paths: [file.path],
                                  node: NodeOptions(nodeName: "node-1", nodeIPs: nodeIPs, clusterCIDRs: ["10.0.0.0/8"]))
        #expect(result.errors.isEmpty, "\(result.errors)")
        return result
    }

    static func check(_ flow: Case) throws {
        let result = try compile(flow.manifests)
        let report = try Review.trace(TraceQuery(from: flow.from, to: flow.to, port: flow.port, transport: .tcp), in: result)
        let traced = report.result
        switch flow.expected {
        case .drop:
            #expect(traced.verdict == .drop, "\(flow.name): \(report.text)")
        case .reject:
            #expect(traced.verdict == .reject, "\(flow.name): \(report.text)")
        case .dnat(let backends, let masqueraded):
            #expect(traced.verdict == .accept, "\(flow.name): \(report.text)")
            let found = Set(report.backends.filter { $0.verdict == .accept && $0.probability > 0 }.map { "\($0.address):\($0.port)" })
            #expect(found == backends, "\(flow.name): \(report.text)")
            #expect(traced.paths.allSatisfy { $0.masqueraded == masqueraded }, "\(flow.name): \(report.text)")
        }
    }

    // MARK: endpoint conditions (EndpointSlice cache, CategorizeEndpoints)

    /// kube-proxy reads `ready` as written (a terminating endpoint marked ready is still ready) and an
    /// unset `serving` as true.
    static let conditionCases: [Case] = [
        Case(name: "ready and terminating is still ready: both ready endpoints are used",
             manifests: service("a", clusterIP: "172.30.0.41", endpoints: [
                endpoint("10.180.0.1", node: "node-2", conditions: "ready: true, serving: true, terminating: true"),
                endpoint("10.180.0.2", node: "node-2", conditions: "ready: true, serving: true, terminating: false"),
             ].joined(separator: "\n")),
             from: podHere, to: .address(ip("172.30.0.41")), port: 80,
             expected: .dnat(["10.180.0.1:80", "10.180.0.2:80"], masqueraded: false)),
        Case(name: "a terminating endpoint with serving unset counts as serving: fallback uses it",
             manifests: service("b", clusterIP: "172.30.0.42", endpoints:
                endpoint("10.180.0.3", node: "node-2", conditions: "ready: false, terminating: true")),
             from: podHere, to: .address(ip("172.30.0.42")), port: 80,
             expected: .dnat(["10.180.0.3:80"], masqueraded: false)),
        Case(name: "terminating and not serving: no endpoints, reject",
             manifests: service("c", clusterIP: "172.30.0.43", endpoints:
                endpoint("10.180.0.4", node: "node-2", conditions: "ready: false, serving: false, terminating: true")),
             from: podHere, to: .address(ip("172.30.0.43")), port: 80, expected: .reject),
        Case(name: "ready endpoints win over serving-terminating ones",
             manifests: service("d", clusterIP: "172.30.0.44", endpoints: [
                endpoint("10.180.0.5", node: "node-2", conditions: "ready: false, serving: true, terminating: true"),
                endpoint("10.180.0.6", node: "node-2", conditions: "ready: true"),
             ].joined(separator: "\n")),
             from: podHere, to: .address(ip("172.30.0.44")), port: 80,
             expected: .dnat(["10.180.0.6:80"], masqueraded: false)),
        Case(name: "eTP Local, only a serving-terminating endpoint here: external traffic falls back to it",
             manifests: service("tl", clusterIP: "172.30.0.46", spec: "type: LoadBalancer\nexternalTrafficPolicy: Local",
                                status: "loadBalancer:\n  ingress: [{ip: 5.6.7.10}]", endpoints: [
                endpoint("10.180.0.8", node: "node-1", conditions: "ready: false, serving: true, terminating: true"),
                endpoint("10.180.2.8", node: "node-2", conditions: "ready: true, serving: true, terminating: false"),
             ].joined(separator: "\n")),
             from: outside, to: .address(ip("5.6.7.10")), port: 80, expected: .dnat(["10.180.0.8:80"], masqueraded: false)),
        Case(name: "eTP Local, only a serving-terminating endpoint here: ClusterIP traffic uses the ready remote one",
             manifests: service("tl", clusterIP: "172.30.0.46", spec: "type: LoadBalancer\nexternalTrafficPolicy: Local",
                                status: "loadBalancer:\n  ingress: [{ip: 5.6.7.10}]", endpoints: [
                endpoint("10.180.0.8", node: "node-1", conditions: "ready: false, serving: true, terminating: true"),
                endpoint("10.180.2.8", node: "node-2", conditions: "ready: true, serving: true, terminating: false"),
             ].joined(separator: "\n")),
             from: podHere, to: .address(ip("172.30.0.46")), port: 80, expected: .dnat(["10.180.2.8:80"], masqueraded: false)),
        Case(name: "no conditions at all: ready",
             manifests: service("e", clusterIP: "172.30.0.45", endpoints:
                "- {addresses: [10.180.0.7], nodeName: node-2}"),
             from: podHere, to: .address(ip("172.30.0.45")), port: 80,
             expected: .dnat(["10.180.0.7:80"], masqueraded: false)),
    ]

    @Test("endpoint conditions as kube-proxy reads them", arguments: conditionCases)
    func conditions(_ flow: Case) throws { try Self.check(flow) }

    // MARK: loadBalancerSourceRanges (the firewall-check chain, before DNAT and the endpoint check)

    static let lbSpec = "type: LoadBalancer\nloadBalancerSourceRanges: [203.0.113.0/25]"
    static let lbStatus = "loadBalancer:\n  ingress: [{ip: 5.6.7.8}]"
    static let lbWithEndpoints = service("lb", clusterIP: "172.30.0.51", spec: lbSpec, status: lbStatus,
                                         endpoints: endpoint("10.180.2.1", node: "node-2", conditions: "ready: true"))
    static let lbWithoutEndpoints = service("lbe", clusterIP: "172.30.0.52", spec: lbSpec, status: lbStatus, endpoints: "")

    static let firewallCases: [Case] = [
        Case(name: "a source inside the ranges reaches the endpoint, masqueraded (eTP Cluster)",
             manifests: lbWithEndpoints, from: outside, to: .address(ip("5.6.7.8")), port: 80,
             expected: .dnat(["10.180.2.1:80"], masqueraded: true)),
        Case(name: "a source outside the ranges is dropped",
             manifests: lbWithEndpoints, from: outsideRanges, to: .address(ip("5.6.7.8")), port: 80, expected: .drop),
        Case(name: "NodePorts are not subject to the ranges",
             manifests: lbWithEndpoints, from: outsideRanges, to: .address(ip("192.168.0.2")), port: 30080,
             expected: .dnat(["10.180.2.1:80"], masqueraded: true)),
        Case(name: "no endpoints: a source outside the ranges is dropped by the firewall, not rejected",
             manifests: lbWithoutEndpoints, from: outsideRanges, to: .address(ip("5.6.7.8")), port: 80, expected: .drop),
        Case(name: "no endpoints: a source inside the ranges is rejected",
             manifests: lbWithoutEndpoints, from: outside, to: .address(ip("5.6.7.8")), port: 80, expected: .reject),
        Case(name: "an LB address that is also an externalIP is still subject to the ranges",
             manifests: service("lbx", clusterIP: "172.30.0.54", spec: lbSpec + "\nexternalIPs: [5.6.7.8]", status: lbStatus,
                                endpoints: endpoint("10.180.2.3", node: "node-2", conditions: "ready: true")),
             from: outsideRanges, to: .address(ip("5.6.7.8")), port: 80, expected: .drop),
        Case(name: "an LB address that is also an externalIP still admits sources inside the ranges",
             manifests: service("lbx", clusterIP: "172.30.0.54", spec: lbSpec + "\nexternalIPs: [5.6.7.8]", status: lbStatus,
                                endpoints: endpoint("10.180.2.3", node: "node-2", conditions: "ready: true")),
             from: outside, to: .address(ip("5.6.7.8")), port: 80, expected: .dnat(["10.180.2.3:80"], masqueraded: true)),
        Case(name: "ranges of the other family do not filter this family",
             manifests: service("lb6", clusterIP: "172.30.0.53", spec: "type: LoadBalancer\nloadBalancerSourceRanges: [\"2001:db8::/64\"]",
                                status: lbStatus, endpoints: endpoint("10.180.2.2", node: "node-2", conditions: "ready: true")),
             from: outsideRanges, to: .address(ip("5.6.7.8")), port: 80, expected: .dnat(["10.180.2.2:80"], masqueraded: true)),
    ]

    @Test("loadBalancerSourceRanges as kube-proxy's firewall check applies them", arguments: firewallCases)
    func firewall(_ flow: Case) throws { try Self.check(flow) }

    /// kube-proxy allows the LB addresses themselves as sources only when its primary node address
    /// is inside the ranges; a secondary address inside them does not count.
    @Test("the LB address as a source is allowed only when the node's primary address is inside the ranges")
    func firewallAllowsTheVIPFromTheNode() throws {
        let lbIP = TraceEndpoint.address(ip("5.6.7.8"))
        for (nodeIPs, allowed) in [(["203.0.113.9"], true), (["192.168.0.2", "203.0.113.9"], false)] {
            let result = try Self.compile(Self.lbWithEndpoints, nodeIPs: nodeIPs)
            let report = try Review.trace(TraceQuery(from: lbIP, to: lbIP, port: 80, transport: .tcp), in: result)
            #expect(report.result.verdict == (allowed ? .accept : .drop), "node IPs \(nodeIPs): \(report.text)")
        }
    }

    // MARK: traffic policies and missing endpoints (TestExternalTrafficPolicy*, TestInternalTrafficPolicy*,
    // TestNoEndpointsReject, TestClusterIPGeneral packet tests)

    static let localAndRemote = [endpoint("10.180.0.1", node: "node-1", conditions: "ready: true"),
                                 endpoint("10.180.2.1", node: "node-2", conditions: "ready: true")].joined(separator: "\n")
    static let remoteOnly = endpoint("10.180.2.1", node: "node-2", conditions: "ready: true")
    static let externalLocal = "type: LoadBalancer\nexternalTrafficPolicy: Local\nexternalIPs: [192.168.99.11]"
    static let lb9 = "loadBalancer:\n  ingress: [{ip: 5.6.7.9}]"
    static let etp = service("etp", clusterIP: "172.30.0.61", spec: externalLocal, status: lb9, endpoints: localAndRemote)
    static let etpRemote = service("etpr", clusterIP: "172.30.0.62", spec: externalLocal, status: lb9, endpoints: remoteOnly)
    static let itp = service("itp", clusterIP: "172.30.0.63", spec: "internalTrafficPolicy: Local", endpoints: localAndRemote)
    static let itpRemote = service("itpr", clusterIP: "172.30.0.64", spec: "internalTrafficPolicy: Local", endpoints: remoteOnly)
    static let none = service("none", clusterIP: "172.30.0.65", spec: "type: LoadBalancer\nexternalIPs: [192.168.99.12]", status: lb9,
                              endpoints: "")
    static let both: Set<String> = ["10.180.0.1:80", "10.180.2.1:80"]
    static let node = TraceEndpoint.address(ip("192.168.0.2"))

    static let policyCases: [Case] = [
        Case(name: "eTP Local: pod to ClusterIP hits both endpoints, unmasqueraded", manifests: etp,
             from: podHere, to: .address(ip("172.30.0.61")), port: 80, expected: .dnat(both, masqueraded: false)),
        Case(name: "eTP Local: external to ClusterIP hits both endpoints, masqueraded", manifests: etp,
             from: outside, to: .address(ip("172.30.0.61")), port: 80, expected: .dnat(both, masqueraded: true)),
        Case(name: "eTP Local: pod to LB IP hits both endpoints, unmasqueraded", manifests: etp,
             from: podHere, to: .address(ip("5.6.7.9")), port: 80, expected: .dnat(both, masqueraded: false)),
        Case(name: "eTP Local: node to LB IP hits both endpoints, masqueraded", manifests: etp,
             from: .node, to: .address(ip("5.6.7.9")), port: 80, expected: .dnat(both, masqueraded: true)),
        Case(name: "eTP Local: external to LB IP hits only the local endpoint, unmasqueraded", manifests: etp,
             from: outside, to: .address(ip("5.6.7.9")), port: 80, expected: .dnat(["10.180.0.1:80"], masqueraded: false)),
        Case(name: "eTP Local: external to NodePort hits only the local endpoint, unmasqueraded", manifests: etp,
             from: outside, to: node, port: 30080, expected: .dnat(["10.180.0.1:80"], masqueraded: false)),
        Case(name: "eTP Local: external to externalIP hits only the local endpoint, unmasqueraded", manifests: etp,
             from: outside, to: .address(ip("192.168.99.11")), port: 80, expected: .dnat(["10.180.0.1:80"], masqueraded: false)),
        Case(name: "eTP Local: pod to NodePort hits both endpoints, unmasqueraded", manifests: etp,
             from: podHere, to: node, port: 30080, expected: .dnat(both, masqueraded: false)),
        Case(name: "eTP Local, no local endpoints: external to LB IP is dropped", manifests: etpRemote,
             from: outside, to: .address(ip("5.6.7.9")), port: 80, expected: .drop),
        Case(name: "eTP Local, no local endpoints: external to NodePort is dropped", manifests: etpRemote,
             from: outside, to: node, port: 30080, expected: .drop),
        Case(name: "eTP Local, no local endpoints: pod to LB IP reaches the remote endpoint", manifests: etpRemote,
             from: podHere, to: .address(ip("5.6.7.9")), port: 80, expected: .dnat(["10.180.2.1:80"], masqueraded: false)),
        Case(name: "eTP Local, no local endpoints: node to NodePort reaches the remote endpoint, masqueraded", manifests: etpRemote,
             from: .node, to: node, port: 30080, expected: .dnat(["10.180.2.1:80"], masqueraded: true)),
        Case(name: "iTP Local: pod to ClusterIP hits only the local endpoint", manifests: itp,
             from: podHere, to: .address(ip("172.30.0.63")), port: 80, expected: .dnat(["10.180.0.1:80"], masqueraded: false)),
        Case(name: "iTP Local, no local endpoints: pod to ClusterIP is dropped", manifests: itpRemote,
             from: podHere, to: .address(ip("172.30.0.64")), port: 80, expected: .drop),
        Case(name: "no endpoints: pod to ClusterIP is rejected", manifests: none,
             from: podHere, to: .address(ip("172.30.0.65")), port: 80, expected: .reject),
        Case(name: "no endpoints: external to NodePort is rejected", manifests: none,
             from: outside, to: node, port: 30080, expected: .reject),
        Case(name: "no endpoints: external to LB IP is rejected", manifests: none,
             from: outside, to: .address(ip("5.6.7.9")), port: 80, expected: .reject),
        Case(name: "no endpoints: external to externalIP is rejected", manifests: none,
             from: outside, to: .address(ip("192.168.99.12")), port: 80, expected: .reject),
        Case(name: "node to ClusterIP is masqueraded", manifests: etp,
             from: .node, to: .address(ip("172.30.0.61")), port: 80, expected: .dnat(both, masqueraded: true)),
        Case(name: "a pod on another node (inside the cluster CIDR) to ClusterIP is not masqueraded", manifests: etp,
             from: .address(ip("10.1.0.5")), to: .address(ip("172.30.0.61")), port: 80, expected: .dnat(both, masqueraded: false)),
        Case(name: "eTP Cluster: external to externalIP hits every endpoint, masqueraded",
             manifests: service("eip", clusterIP: "172.30.0.68", spec: "externalIPs: [192.168.99.13]", endpoints: localAndRemote),
             from: outside, to: .address(ip("192.168.99.13")), port: 80, expected: .dnat(both, masqueraded: true)),
        Case(name: "eTP Cluster: external to NodePort on the primary address hits every endpoint, masqueraded",
             manifests: service("np", clusterIP: "172.30.0.69", spec: "type: NodePort", endpoints: localAndRemote),
             from: outside, to: node, port: 30080, expected: .dnat(both, masqueraded: true)),
        Case(name: "eTP Local on a ClusterIP Service with externalIPs: external to externalIP hits only the local endpoint",
             manifests: service("eipl", clusterIP: "172.30.0.70", spec: "externalIPs: [192.168.99.14]\nexternalTrafficPolicy: Local",
                                endpoints: localAndRemote),
             from: outside, to: .address(ip("192.168.99.14")), port: 80, expected: .dnat(["10.180.0.1:80"], masqueraded: false)),
        Case(name: "eTP Cluster: pod to LB IP is masqueraded (the external chain marks every packet)",
             manifests: service("lbc", clusterIP: "172.30.0.72", spec: "type: LoadBalancer", status: lb9, endpoints: localAndRemote),
             from: podHere, to: .address(ip("5.6.7.9")), port: 80, expected: .dnat(both, masqueraded: true)),
        Case(name: "ClusterIP on a port the Service does not define is rejected", manifests: itp,
             from: podHere, to: .address(ip("172.30.0.63")), port: 81, expected: .reject),
        Case(name: "hairpin: an endpoint reaching itself through the ClusterIP is masqueraded",
             manifests: service("hp", clusterIP: "172.30.0.66", endpoints: endpoint("10.0.0.2", node: "node-1", conditions: "ready: true")),
             from: podHere, to: .address(ip("172.30.0.66")), port: 80, expected: .dnat(["10.0.0.2:80"], masqueraded: true)),
    ]

    /// kube-proxy decides locality from the endpoint's own `nodeName` only, never from the Pod its
    /// `targetRef` names.
    static let noNodeName = service("nn", clusterIP: "172.30.0.67", spec: externalLocal, status: lb9, endpoints: """
        - {addresses: [10.0.0.9], targetRef: {kind: Pod, name: web, namespace: ns1}, conditions: {ready: true}}
        """) + """
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web, namespace: ns1}
        spec: {nodeName: node-1, containers: [{name: c, image: i}]}
        status: {podIP: 10.0.0.9, podIPs: [{ip: 10.0.0.9}]}

        """
    static let localityCases: [Case] = [
        Case(name: "eTP Local: an endpoint without nodeName is not local, even when its Pod is on this node", manifests: noNodeName,
             from: outside, to: node, port: 30080, expected: .drop),
        Case(name: "eTP Local: the same endpoint still serves pod traffic", manifests: noNodeName,
             from: podHere, to: .address(ip("5.6.7.9")), port: 80, expected: .dnat(["10.0.0.9:80"], masqueraded: false)),
    ]

    @Test("endpoint locality comes from the endpoint's nodeName", arguments: localityCases)
    func locality(_ flow: Case) throws { try Self.check(flow) }

    @Test("traffic policies and services without endpoints", arguments: policyCases)
    func policies(_ flow: Case) throws { try Self.check(flow) }
}
