import Testing
@testable import KubeManifest

@Suite("Manifest decoding")
struct ManifestDecodingTests {
    @Test func serviceDecodesEveryField() throws {
        let result = loadManifests("""
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: shop
          labels: {app: web}
          annotations:
            service.beta.kubernetes.io/load-balancer-source-ranges: "10.0.0.0/8, 192.168.1.0/24"
        spec:
          type: LoadBalancer
          clusterIP: 10.96.0.10
          clusterIPs: [10.96.0.10, "fd00::10"]
          selector: {app: web}
          ports:
          - name: http
            port: 80
            targetPort: web-http
            nodePort: 30080
          - name: dns
            protocol: UDP
            port: 53
          externalIPs: [203.0.113.7]
          externalTrafficPolicy: Local
          internalTrafficPolicy: Local
          sessionAffinity: ClientIP
        status:
          loadBalancer:
            ingress:
            - ip: 198.51.100.1
            - ip: 198.51.100.2
              ipMode: Proxy
            - hostname: lb.example.com
            - ip: 198.51.100.3
              ipMode: VIP
        """)
        #expect(result.diagnostics == [])
        let service = try #require(result.cluster.services.first)
        #expect(service.meta.name == "web" && service.meta.namespace == "shop")
        #expect(service.meta.labels == ["app": "web"])
        #expect(service.meta.location == SourceLocation(file: "m.yaml", line: 1, column: 1))
        #expect(service.type == .loadBalancer)
        #expect(service.clusterIPs == [ip("10.96.0.10"), ip("fd00::10")])
        #expect(!service.isHeadless)
        #expect(service.selector == ["app": "web"])
        #expect(service.ports.count == 2)
        #expect(service.ports[0] == ServicePort(name: "http", port: 80, targetPort: .name("web-http"), nodePort: 30080,
                                                location: SourceLocation(file: "m.yaml", line: 15, column: 5)))
        #expect(service.ports[1].protocol == .udp && service.ports[1].targetPort == .number(53))
        #expect(service.ports[1].nodePort == nil)
        #expect(service.externalIPs == [ip("203.0.113.7")])
        #expect(service.loadBalancerIngressIPs == [ip("198.51.100.1"), ip("198.51.100.3")])
        #expect(service.loadBalancerSourceRanges == [cidr("10.0.0.0/8"), cidr("192.168.1.0/24")])
        #expect(service.externalTrafficPolicy == .local && service.internalTrafficPolicy == .local)
        #expect(service.sessionAffinityTimeout == 10800)
    }

    @Test func serviceDefaultsAndVariants() throws {
        let result = loadManifests("""
        apiVersion: v1
        kind: Service
        metadata: {name: headless}
        spec:
          clusterIP: None
          ports: [{port: 8080, targetPort: 0}]
          sessionAffinity: ClientIP
          sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}
          externalTrafficPolicy: OnlyLocal
          loadBalancerSourceRanges: ["10.1.2.3/8"]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: ext, namespace: x}
        spec:
          type: ExternalName
          externalName: db.example.com
        """)
        #expect(result.diagnostics == [])
        let services = result.cluster.services
        #expect(services.map(\.meta.qualifiedName) == ["default/headless", "x/ext"])
        #expect(services[0].isHeadless && services[0].clusterIPs.isEmpty)
        #expect(services[0].selector == nil)
        #expect(services[0].ports.first?.targetPort == .number(8080))
        #expect(services[0].ports.first?.protocol == .tcp)
        #expect(services[0].sessionAffinityTimeout == 60)
        #expect(services[0].externalTrafficPolicy == .local)
        #expect(services[0].loadBalancerSourceRanges == [cidr("10.0.0.0/8")])
        #expect(services[1].type == .externalName && services[1].externalName == "db.example.com")
        #expect(services[1].sessionAffinityTimeout == nil)
    }

    @Test func endpointSliceDecodes() throws {
        let result = loadManifests("""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-abc
          namespace: shop
          labels: {kubernetes.io/service-name: web}
        addressType: IPv4
        endpoints:
        - addresses: [10.244.1.5]
          conditions: {ready: true, serving: true, terminating: false}
          nodeName: node-1
          targetRef: {kind: Pod, name: web-1}
        - addresses: ["10.244.2.6"]
          conditions: {ready: false}
        ports:
        - {name: http, port: 8080, protocol: TCP}
        - {name: all, port: null}
        """)
        #expect(result.diagnostics == [])
        let slice = try #require(result.cluster.endpointSlices.first)
        #expect(slice.serviceName == "web" && slice.addressType == .ipv4)
        #expect(slice.endpoints == [
            EndpointSlice.Endpoint(addresses: [ip("10.244.1.5")], ready: true, serving: true, terminating: false,
                                   nodeName: "node-1", targetRef: ObjectReference(kind: "Pod", namespace: "shop", name: "web-1")),
            EndpointSlice.Endpoint(addresses: [ip("10.244.2.6")], ready: false),
        ])
        #expect(slice.ports == [EndpointSlice.Port(name: "http", port: 8080), EndpointSlice.Port(name: "all", port: nil)])
    }

    @Test func legacyEndpointsDecode() throws {
        let result = loadManifests("""
        apiVersion: v1
        kind: Endpoints
        metadata: {name: legacy, namespace: shop}
        subsets:
        - addresses:
          - ip: 10.1.0.1
            nodeName: n1
            targetRef: {kind: Pod, namespace: shop, name: p1}
          notReadyAddresses:
          - ip: 10.1.0.2
          ports:
          - {name: http, port: 8080}
          - {port: 53, protocol: UDP}
        """)
        #expect(result.diagnostics == [])
        let endpoints = try #require(result.cluster.endpoints.first)
        #expect(endpoints.subsets == [Endpoints.Subset(
            addresses: [Endpoints.Address(ip: ip("10.1.0.1"), nodeName: "n1", targetRef: ObjectReference(kind: "Pod", namespace: "shop", name: "p1"))],
            notReadyAddresses: [Endpoints.Address(ip: ip("10.1.0.2"))],
            ports: [EndpointSlice.Port(name: "http", port: 8080), EndpointSlice.Port(protocol: .udp, port: 53)])])
    }

    @Test func podDecodes() throws {
        let result = loadManifests("""
        apiVersion: v1
        kind: Pod
        metadata: {name: web-1, namespace: shop, labels: {app: web}}
        spec:
          nodeName: node-1
          hostNetwork: false
          initContainers:
          - name: setup
            ports: [{containerPort: 9000, name: setup}]
          - name: proxy
            restartPolicy: Always
            ports: [{containerPort: 15001, name: proxy}]
          containers:
          - name: app
            ports:
            - {containerPort: 8080, name: web-http}
            - {containerPort: 53, protocol: UDP}
        status:
          phase: Running
          podIP: 10.244.1.5
          podIPs: [{ip: 10.244.1.5}, {ip: "fd00:244::5"}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: old}
        status: {podIP: 10.244.1.9}
        """)
        #expect(result.diagnostics == [])
        let pods = result.cluster.pods
        #expect(pods.count == 2)
        let old = pods[0], web = pods[1]
        #expect(old.meta.qualifiedName == "default/old" && old.podIPs == [ip("10.244.1.9")])
        #expect(web.nodeName == "node-1" && !web.hostNetwork && web.phase == "Running")
        #expect(web.podIPs == [ip("10.244.1.5"), ip("fd00:244::5")])
        #expect(web.containerPorts == [
            Pod.ContainerPort(name: "web-http", port: 8080),
            Pod.ContainerPort(name: "", port: 53, protocol: .udp),
            Pod.ContainerPort(name: "proxy", port: 15001),
        ])
    }

    @Test func namespaceNodeAndProxyConfiguration() throws {
        let result = loadManifests("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: shop, labels: {team: a}}
        ---
        apiVersion: v1
        kind: Node
        metadata: {name: node-1}
        spec: {podCIDR: 10.244.1.0/24, podCIDRs: [10.244.1.0/24, "fd00:244:1::/64"]}
        status:
          addresses:
          - {type: Hostname, address: node-1}
          - {type: InternalIP, address: 192.168.50.11}
          - {type: ExternalIP, address: 203.0.113.11}
        ---
        apiVersion: kubeproxy.config.k8s.io/v1alpha1
        kind: KubeProxyConfiguration
        clusterCIDR: 10.244.0.0/16,fd00:244::/56
        nodePortAddresses: [192.168.50.0/24]
        iptables: {masqueradeAll: true}
        hostnameOverride: node-1
        """)
        #expect(diagnosticLines(result) == [])
        #expect(!result.hasErrors)
        let namespace = try #require(result.cluster.namespaces.first)
        #expect(namespace.meta.labels == ["team": "a", "kubernetes.io/metadata.name": "shop"])
        #expect(namespace.meta.namespace == "")
        let node = try #require(result.cluster.nodes.first)
        #expect(node.addresses == [ip("192.168.50.11"), ip("203.0.113.11")])
        #expect(node.podCIDRs == [cidr("10.244.1.0/24"), cidr("fd00:244:1::/64")])
        let config = try #require(result.cluster.proxyConfigurations.first)
        #expect(config.clusterCIDRs == [cidr("10.244.0.0/16"), cidr("fd00:244::/56")])
        #expect(config.nodePortAddresses == .cidrs([cidr("192.168.50.0/24")]))
        #expect(config.masqueradeAll && config.hostnameOverride == "node-1")
    }

    @Test func networkPolicyDecodes() throws {
        let result = loadManifests("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: np, namespace: shop}
        spec:
          podSelector:
            matchLabels: {app: web}
            matchExpressions:
            - {key: tier, operator: In, values: [front]}
            - {key: canary, operator: DoesNotExist}
          policyTypes: [Ingress, Egress]
          ingress:
          - from:
            - podSelector: {}
              namespaceSelector: {matchLabels: {team: a}}
            - ipBlock: {cidr: 10.0.0.1/8, except: [10.1.0.0/16]}
            ports:
            - {port: 80}
            - {protocol: UDP, port: 1000, endPort: 2000}
            - {port: web-http}
          - {}
          egress:
          - to: []
            ports: []
        """)
        #expect(result.diagnostics == [])
        let policy = try #require(result.cluster.networkPolicies.first)
        #expect(policy.podSelector == LabelSelector(matchLabels: ["app": "web"], matchExpressions: [
            .init(key: "tier", operator: .in, values: ["front"]), .init(key: "canary", operator: .doesNotExist, values: []),
        ]))
        #expect(policy.policyTypes == [.ingress, .egress])
        let ingress = try #require(policy.ingress)
        #expect(ingress.count == 2)
        #expect(ingress[0].peers == [
            NetworkPolicy.Peer(podSelector: LabelSelector(), namespaceSelector: LabelSelector(matchLabels: ["team": "a"])),
            NetworkPolicy.Peer(ipBlock: .init(cidr: cidr("10.0.0.0/8"), except: [cidr("10.1.0.0/16")])),
        ])
        #expect(ingress[0].ports == [
            NetworkPolicy.Port(port: .number(80)),
            NetworkPolicy.Port(protocol: .udp, port: .number(1000), endPort: 2000),
            NetworkPolicy.Port(port: .name("web-http")),
        ])
        #expect(ingress[1].peers == nil && ingress[1].ports == nil)
        #expect(policy.egress?.first?.peers == [] && policy.egress?.first?.ports == [])
    }

    @Test func absentIngressAndEgressStayNil() throws {
        let result = loadManifests("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny}
        spec:
          podSelector: {}
          egress: []
        """)
        let policy = try #require(result.cluster.networkPolicies.first)
        #expect(policy.ingress == nil && policy.egress == [] && policy.policyTypes == nil)
    }
}
