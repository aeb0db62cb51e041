/// The size of one NetworkPolicy scenario: `pods` Pods in Deployments, `policies` NetworkPolicies.
/// With `services` nil every Deployment has 5–50 replicas and one Service; with `services` set the
/// pods are spread evenly over that many Deployments (one Service each).
struct PolicyScenario: Hashable, Codable {
    var pods: Int
    var policies: Int
    var services: Int?
    var namespaces: Int = 100

    var label: String {
        let base = "\(Scenario.short(pods)) pods × \(Scenario.short(policies)) policies"
        return services.map { "\(Scenario.short($0)) services, " + base } ?? base
    }

    /// Parses `20000x1000` (pods × policies).
    static func parse(_ text: String) -> PolicyScenario? {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
        guard parts.count == 2, let pods = Int(parts[0]), let policies = Int(parts[1]), pods > 0, policies > 0 else { return nil }
        return PolicyScenario(pods: pods, policies: policies)
    }
}

/// One Deployment: its pods are the global pod indices `firstPod ..< firstPod + replicas`.
struct DeploymentPlan {
    enum Tier: String, CaseIterable { case frontend, backend, db, cache, worker, infra }

    var index: Int
    var namespace: String
    var team: String
    var name: String
    var tier: Tier
    var version: String
    var replicas: Int
    var firstPod: Int
    var templateHash: String
    /// Extra labels (infrastructure deployments: `k8s-app`).
    var extraLabels: [(String, String)] = []
    /// Named container ports: http 8080 and metrics 9090, plus postgres / redis by tier.
    var ports: [(name: String, port: Int, proto: String)]
    var clusterIP: String
    var nodePort: Int?

    var labels: [(String, String)] {
        [("app", name), ("tier", tier.rawValue), ("team", team), ("version", version), ("pod-template-hash", templateHash)]
            + extraLabels
    }
}

/// One namespace with the labels policies select on.
struct NamespacePlan {
    var name: String
    var labels: [(String, String)]
}

/// Namespaces, Deployments and pod addresses of a NetworkPolicy scenario; the policies themselves
/// come from `PolicyFactory`. Everything is derived deterministically from the scenario.
struct PolicyClusterPlan {
    static let infraNamespaces = ["kube-system", "monitoring", "ingress-nginx"]
    let scenario: PolicyScenario
    private(set) var namespaces: [NamespacePlan] = []
    private(set) var deployments: [DeploymentPlan] = []
    /// Index of the first application (non-infrastructure) Deployment.
    private(set) var firstApp = 0

    init(_ scenario: PolicyScenario) {
        self.scenario = scenario
        for index in 0..<scenario.namespaces {
            let env = ["prod", "staging", "dev"][index % 3]
            namespaces.append(NamespacePlan(name: Self.namespace(index), labels: [
                ("kubernetes.io/metadata.name", Self.namespace(index)), ("team", Self.team(index)), ("env", env),
            ]))
        }
        for (offset, name) in Self.infraNamespaces.enumerated() {
            namespaces.append(NamespacePlan(name: name, labels: [
                ("kubernetes.io/metadata.name", name), ("purpose", ["system", "monitoring", "ingress"][offset]),
            ]))
        }
        var pod = 0
        addInfrastructure(&pod)
        firstApp = deployments.count
        addApplications(&pod)
    }

    static func namespace(_ index: Int) -> String { "ns-\(index)" }
    static func team(_ namespaceIndex: Int) -> String { "team-\(namespaceIndex % 25)" }

    var podCount: Int { deployments.last.map { $0.firstPod + $0.replicas } ?? 0 }
    var apps: ArraySlice<DeploymentPlan> { deployments[firstApp...] }

    private mutating func addInfrastructure(_ pod: inout Int) {
        let infra: [(String, String, String, Int)] = [
            ("kube-system", "coredns", "kube-dns", 2), ("monitoring", "prometheus", "prometheus", 2),
            ("ingress-nginx", "ingress-nginx-controller", "ingress-nginx", 3),
        ]
        for (namespace, name, app, replicas) in infra {
            var plan = deployment(index: deployments.count, namespace: namespace, team: "platform", name: name,
                                  tier: .infra, replicas: replicas, firstPod: pod)
            plan.extraLabels = [("k8s-app", app)]
            if name == "coredns" { plan.ports = [("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")] }
            deployments.append(plan)
            pod += replicas
        }
    }

    private mutating func addApplications(_ pod: inout Int) {
        let remaining = max(scenario.pods - pod, 0)
        let target = scenario.pods
        var app = 0
        while pod < target {
            let replicas: Int
            if let services = scenario.services {
                replicas = remaining / services + (app < remaining % services ? 1 : 0)
                if app >= services { break }
            } else {
                replicas = min(5 + Int(ClusterPlan.mix(UInt64(app) ^ 0x5EED) % 46), target - pod)
            }
            guard replicas > 0 else { break }
            let namespaceIndex = app % scenario.namespaces
            let tier = DeploymentPlan.Tier.allCases[Int(ClusterPlan.mix(UInt64(app) ^ 0x7135) % 5)]
            deployments.append(deployment(index: deployments.count, namespace: Self.namespace(namespaceIndex),
                                          team: Self.team(namespaceIndex), name: "app-\(app)", tier: tier,
                                          replicas: replicas, firstPod: pod))
            pod += replicas
            app += 1
        }
    }

    private func deployment(index: Int, namespace: String, team: String, name: String, tier: DeploymentPlan.Tier,
                            replicas: Int, firstPod: Int) -> DeploymentPlan {
        var ports: [(name: String, port: Int, proto: String)] = [("http", 8080, "TCP"), ("metrics", 9090, "TCP")]
        if tier == .db { ports.append(("postgres", 5432, "TCP")) }
        if tier == .cache { ports.append(("redis", 6379, "TCP")) }
        // Every 20th Deployment is exposed as a NodePort (unique in 30000–32767).
        let nodePort = index % 20 == 1 && 30000 + index / 20 <= 32767 ? 30000 + index / 20 : nil
        return DeploymentPlan(index: index, namespace: namespace, team: team, name: name, tier: tier,
                              version: index % 2 == 0 ? "v1" : "v2", replicas: replicas, firstPod: firstPod,
                              templateHash: ClusterPlan.token(UInt64(index) ^ 0xD1CE, length: 10), ports: ports,
                              clusterIP: ClusterPlan.address(base: (10, 96), host: index + 254), nodePort: nodePort)
    }

    func podIP(_ pod: Int) -> String { ClusterPlan.address(base: (10, 128), host: pod) }
    /// The node of a pod: spread by a hash, as a scheduler would, not by namespace or Deployment.
    func nodeNumber(_ pod: Int) -> Int { Int(ClusterPlan.mix(UInt64(pod) ^ 0x0DE5) % UInt64(ClusterPlan.nodeCount)) + 1 }
    func nodeName(_ pod: Int) -> String { "node-\(nodeNumber(pod))" }

    func podName(_ plan: DeploymentPlan, replica: Int) -> String {
        let space: UInt64 = 14_348_907
        let value = (ClusterPlan.mix(UInt64(plan.index) ^ 0xFACE) % space + UInt64(replica)) % space
        return "\(plan.name)-\(plan.templateHash)-\(ClusterPlan.digits(value, length: 5))"
    }
}
