import KubeManifest
import KubeNFT
import KubeNFTCompiler
import Testing

/// KubeProxyConfiguration read as kube-proxy converts it, ServiceCIDR objects, and what the node
/// context and the tracer make of them.
@Suite("KubeProxyConfiguration and ServiceCIDR")
struct ProxyConfigurationTests {
    static func config(_ body: String, version: String = "v1alpha1", strict: Bool = false) -> (KubeProxyConfiguration?, [String]) {
        let result = loadManifests("apiVersion: kubeproxy.config.k8s.io/\(version)\nkind: KubeProxyConfiguration\n" + body,
                                   options: LoadOptions(strict: strict))
        return (result.cluster.proxyConfigurations.first, diagnosticLines(result))
    }

    @Test("v1alpha1 takes masqueradeAll and masqueradeBit from the nftables section in nftables mode, from iptables otherwise")
    func masqueradeAllFollowsMode() throws {
        let sections = "iptables: {masqueradeAll: true, masqueradeBit: 10}\nnftables: {masqueradeAll: false, masqueradeBit: 12}\n"
        let (nft, nftLines) = Self.config("mode: nftables\n" + sections)
        #expect(nftLines == [])
        #expect(nft?.masqueradeAll == false && nft?.masqueradeBit == 12)
        let (ipt, iptLines) = Self.config("mode: iptables\n" + sections)
        #expect(ipt?.masqueradeAll == true && ipt?.masqueradeBit == 10)
        #expect(iptLines == ["m.yaml:3:7: warning: KubeProxyConfiguration: mode: mode \"iptables\" (iptables on Linux) is compiled as nftables mode: NodePorts default to the primary address and never open on localhost"])
        let (nested, _) = Self.config("mode: nftables\nnftables: {masqueradeAll: true}\n")
        #expect(nested?.masqueradeAll == true, "the nested form kube-proxy writes must be honoured")
        let (topLevel, topLines) = Self.config("mode: nftables\nmasqueradeAll: true\n")
        #expect(topLevel?.masqueradeAll == false)
        #expect(topLines == ["m.yaml:4:1: warning: KubeProxyConfiguration: masqueradeAll: unknown field \"masqueradeAll\", not honoured"])
    }

    @Test("v1alpha2 reads linux.masqueradeAll and detectLocal.clusterCIDRs; the v1alpha1 places are unknown there")
    func version2() throws {
        let (config, lines) = Self.config("""
        mode: nftables
        linux: {masqueradeAll: true}
        detectLocal: {clusterCIDRs: [10.244.0.0/16, "fd00:10:244::/56"]}
        clusterCIDR: 10.0.0.0/8
        nftables: {masqueradeBit: 3}

        """, version: "v1alpha2")
        #expect(config?.masqueradeAll == true && config?.masqueradeBit == 3)
        #expect(config?.clusterCIDRs == [cidr("10.244.0.0/16"), cidr("fd00:10:244::/56")])
        #expect(lines == ["m.yaml:6:1: warning: KubeProxyConfiguration: clusterCIDR: unknown field \"clusterCIDR\", not honoured"])
    }

    @Test("nodePortAddresses: primary by default and by name, CIDRs otherwise, loopback warned, an error under --strict")
    func nodePortAddresses() throws {
        #expect(Self.config("mode: nftables\n").0?.nodePortAddresses == .primary)
        #expect(Self.config("mode: nftables\nnodePortAddresses: null\n").0?.nodePortAddresses == .primary)
        #expect(Self.config("mode: nftables\nnodePortAddresses: [primary]\n").0?.nodePortAddresses == .primary)
        let (listed, lines) = Self.config("mode: nftables\nnodePortAddresses: [192.168.0.0/16, 127.0.0.1/32]\n")
        #expect(listed?.nodePortAddresses == .cidrs([cidr("192.168.0.0/16"), cidr("127.0.0.1/32")]))
        #expect(lines == ["m.yaml:4:37: warning: KubeProxyConfiguration: nodePortAddresses[1]: NodePorts are never opened on loopback addresses (nftables mode does not support localhost NodePorts)"])
        let (_, strictLines) = Self.config("mode: nftables\nnodePortAddresses: [\"::/0\", \"::1/128\"]\n", strict: true)
        #expect(strictLines == ["m.yaml:4:29: KubeProxyConfiguration: nodePortAddresses[1]: NodePorts are never opened on loopback addresses (nftables mode does not support localhost NodePorts)"])
        let (_, mixed) = Self.config("mode: nftables\nnodePortAddresses: [10.0.0.0/8, primary]\n")
        #expect(mixed == ["m.yaml:4:33: KubeProxyConfiguration: nodePortAddresses[1]: \"primary\" must be the only entry"])
    }

    @Test("portRange and feature gates are warned as not honoured; unknown modes and bits are refused")
    func notHonoured() throws {
        let (_, lines) = Self.config("mode: nftables\nportRange: 30000-32767\nfeatureGates: {Foo: true}\n")
        #expect(lines == [
            "m.yaml:4:12: warning: KubeProxyConfiguration: portRange: is a range of host ports for the userspace proxy, not the NodePort range; not honoured",
            "m.yaml:5:15: warning: KubeProxyConfiguration: featureGates: feature gates are not evaluated; rules follow the default gates",
        ])
        let (_, strict) = Self.config("mode: nftables\nportRange: \"100+10\"\n", strict: true)
        #expect(strict.count == 1 && !strict[0].contains("warning"))
        let (_, bad) = Self.config("mode: nftables\ndetectLocalMode: Magic\nnftables: {masqueradeBit: 32}\n")
        #expect(bad == [
            "m.yaml:4:18: KubeProxyConfiguration: detectLocalMode: unknown detectLocalMode \"Magic\" (one of ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix)",
            "m.yaml:5:27: KubeProxyConfiguration: nftables.masqueradeBit: must be within the range [0, 31]",
        ])
    }

    @Test("detectLocal interface names are checked before they reach an nft string")
    func interfaceNames() throws {
        let (config, lines) = Self.config("mode: nftables\ndetectLocalMode: InterfaceNamePrefix\ndetectLocal: {interfaceNamePrefix: cali}\n")
        #expect(lines == [] && config?.detectLocalMode == .interfaceNamePrefix && config?.interfaceNamePrefix == "cali")
        let (_, hostile) = Self.config("mode: nftables\ndetectLocalMode: BridgeInterface\ndetectLocal: {bridgeInterface: \"a*\"}\n")
        #expect(hostile.contains { $0.contains("invalid interface name \"a*\"") })
        #expect(hostile.contains { $0.contains("BridgeInterface needs detectLocal.bridgeInterface") })
    }

    @Test("ServiceCIDR v1 and v1beta1 are read; two ranges of one family and host bits are refused")
    func serviceCIDRs() throws {
        let result = loadManifests("""
        apiVersion: networking.k8s.io/v1
        kind: ServiceCIDR
        metadata: {name: a}
        spec: {cidrs: [10.96.0.0/16, "fd00:10:96::/112"]}
        ---
        apiVersion: networking.k8s.io/v1beta1
        kind: ServiceCIDR
        metadata: {name: b}
        spec: {cidrs: [10.97.0.0/24]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: ServiceCIDR
        metadata: {name: c}
        spec: {cidrs: [10.98.0.0/24, 10.99.0.0/24, 10.100.0.1/24]}
        """)
        #expect(result.cluster.serviceCIDRs.map(\.cidrs) == [[cidr("10.96.0.0/16"), cidr("fd00:10:96::/112")], [cidr("10.97.0.0/24")],
                                                            [cidr("10.98.0.0/24")]])
        #expect(diagnosticLines(result) == [
            "m.yaml:14:30: ServiceCIDR c: spec.cidrs[1]: at most one CIDR per IP family",
            "m.yaml:14:44: ServiceCIDR c: spec.cidrs[2]: \"10.100.0.1/24\" has host bits set; did you mean 10.100.0.0/24?",
        ])
    }

    @Test("NodeCIDR takes the node's podCIDRs and is refused without them; primary is the first InternalIP")
    func nodeContext() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "detect-local-nodecidr" })
        let result = Pipeline.run(paths: [fixture.manifests], node: fixture.nodeOptions)
        #expect(result.context.localDetector == .nodeCIDR([cidr("10.244.1.0/24"), cidr("fd00:10:244:1::/64")]))
        #expect(result.context.nodeIPs.first == ip("192.168.50.11"), "InternalIP before the ExternalIP listed first")
        #expect(result.context.masqueradeBit == 12)
        var elsewhere = fixture.nodeOptions
        elsewhere.nodeName = "node-9"
        let missing = Pipeline.run(paths: [fixture.manifests], node: elsewhere)
        #expect(missing.ruleset == nil)
        #expect(missing.errors.map(\.reason).contains { $0.hasPrefix("NodeCIDR needs the node's Node object") })
    }

    @Test("a NodePort with no primary address to open on is warned about")
    func nodePortWithoutAddress() throws {
        let fixture = try #require(Fixtures.valid.first { $0.name == "service-cidr" })
        var options = fixture.nodeOptions
        options.nodeName = "node-9"
        let result = Pipeline.run(paths: [fixture.manifests], node: options)
        #expect(result.warnings.map(\.reason) == [
            "port http: NodePort 30600 is open on no address: the node's primary IPv4 address is unknown (give --node-ip or a Node object named by --node-name)",
        ])
    }
}
