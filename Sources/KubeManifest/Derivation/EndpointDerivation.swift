/// The EndpointSlices the endpoint-slice controller would write for Services whose endpoints the
/// input does not hold: every ready pod of the Service's namespace that its selector matches, with
/// each named `targetPort` resolved against that pod's container ports (a pod that does not define
/// the name is no endpoint for that port). Selectorless Services keep their declared endpoints.
enum EndpointDerivation {
    /// `services` are the ones whose cluster IP was derived; others get slices only when a pod they
    /// select was derived, so a runtime dump keeps exactly the endpoints it holds.
    static func derive(_ cluster: inout Cluster, services derivedServices: Set<String>) {
        var declared = Set(cluster.endpoints.map(\.meta.qualifiedName))
        for slice in cluster.endpointSlices {
            if let name = slice.serviceName { declared.insert("\(slice.meta.namespace)/\(name)") }
        }
        // Fields read in place: a copy of each Service would retain everything it holds.
        let candidates = cluster.services.indices.filter { index in
            cluster.services[index].selector != nil && cluster.services[index].type != .externalName
                && !declared.contains(cluster.services[index].meta.qualifiedName)
        }
        // A runtime dump declares every Service's endpoints: nothing to group pods for.
        guard !candidates.isEmpty else { return }
        var podsByNamespace: [String: [Pod]] = [:]
        for pod in cluster.pods where !pod.podIPs.isEmpty && !pod.isTerminated {
            podsByNamespace[pod.meta.namespace, default: []].append(pod)
        }
        for index in candidates {
            let service = cluster.services[index]
            guard let selector = service.selector else { continue }
            let selected = (podsByNamespace[service.meta.namespace] ?? []).filter { pod in
                selector.allSatisfy { pod.meta.labels[$0.key] == $0.value }
            }
            guard derivedServices.contains(service.meta.qualifiedName) || selected.contains(where: { $0.origin != nil }) else { continue }
            cluster.endpointSlices += slices(for: service, pods: selected.sorted { $0.meta.qualifiedName < $1.meta.qualifiedName })
        }
    }

    /// One slice per address family and per way the ports resolve.
    static func slices(for service: Service, pods: [Pod]) -> [EndpointSlice] {
        var groups: [String: (ports: [EndpointSlice.Port], family: IPFamily, endpoints: [EndpointSlice.Endpoint])] = [:]
        for pod in pods {
            let ports = service.ports.compactMap { port -> EndpointSlice.Port? in
                switch port.targetPort {
                case .number(let number): return EndpointSlice.Port(name: port.name, protocol: port.protocol, port: number)
                case .name(let name):
                    guard let container = pod.containerPorts.first(where: { $0.name == name && $0.protocol == port.protocol }) else { return nil }
                    return EndpointSlice.Port(name: port.name, protocol: port.protocol, port: container.port)
                }
            }
            guard !ports.isEmpty || service.ports.isEmpty else { continue }
            let portKey = ports.map { "\($0.name)/\($0.protocol.rawValue)/\($0.port.map(String.init) ?? "")" }.joined(separator: ",")
            for family in IPFamily.allCases {
                guard let address = pod.podIPs.first(where: { $0.family == family }) else { continue }
                var endpoint = EndpointSlice.Endpoint(addresses: [address], ready: true, nodeName: pod.nodeName,
                                                      targetRef: ObjectReference(kind: "Pod", namespace: pod.meta.namespace, name: pod.meta.name))
                // As the endpoint-slice controller: the pod's hostname, when its subdomain names this Service.
                if let naming = pod.naming, let hostname = naming.hostname, naming.subdomain == service.meta.name {
                    endpoint.hostname = hostname
                }
                groups["\(family.rawValue)|\(portKey)", default: (ports, family, [])].endpoints.append(endpoint)
            }
        }
        return groups.sorted { $0.key < $1.key }.enumerated().map { index, entry in
            let group = entry.value
            let name = service.meta.name
            let meta = ObjectMeta(name: "\(name)-derived-\(index)", namespace: service.meta.namespace,
                                  labels: ["kubernetes.io/service-name": name], location: service.meta.location)
            return EndpointSlice(meta: meta, serviceName: name, addressType: group.family == .v4 ? .ipv4 : .ipv6,
                                 endpoints: group.endpoints, ports: group.ports)
        }
    }
}
