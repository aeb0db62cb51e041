import Testing
@testable import KubeManifest

@Suite("Manifest validation")
struct ManifestValidationTests {
    @Test func serviceProblemsAreAllReportedAtTheirValues() {
        let result = loadManifests("""
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec:
          clusterIP: 10.96.0.300
          externalIPs: [1.2.3.4, {a: b}]
          ports:
          - name: http
            port: 70000
          - name: dns
            protocol: ICMP
            port: 53
          - name: web
            port: 8080
            targetPort: Not_A_Name
            nodePort: 30001
          - name: web
            port: 8080
          - port: "81"
        """)
        #expect(diagnosticLines(result) == [
            "m.yaml:5:14: Service shop/web: spec.clusterIP: invalid IP address \"10.96.0.300\"",
            "m.yaml:6:26: Service shop/web: spec.externalIPs[1]: expected a string, got a mapping",
            "m.yaml:9:11: Service shop/web: spec.ports[0].port: port 70000 out of range 1-65535",
            "m.yaml:11:15: Service shop/web: spec.ports[1].protocol: unsupported protocol \"ICMP\"",
            "m.yaml:15:17: Service shop/web: spec.ports[2].targetPort: invalid port name \"Not_A_Name\": must contain only lower-case letters, digits and '-'",
            "m.yaml:16:15: Service shop/web: spec.ports[2].nodePort: may not be used when type is ClusterIP",
            "m.yaml:17:11: Service shop/web: spec.ports[3].name: duplicate port name \"web\", also spec.ports[2]",
            "m.yaml:18:11: Service shop/web: spec.ports[3].port: duplicate port 8080/TCP, also spec.ports[2]",
            "m.yaml:19:11: Service shop/web: spec.ports[4].port: expected an integer, got string \"81\"",
        ])
        #expect(result.hasErrors)
    }

    @Test func nodePortRangeComesFromOptions() {
        let text = """
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec:
          type: NodePort
          ports: [{port: 80, nodePort: 80}]
        """
        #expect(diagnosticLines(loadManifests(text)) == [
            "m.yaml:6:32: Service default/web: spec.ports[0].nodePort: nodePort 80 outside the range 30000-32767",
        ])
        let wide = loadManifests(text, options: LoadOptions(nodePortRange: 1...65535))
        #expect(wide.diagnostics == [] && wide.cluster.services.first?.ports.first?.nodePort == 80)
    }

    @Test func missingNameAndWrongTypes() {
        let result = loadManifests("""
        apiVersion: v1
        kind: Pod
        metadata: {namespace: x}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          hostNetwork: "true"
          containers: {a: 1}
        """)
        #expect(diagnosticLines(result) == [
            "m.yaml:3:11: Pod: metadata.name: is required",
            "m.yaml:9:16: Pod default/p: spec.hostNetwork: expected a boolean, got string \"true\"",
            "m.yaml:10:15: Pod default/p: spec.containers: expected a list, got a mapping",
        ])
        #expect(result.cluster.pods.map(\.meta.name) == ["p"])
    }

    @Test func networkPolicyRules() {
        let result = loadManifests("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: np}
        spec:
          podSelector:
            matchExpressions:
            - {key: a, operator: Equals, values: [x]}
            - {key: b, operator: In, values: []}
            - {key: c, operator: Exists, values: ["y"]}
          ingress:
          - from:
            - ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}
            - ipBlock: {cidr: bogus}
            - ipBlock: {cidr: 10.0.0.0/8}
              podSelector: {}
            ports:
            - {endPort: 90}
            - {port: http, endPort: 90}
            - {port: 100, endPort: 90}
            - {port: 100, protocol: ICMP}
        """)
        #expect(diagnosticLines(result) == [
            "m.yaml:7:26: NetworkPolicy default/np: spec.podSelector.matchExpressions[0].operator: unsupported operator \"Equals\", must be In, NotIn, Exists or DoesNotExist",
            "m.yaml:8:38: NetworkPolicy default/np: spec.podSelector.matchExpressions[1].values: must be non-empty when operator is In",
            "m.yaml:9:42: NetworkPolicy default/np: spec.podSelector.matchExpressions[2].values: must be empty when operator is Exists",
            "m.yaml:12:45: NetworkPolicy default/np: spec.ingress[0].from[0].ipBlock.except[0]: 10.1.0.0/24 is not inside cidr 10.0.0.0/16",
            "m.yaml:13:23: NetworkPolicy default/np: spec.ingress[0].from[1].ipBlock.cidr: invalid CIDR \"bogus\"",
            "m.yaml:14:7: NetworkPolicy default/np: spec.ingress[0].from[2]: may not specify both ipBlock and another peer",
            "m.yaml:17:17: NetworkPolicy default/np: spec.ingress[0].ports[0].endPort: may not be specified without a numeric port",
            "m.yaml:18:29: NetworkPolicy default/np: spec.ingress[0].ports[1].endPort: may not be specified with a named port",
            "m.yaml:19:28: NetworkPolicy default/np: spec.ingress[0].ports[2].endPort: 90 must not be less than port 100",
            "m.yaml:20:29: NetworkPolicy default/np: spec.ingress[0].ports[3].protocol: unsupported protocol \"ICMP\"",
        ])
    }

    @Test func duplicatesAndClusterIPConflicts() {
        let first = ManifestSource(name: "a.yaml", bytes: Array("""
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}
        """.utf8))
        let second = ManifestSource(name: "b.yaml", bytes: Array("""
        apiVersion: v1
        kind: Service
        metadata: {name: web}
        spec: {clusterIP: 10.96.0.2, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: other, namespace: x}
        spec:
          clusterIP: 10.96.0.1
          ports: [{port: 80}]
        """.utf8))
        let result = ManifestLoader.load([first, second])
        #expect(diagnosticLines(result) == [
            "b.yaml:1:1: Service default/web: duplicate object, first defined at a.yaml:1:1",
            "b.yaml:10:14: Service x/other: spec.clusterIP: 10.96.0.1 is already used by Service default/web",
        ])
        #expect(result.cluster.services.map(\.meta.qualifiedName) == ["default/web", "x/other"])
        #expect(result.cluster.services[0].clusterIPs == [ip("10.96.0.1")])
    }

    @Test func apiVersionsAndKinds() {
        let result = loadManifests("""
        apiVersion: v2
        kind: Service
        metadata: {name: a}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: d}
        ---
        kind: Pod
        metadata: {name: p}
        ---
        metadata: {name: nothing}
        ---
        ---
        just text
        """)
        #expect(diagnosticLines(result) == [
            "m.yaml:1:13: Service default/a: apiVersion: unknown apiVersion \"v2\" for kind Service",
            "m.yaml:5:1: warning: kind: kind \"ServiceAccount\" (\"v1\") is not used by kubenft: 1 object skipped",
            "m.yaml:9:1: Pod default/p: apiVersion: is required",
            "m.yaml:12:1: kind: is required",
            "m.yaml:15:1: expected a mapping, got string \"just text\"",
        ])
    }

    @Test("unknown fields are warnings by default and errors under strict")
    func strictModeReportsUnknownSpecFields() {
        let text = """
        apiVersion: v1
        kind: Service
        metadata: {name: web, uid: abc}
        spec:
          portz: [{port: 80}]
          ports: [{port: 80, colour: blue}]
        """
        #expect(diagnosticLines(loadManifests(text)) == [
            "m.yaml:5:3: warning: Service default/web: spec.portz: unknown field \"portz\"",
            "m.yaml:6:22: warning: Service default/web: spec.ports[0].colour: unknown field \"colour\"",
        ])
        #expect(diagnosticLines(loadManifests(text, options: LoadOptions(strict: true))) == [
            "m.yaml:5:3: Service default/web: spec.portz: unknown field \"portz\"",
            "m.yaml:6:22: Service default/web: spec.ports[0].colour: unknown field \"colour\"",
        ])
    }

    @Test("an EndpointSlice without kubernetes.io/service-name is warned about, an error under strict")
    func sliceWithoutServiceName() {
        let text = """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, namespace: shop}
        addressType: IPv4
        ports: [{name: http, port: 80}]
        endpoints: [{addresses: [10.244.1.5]}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-2, namespace: shop, labels: {kubernetes.io/service-name: ""}}
        addressType: IPv4
        endpoints: []
        """
        let reason = "missing or empty: the slice belongs to no Service, and its endpoints are not used"
        let result = loadManifests(text)
        #expect(diagnosticLines(result) == [
            "m.yaml:3:11: warning: EndpointSlice shop/web-1: metadata.labels[kubernetes.io/service-name]: \(reason)",
            "m.yaml:10:11: warning: EndpointSlice shop/web-2: metadata.labels[kubernetes.io/service-name]: \(reason)",
        ])
        #expect(result.cluster.endpointSlices.allSatisfy { $0.serviceName == nil })
        #expect(loadManifests(text, options: LoadOptions(strict: true)).errors.count == 2)
    }

    @Test func malformedYAMLKeepsEarlierDocuments() {
        let result = loadManifests("""
        apiVersion: v1
        kind: Namespace
        metadata: {name: ok}
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: api
        spec:
          ports:
          - port: 80
             targetPort: 8080
        """)
        #expect(diagnosticLines(result) == ["m.yaml:12:16: mapping values are not allowed in this context"])
        #expect(result.cluster.namespaces.map(\.meta.name) == ["ok"])
    }

    @Test func malformedJSONIsReportedAtItsPosition() {
        let result = loadManifests("{\"kind\": \"Namespace\",\n  \"apiVersion\": \"v1\" \"metadata\": {}}", name: "x.json")
        #expect(diagnosticLines(result) == ["x.json:2:22: expected ',' or '}'"])
    }

    @Test func garbageNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let sample = Array(ManifestSpeedSample.yaml.utf8)
        let json = Array(ManifestSpeedSample.json.utf8)
        var inputs: [[UInt8]] = [
            Array(repeating: UInt8(ascii: "["), count: 100_000),
            Array(repeating: UInt8(ascii: "{"), count: 100_000),
            Array(String(repeating: "- ", count: 10_000).utf8),
            Array("a: &a [*a]\n".utf8),
            Array("a: *nope\n".utf8),
            Array("a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n".utf8),
            Array("\"\\ud800\"".utf8), Array("{\"a\": \"\\u12\"}".utf8), Array("[1, 2,]".utf8), Array("{} {} 3".utf8),
        ]
        for cut in stride(from: 0, to: sample.count, by: 37) { inputs.append(Array(sample[..<cut])) }
        for cut in stride(from: 0, to: json.count, by: 41) { inputs.append(Array(json[..<cut])) }
        for _ in 0..<200 {
            inputs.append((0..<Int.random(in: 0..<400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            var mutated = sample
            for _ in 0..<5 { mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            inputs.append(mutated)
        }
        for input in inputs {
            _ = ManifestLoader.load([ManifestSource(name: "g", bytes: input)], options: LoadOptions(strict: true))
        }
        let deep = ManifestLoader.load([ManifestSource(name: "deep.json", bytes: inputs[0])])
        #expect(deep.diagnostics.first?.reason == "nesting deeper than 200 levels")
        let laughs = ManifestLoader.load([ManifestSource(name: "l.yaml", bytes: inputs[5])])
        #expect(laughs.diagnostics.map(\.reason).contains { $0.contains("expands to too many nodes") })
        let unknown = ManifestLoader.load([ManifestSource(name: "u.yaml", bytes: inputs[4])])
        #expect(diagnosticLines(unknown) == ["u.yaml:1:4: unknown alias *nope"])
    }
}

/// Small valid inputs that exercise most of the readers, for the garbage test to cut and mutate.
enum ManifestSpeedSample {
    static let yaml = """
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop, labels: {app: web}}
    spec:
      clusterIP: 10.96.0.1
      selector: &sel {app: web}
      ports:
      - {name: http, port: 80, targetPort: http}
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: np}
    spec:
      podSelector: {matchLabels: *sel}
      ingress:
      - from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
        ports: [{port: 80, endPort: 90}]
    """
    static let json = """
    {"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p\\u00e9\\ud83d\\ude00"},
       "spec": {"containers": [{"name": "a", "ports": [{"containerPort": 80, "name": "http"}]}]},
       "status": {"podIPs": [{"ip": "10.0.0.1"}], "phase": "Running"}}]}
    """
}
