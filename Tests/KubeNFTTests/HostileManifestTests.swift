import Testing
@testable import KubeManifest

/// Hostile and degenerate manifests: explicit nulls decode as the API server decodes them and never
/// widen a policy, names and addresses are checked as the API server checks them, and cross-object
/// conflicts are errors rather than "first one wins".
@Suite("Hostile manifests")
struct HostileManifestTests {
    static func policy(_ rules: String) -> String {
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: np, namespace: shop}
        spec:
          podSelector: {matchLabels: {app: db}}
        \(rules)
        """
    }

    /// (rules, field the error must name): each is refused; none may load as an allow.
    static let refusedNulls: [(String, String)] = [
        ("  ingress: [{from: [{ipBlock: {cidr: null}}]}]", "spec.ingress[0].from[0].ipBlock.cidr: is required"),
        ("  ingress: [{from: [null]}]", "spec.ingress[0].from[0]: must specify"),
        ("  egress: [{to: [null]}]", "spec.egress[0].to[0]: must specify"),
        ("  ingress: [{from: [{ipBlock: null}]}]", "spec.ingress[0].from[0]: must specify"),
        ("  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [null]}}]}]", "spec.ingress[0].from[0].ipBlock.except[0]: invalid CIDR"),
        ("  policyTypes: [null]", "spec.policyTypes[0]: unsupported value"),
        ("  ingress: [{from: [{podSelector: {matchExpressions: [null]}}]}]", "matchExpressions[0].key: is required"),
        ("  ingress: [{ports: [{port: null, endPort: 90}]}]", "endPort: may not be specified without a numeric port"),
        ("  ingress: [{ports: [{protocol: \"\"}]}]", "spec.ingress[0].ports[0].protocol: unsupported protocol"),
    ]

    @Test("explicit nulls inside a NetworkPolicy are refused, never compiled to an allow", arguments: refusedNulls.indices)
    func nullsInPolicies(_ index: Int) {
        let (rules, field) = Self.refusedNulls[index]
        let result = loadManifests(Self.policy(rules))
        #expect(result.hasErrors, "loaded without error: \(rules)")
        #expect(diagnosticLines(result).contains { $0.contains(field) }, "\(diagnosticLines(result))")
    }

    @Test("a null rule is the empty rule and a null field is an absent one, as Kubernetes decodes them")
    func nullRuleAndNullField() throws {
        let result = loadManifests(Self.policy("""
          ingress: [null]
          egress: [{to: null, ports: null}]
        """))
        #expect(result.diagnostics == [])
        let policy = try #require(result.cluster.networkPolicies.first)
        let ingress = try #require(policy.ingress), egress = try #require(policy.egress)
        #expect(ingress == [NetworkPolicy.Rule(location: ingress[0].location)])
        #expect(egress.count == 1 && egress[0].peers == nil && egress[0].ports == nil)
        let json = loadManifests("""
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np", "namespace": "shop"},
         "spec": {"podSelector": null, "ingress": [null], "policyTypes": null}}
        """, name: "np.json")
        #expect(json.diagnostics == [])
        #expect(json.cluster.networkPolicies.first?.podSelector == LabelSelector())
        #expect(json.cluster.networkPolicies.first?.ingress?.count == 1)
    }

    /// (document, field the error must name): null items elsewhere are zero values, validated.
    static let refusedNullItems: [(String, String)] = [
        ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.1, ports: [null]}", "spec.ports[0].port: is required"),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.1, ports: null}", "spec.ports: is required"),
        ("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IPv4\nendpoints: [null]", "endpoints[0].addresses: is required"),
        ("apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: IPv4\nendpoints: [{addresses: [null]}]", "endpoints[0].addresses[0]: invalid IP address"),
        ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\nsubsets: [{addresses: [null], ports: [{port: 80}]}]", "subsets[0].addresses[0].ip: is required"),
        ("apiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\nsubsets: [{addresses: [{ip: 10.0.0.1}], ports: [null]}]", "subsets[0].ports[0].port: is required"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{ports: [null]}]}", "spec.containers[0].ports[0].containerPort: is required"),
        ("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nstatus: {addresses: [null]}", "status.addresses[0].type: is required"),
        ("apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\nspec: {podCIDRs: [null]}", "spec.podCIDRs[0]: invalid CIDR"),
        ("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: null}", "spec.subject: is required"),
        ("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}, ingress: [{action: Deny, from: [null]}]}", "from[0]: exactly one of namespaces or pods"),
        ("apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec: {priority: 1, subject: {namespaces: {}}, egress: [{action: Deny, to: [{networks: [null]}]}]}", "networks[0]: invalid CIDR"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nstatus: {podIPs: [null]}", "status.podIPs[0].ip: is required"),
    ]

    @Test("null list items are zero values and go through validation; nothing is dropped silently", arguments: refusedNullItems.indices)
    func nullItems(_ index: Int) {
        let (document, field) = Self.refusedNullItems[index]
        let result = loadManifests(document)
        #expect(result.hasErrors, "loaded without error: \(document)")
        #expect(diagnosticLines(result).contains { $0.contains(field) }, "\(diagnosticLines(result))")
    }

    static let hostileNames: [(String, String)] = [
        ("kind: Service\nmetadata: {name: \"x\\r\\nadd table ip evil #\"}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}", "metadata.name: invalid name"),
        ("kind: Service\nmetadata: {name: Web}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}", "metadata.name: invalid name"),
        ("kind: Service\nmetadata: {name: 1web}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}", "metadata.name: invalid name"),
        ("kind: Service\nmetadata: {name: web, namespace: \"a\\nb\"}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}", "metadata.namespace: invalid namespace"),
        ("kind: Service\nmetadata: {name: web, labels: {app: \"a\\r\\nb\"}}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}", "metadata.labels.app: invalid label value"),
        ("kind: Service\nmetadata: {name: web, labels: {\"a b\": x}}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}", "invalid key"),
        ("kind: Service\nmetadata: {name: web}\nspec: {type: ExternalName, externalName: \"x\\r\\nflush ruleset #\"}", "spec.externalName: invalid externalName"),
        ("kind: Service\nmetadata: {name: web}\nspec: {type: ExternalName}", "spec.externalName: is required"),
        ("kind: Service\nmetadata: {name: web}\nspec: {clusterIP: 10.96.0.1, selector: {app: \"a\\u0000\"}, ports: [{port: 80}]}", "spec.selector.app: invalid label value"),
        ("kind: Pod\nmetadata: {name: \"p\\u2028q\"}", "metadata.name: invalid name"),
        ("kind: Pod\nmetadata: {name: p}\nspec: {nodeName: \"n\\r\\n\"}", "spec.nodeName: invalid node name"),
    ]

    @Test("names, labels, selectors and externalName are validated as the API server does", arguments: hostileNames.indices)
    func names(_ index: Int) {
        let (document, field) = Self.hostileNames[index]
        let result = loadManifests("apiVersion: v1\n" + document)
        #expect(result.hasErrors, "loaded without error: \(document)")
        #expect(diagnosticLines(result).contains { $0.contains(field) }, "\(diagnosticLines(result))")
        #expect(diagnosticLines(result).allSatisfy { !$0.contains("\r") && !$0.contains("\n") && !$0.contains("\u{2028}") })
    }

    @Test("annotation values may hold any text, as the API server allows; the emitters escape it")
    func annotationValuesAreFree() {
        let result = loadManifests("apiVersion: v1\nkind: Service\nmetadata: {name: web, annotations: {note: \"a\\r\\nb\"}}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}")
        #expect(result.diagnostics == [])
        #expect(result.cluster.services.first?.meta.annotations["note"] == "a\r\nb")
    }

    static let specialAddresses = ["127.0.0.1", "0.0.0.0", "::", "::1", "169.254.169.254", "fe80::1", "224.0.0.1", "ff02::1", "::ffff:10.0.0.1"]

    @Test("endpoints and external IPs in special ranges are refused", arguments: specialAddresses)
    func specialAddressesAreRefused(_ address: String) {
        let v6 = address.contains(":")
        let documents = [
            "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.1, externalIPs: [\"\(address)\"], ports: [{port: 80}]}",
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s-1}\naddressType: \(v6 ? "IPv6" : "IPv4")\nendpoints: [{addresses: [\"\(address)\"]}]",
            "apiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\nsubsets: [{addresses: [{ip: \"\(address)\"}], ports: [{port: 80}]}]",
        ]
        for document in documents {
            let result = loadManifests(document)
            #expect(result.hasErrors, "accepted \(address) in \(document)")
            #expect(diagnosticLines(result).contains { $0.contains("may not be") }, "\(diagnosticLines(result))")
        }
    }

    @Test("clusterIP is checked even when clusterIPs is given, and must equal its first value")
    func clusterIPWithClusterIPs() {
        let bad = loadManifests("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.300.1, clusterIPs: [10.96.0.1], ports: [{port: 80}]}")
        #expect(diagnosticLines(bad).contains { $0.contains("spec.clusterIP: invalid IP address \"10.96.300.1\"") })
        let mismatch = loadManifests("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.2, clusterIPs: [10.96.0.1], ports: [{port: 80}]}")
        #expect(diagnosticLines(mismatch).contains { $0.contains("must match the first value of clusterIPs") })
        let sameFamily = loadManifests("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIPs: [10.96.0.1, 10.96.0.2], ports: [{port: 80}]}")
        #expect(diagnosticLines(sameFamily).contains { $0.contains("different families") })
        let good = loadManifests("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: 10.96.0.1, clusterIPs: [10.96.0.1, \"fd00::1\"], ports: [{port: 80}]}")
        #expect(good.diagnostics == [])
    }

    @Test("an external address already served by another Service is named at its own position in the list")
    func externalAddressCollisionField() {
        let services = [
            "apiVersion: v1\nkind: Service\nmetadata: {name: e}\nspec: {type: LoadBalancer, clusterIP: 10.96.0.5, ports: [{port: 443, nodePort: 30443}]}\nstatus: {loadBalancer: {ingress: [{ip: 192.0.2.10}]}}",
            // Its own cluster IP listed again as an external address is no collision.
            "apiVersion: v1\nkind: Service\nmetadata: {name: f}\nspec: {clusterIP: 10.96.0.6, externalIPs: [192.0.2.10, 10.96.0.6, 192.0.2.10], ports: [{port: 443}]}",
        ]
        for order in [services, services.reversed()] {
            let result = loadManifests(order.joined(separator: "\n---\n"))
            let lines = diagnosticLines(result).map { $0.replacingOccurrences(of: #"^m\.yaml:\d+:\d+: "#, with: "", options: .regularExpression) }
            #expect(lines == ["Service default/f: spec.externalIPs[0]: 192.0.2.10 port 443/TCP is already served by Service default/e"])
        }
    }

    @Test("an unrendered kustomization is an error; Flux's Kustomization object is only an unused kind")
    func kustomizationRefused() {
        let service = "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: 10.96.0.1, ports: [{port: 80}]}"
        for (version, kind) in [("kustomize.config.k8s.io/v1beta1", "Kustomization"), ("kustomize.config.k8s.io/v1alpha1", "Component")] {
            let result = loadManifests("\(service)\n---\napiVersion: \(version)\nkind: \(kind)\nresources: [a.yaml]\nnamePrefix: prod-\n")
            #expect(result.errors.count == 1)
            #expect(result.errors.first?.field == "kind" && result.errors.first?.reason.contains("kubectl kustomize") == true,
                    "\(result.errors.map(\.description))")
        }
        let flux = loadManifests("\(service)\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec: {path: ./apps}\n")
        #expect(flux.errors.isEmpty)
        #expect(flux.warnings.contains { $0.reason.contains("is not used by kubenft") }, "\(flux.warnings.map(\.description))")
    }

    @Test("the pod and Service checks find the same, in the same order, on one thread or two")
    func checksInParallel() throws {
        var documents: [String] = []
        for index in 0..<30 {
            documents.append("apiVersion: v1\nkind: Pod\nmetadata: {name: p\(index)}\nstatus: {podIP: 10.0.0.\(index % 7)}")
        }
        for index in 0..<6 {
            documents.append("apiVersion: v1\nkind: Service\nmetadata: {name: s\(index)}\nspec: {type: NodePort, clusterIP: 10.96.0.\(index + 1), "
                + "externalIPs: [10.96.0.\((index + 1) % 6 + 1)], ports: [{port: 80, nodePort: \(30000 + index % 2)}]}")
        }
        let loaded = loadManifests(documents.joined(separator: "\n---\n")).cluster
        var serial = loaded, parallel = loaded
        var serialFindings: [Diagnostic] = [], parallelFindings: [Diagnostic] = []
        ClusterChecks.run(&serial, into: &serialFindings, parallelFrom: .max)
        ClusterChecks.run(&parallel, into: &parallelFindings, parallelFrom: 0)
        #expect(parallelFindings == serialFindings)
        #expect(serialFindings.contains { $0.field == "status.podIPs" } && serialFindings.contains { $0.field.hasPrefix("spec.ports") }
            && serialFindings.contains { $0.field.hasPrefix("spec.externalIPs") }, "\(serialFindings.map(\.reason))")
        #expect(serial == parallel)
    }

    @Test("two Services on one nodePort, or on one address and port, are errors whatever the file order")
    func crossServiceConflicts() {
        let services = [
            "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {type: NodePort, clusterIP: 10.96.0.1, ports: [{port: 80, nodePort: 30080}]}",
            "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {type: NodePort, clusterIP: 10.96.0.2, ports: [{port: 81, nodePort: 30080, protocol: UDP}]}",
            "apiVersion: v1\nkind: Service\nmetadata: {name: c}\nspec: {clusterIP: 10.96.0.3, externalIPs: [10.96.0.1], ports: [{port: 80}]}",
            "apiVersion: v1\nkind: Service\nmetadata: {name: d}\nspec: {clusterIP: 10.96.0.4, externalIPs: [10.96.0.1], ports: [{port: 8080}]}",
        ]
        for order in [services, services.reversed()] {
            let result = loadManifests(order.joined(separator: "\n---\n"))
            let lines = diagnosticLines(result).map { $0.replacingOccurrences(of: #"^m\.yaml:\d+:\d+: "#, with: "", options: .regularExpression) }
            #expect(lines.sorted() == [
                "Service default/b: spec.ports[0].nodePort: nodePort 30080 is already allocated to Service default/a",
                "Service default/c: spec.externalIPs[0]: 10.96.0.1 port 80/TCP is already served by Service default/a",
            ])
        }
    }

    @Test("one Service may use a node port for TCP and UDP, not twice for one protocol")
    func nodePortWithinOneService() {
        let service = "apiVersion: v1\nkind: Service\nmetadata: {name: dns}\nspec: {type: NodePort, clusterIP: 10.96.0.10, ports: "
            + "[{name: a, port: 53, nodePort: 30053}, {name: b, port: 53, protocol: UDP, nodePort: 30053}, {name: c, port: 54, nodePort: 30053}]}"
        let lines = diagnosticLines(loadManifests(service)).map { $0.replacingOccurrences(of: #"^m\.yaml:\d+:\d+: "#, with: "", options: .regularExpression) }
        #expect(lines == ["Service default/dns: spec.ports[2].nodePort: duplicate nodePort 30053/TCP"])
    }

    @Test("terminated pods are not enforced; two running pods with one address are an error")
    func podAddresses() {
        let pods = """
        apiVersion: v1
        kind: Pod
        metadata: {name: old, namespace: shop, labels: {app: db}}
        status: {phase: Succeeded, podIP: 10.244.0.5}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: new, namespace: shop, labels: {app: web}}
        status: {phase: Running, podIP: 10.244.0.5}
        """
        let result = loadManifests(pods)
        #expect(result.diagnostics == [])
        #expect(result.cluster.pods.first { $0.meta.name == "old" }?.podIPs == [])
        #expect(result.cluster.pods.first { $0.meta.name == "new" }?.podIPs == [ip("10.244.0.5")])
        let clash = loadManifests(pods.replacingOccurrences(of: "Succeeded", with: "Running"))
        #expect(diagnosticLines(clash).contains { $0.contains("Pod shop/old: status.podIPs: 10.244.0.5 is also the address of running Pod shop/new") })
    }
}

/// Kinds kubenft does not read: never skipped without a word, and policy kinds it cannot enforce
/// stop the compile.
@Suite("Unused and unsupported kinds")
struct UnusedKindTests {
    @Test("another project's policy is an error, not a silent allow",
          arguments: ["cilium.io/v2 CiliumNetworkPolicy", "cilium.io/v2 CiliumClusterwideNetworkPolicy",
                      "projectcalico.org/v3 GlobalNetworkPolicy"])
    func unsupportedPolicyKinds(_ versionAndKind: String) {
        let parts = versionAndKind.split(separator: " ")
        let result = loadManifests("apiVersion: \(parts[0])\nkind: \(parts[1])\nmetadata: {name: deny-all}\nspec: {}\n")
        #expect(result.hasErrors)
        #expect(diagnosticLines(result).contains { $0.contains("kind: \"\(parts[1])\"") && $0.contains("refusing to compile without it") },
                "\(diagnosticLines(result))")
    }

    @Test("other kinds are skipped with one warning per kind that counts them")
    func unusedKindsWarnOnce() {
        let result = loadManifests("""
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: a}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: b}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: web}
        """)
        #expect(!result.hasErrors)
        #expect(diagnosticLines(result) == [
            "m.yaml:1:1: warning: kind: kind \"ConfigMap\" (\"v1\") is not used by kubenft: 2 objects skipped",
            "m.yaml:9:1: warning: kind: kind \"ServiceAccount\" (\"v1\") is not used by kubenft: 1 object skipped",
        ])
    }
}

/// A selector key kubenft does not know would widen the selector if dropped.
@Suite("Selectors fail closed")
struct SelectorFieldTests {
    @Test("an unknown key in a label selector is an error even without --strict",
          arguments: ["  ingress: [{from: [{namespaceSelector: {matchLabel: {team: a}}}]}]",
                      "  ingress: [{from: [{podSelector: {sameLabels: [tenant]}}]}]"])
    func unknownSelectorKey(_ rules: String) {
        let result = loadManifests(HostileManifestTests.policy(rules))
        #expect(result.hasErrors)
        #expect(diagnosticLines(result).contains { $0.contains("in a label selector") }, "\(diagnosticLines(result))")
    }

    @Test("an old AdminNetworkPolicy namespaces peer with sameLabels is refused, not read as every namespace")
    func adminSameLabels() {
        let result = loadManifests("""
        apiVersion: policy.networking.k8s.io/v1alpha1
        kind: AdminNetworkPolicy
        metadata: {name: tenants}
        spec:
          priority: 1
          subject: {namespaces: {}}
          ingress: [{action: Allow, from: [{namespaces: {sameLabels: [tenant]}}]}]
        """)
        #expect(result.hasErrors)
        #expect(result.cluster.adminPolicies.isEmpty || diagnosticLines(result).contains { $0.contains("sameLabels") })
    }
}
