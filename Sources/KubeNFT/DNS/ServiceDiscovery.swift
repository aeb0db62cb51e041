import KubeManifest
import NetAddress

/// The records of the Kubernetes DNS-Based Service Discovery specification (kubernetes/dns
/// docs/specification.md, schema 1.1.0) for one cluster: what CoreDNS would answer for the same
/// objects, as data, so a lab or a reviewer can serve or read them without a cluster.
public struct ServiceDiscovery: Sendable {
    /// The schema version published in `dns-version.<zone>`.
    public static let schemaVersion = "1.1.0"

    public var zone: DomainName
    public var ttl: Int

    public init(zone: DomainName, ttl: Int) {
        self.zone = zone
        self.ttl = ttl
    }

    /// Every forward and reverse record of the cluster (no SOA or NS: the zone adds those), and a
    /// warning for each object whose records cannot be written.
    public func records(for cluster: Cluster) -> (records: [DNSRecord], diagnostics: [Diagnostic]) {
        records(for: cluster, threshold: InHalves.threshold)
    }

    /// `records(for:)`, the pod records of at least `threshold` pods made in two halves at once.
    func records(for cluster: Cluster, threshold: Int) -> (records: [DNSRecord], diagnostics: [Diagnostic]) {
        var builder = Builder(discovery: self, cluster: cluster)
        builder.add(.init(name: zone.prepending("dns-version"), ttl: ttl, data: .txt(Self.schemaVersion)))
        for service in cluster.services { builder.addService(service) }
        let pods = cluster.pods
        let halves = InHalves.map(pods.count, threshold: threshold) { range in
            var records: [DNSRecord] = []
            records.reserveCapacity(range.count)
            // By index: only each pod's addresses and namespace are read, not a copy of the pod.
            for index in range {
                podRecords(addresses: pods[index].podIPs, namespace: pods[index].meta.namespace, into: &records)
            }
            return records
        }
        for half in halves { builder.records.append(contentsOf: half) }
        return (builder.records, builder.diagnostics)
    }

    /// The deprecated but still required `<a>-<b>-<c>-<d>.<ns>.pod.<zone>` record (section 2.6),
    /// for the addresses of the pods in the input: a zone file cannot hold "every address".
    func podRecords(addresses: [IPAddress], namespace: String, into records: inout [DNSRecord]) {
        for address in addresses {
            var labels: [String] = []
            labels.reserveCapacity(zone.labels.count + 3)
            labels.append(Self.addressLabel(address))
            labels.append(namespace)
            labels.append("pod")
            labels.append(contentsOf: zone.labels)
            let name = DomainName(labels: labels)
            guard name.isValid else { continue }
            records.append(DNSRecord(name: name, ttl: ttl, data: address.family == .v4 ? .a(address) : .aaaa(address)))
        }
    }

    /// `<service>.<ns>.svc.<zone>`.
    func serviceName(_ service: Service) -> DomainName {
        zone.prepending(service.meta.name, service.meta.namespace, "svc")
    }

    /// The _hostname_ of an endpoint without one: its address with `.` or `:` as `-`, as CoreDNS
    /// names it (the specification leaves the identifier to the implementation).
    static func addressLabel(_ address: IPAddress) -> String {
        let text = address.description
        // In a stack buffer: the label of an IPv4 address is a small string, made without allocating.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: text.utf8.count) { buffer in
            for (index, byte) in text.utf8.enumerated() {
                buffer[index] = byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":") ? UInt8(ascii: "-") : byte
            }
            return String(decoding: buffer, as: UTF8.self)
        }
    }

    /// `<d>.<c>.<b>.<a>.in-addr.arpa.` or the nibble form under `ip6.arpa.`.
    public static func reverseName(_ address: IPAddress) -> DomainName {
        switch address.family {
        case .v4:
            return DomainName(labels: address.bytes.reversed().map { String($0) } + ["in-addr", "arpa"])
        case .v6:
            let nibbles = address.bytes.flatMap { [$0 >> 4, $0 & 0x0F] }
            return DomainName(labels: nibbles.reversed().map { String($0, radix: 16) } + ["ip6", "arpa"])
        }
    }
}

/// Collects records, skipping (with a warning) names too long for DNS.
private struct Builder {
    let discovery: ServiceDiscovery
    var records: [DNSRecord] = []
    var diagnostics: [Diagnostic] = []
    private let cluster: Cluster
    /// Each Service's EndpointSlices and legacy Endpoints, indexed when a headless Service first
    /// needs them (only headless Services publish endpoints).
    private var endpointIndex: (slices: [String: [EndpointSlice]], endpoints: [String: Endpoints])?

    init(discovery: ServiceDiscovery, cluster: Cluster) {
        self.discovery = discovery
        self.cluster = cluster
        records.reserveCapacity(cluster.pods.count + cluster.services.count * 4)
    }

    private mutating func endpointsOf(_ service: Service) -> (slices: [EndpointSlice]?, endpoints: Endpoints?) {
        if endpointIndex == nil {
            var slices: [String: [EndpointSlice]] = [:]
            for slice in cluster.endpointSlices {
                guard let service = slice.serviceName else { continue }
                slices["\(slice.meta.namespace)/\(service)", default: []].append(slice)
            }
            var endpoints: [String: Endpoints] = [:]
            for legacy in cluster.endpoints { endpoints[legacy.meta.qualifiedName] = legacy }
            endpointIndex = (slices, endpoints)
        }
        let name = service.meta.qualifiedName
        return (endpointIndex?.slices[name], endpointIndex?.endpoints[name])
    }

    var ttl: Int { discovery.ttl }

    mutating func add(_ record: DNSRecord) { records.append(record) }

    /// Adds the record, or warns that `skipped` (the records left out) cannot be written.
    mutating func add(_ name: DomainName, _ data: DNSRecord.RecordData, for service: Service, skipped: String = "no records") -> Bool {
        guard name.isValid else {
            warn(service, field: "metadata.name", "the DNS name \(name) is longer than DNS allows (63 bytes a label, 255 a name); \(skipped)")
            return false
        }
        records.append(DNSRecord(name: name, ttl: ttl, data: data))
        return true
    }

    mutating func warn(_ service: Service, field: String, _ reason: String) {
        diagnostics.append(Diagnostic(.warning, at: service.meta.location, object: "Service \(service.meta.qualifiedName)",
                                      field: field, reason: reason))
    }

    mutating func addService(_ service: Service) {
        let name = discovery.serviceName(service)
        if service.type == .externalName {
            if let text = service.externalName, IPAddress(text) != nil {
                // The API takes `192.0.2.1` as a name of digits; CoreDNS serves no CNAME for it.
                warn(service, field: "spec.externalName", "the external name \(text) is an IP address, which DNS does not alias; no DNS record")
                return
            }
            guard let target = service.externalName.flatMap(DomainName.init(dotted:)), !target.labels.isEmpty else {
                warn(service, field: "spec.externalName", "an ExternalName Service without an external name gets no DNS record")
                return
            }
            _ = add(name, .cname(target), for: service)
        } else if service.isHeadless {
            addHeadless(service, name: name)
        } else if service.clusterIPs.isEmpty {
            warn(service, field: "spec.clusterIP", "no cluster IP is allocated, so the Service gets no DNS records")
        } else {
            for address in service.clusterIPs {
                guard add(name, address.family == .v4 ? .a(address) : .aaaa(address), for: service) else { return }
                records.append(DNSRecord(name: ServiceDiscovery.reverseName(address), ttl: ttl, data: .ptr(name)))
            }
            // CoreDNS shares a weight of 100 among the cluster IPs, then drops the duplicate target.
            let weight = Self.weight(sharedBy: service.clusterIPs.count)
            for port in service.ports where !port.name.isEmpty {
                _ = add(name.prepending("_" + port.name, "_" + port.protocol.rawValue.lowercased()),
                        .srv(priority: 0, weight: weight, port: port.port, target: name), for: service,
                        skipped: "no SRV record for port \(port.name)")
            }
        }
    }

    /// The SRV weight CoreDNS gives each of `count` answers of one priority: 100 shared equally,
    /// rounded down, at least 1.
    static func weight(sharedBy count: Int) -> UInt16 { UInt16(max(1, 100 / max(1, count))) }

    /// A headless Service: an address record per _ready_ endpoint under the Service's name and
    /// under `<hostname>.<service>…`, SRV records per named port and hostname, and PTR records.
    mutating func addHeadless(_ service: Service, name: DomainName) {
        var targets: [[SRVTarget]] = Array(repeating: [], count: service.ports.count)
        for endpoint in publishedEndpoints(of: service) {
            let host = name.prepending(endpoint.hostname)
            guard host.isValid else {
                warn(service, field: "metadata.name", "the DNS name \(host) is longer than DNS allows (63 bytes a label, 255 a name); the endpoint at \(endpoint.address) gets no records")
                continue
            }
            let data: DNSRecord.RecordData = endpoint.address.family == .v4 ? .a(endpoint.address) : .aaaa(endpoint.address)
            records.append(DNSRecord(name: name, ttl: ttl, data: data))
            records.append(DNSRecord(name: host, ttl: ttl, data: data))
            records.append(DNSRecord(name: ServiceDiscovery.reverseName(endpoint.address), ttl: ttl, data: .ptr(host)))
            for (index, port) in service.ports.enumerated() where !port.name.isEmpty {
                let number = endpoint.ports[PortKey(name: port.name, protocol: port.protocol)] ?? port.port
                targets[index].append(SRVTarget(address: endpoint.address, host: host, port: number))
            }
        }
        for (index, port) in service.ports.enumerated() where !targets[index].isEmpty {
            // As CoreDNS: the weight is shared by every endpoint address of the port, so two
            // addresses of one hostname count twice though they make one SRV record.
            var seen = Set<SRVTarget>()
            let unique = targets[index].filter { seen.insert($0).inserted }
            let weight = Self.weight(sharedBy: unique.count)
            let srvName = name.prepending("_" + port.name, "_" + port.protocol.rawValue.lowercased())
            for target in unique {
                // One warning for the port: every target shares the name.
                guard add(srvName, .srv(priority: 0, weight: weight, port: target.port, target: target.host), for: service,
                          skipped: "no SRV records for port \(port.name)") else { break }
            }
        }
    }

    /// One endpoint address behind a named port of a headless Service.
    struct SRVTarget: Hashable {
        var address: IPAddress
        var host: DomainName
        var port: UInt16
    }

    struct PortKey: Hashable {
        var name: String
        var `protocol`: L4Protocol
    }

    struct Published {
        var address: IPAddress
        var hostname: String
        /// The endpoint's own port numbers by service port name: clients of a headless Service
        /// connect to the pods directly, so SRV records carry the target port.
        var ports: [PortKey: UInt16]
    }

    /// The _ready_ endpoints: ready ones, or all when the Service publishes not-ready addresses
    /// (`publishNotReadyAddresses` or the legacy `tolerate-unready-endpoints` annotation). From
    /// the EndpointSlices of the Service, or its legacy Endpoints when it has no slice.
    mutating func publishedEndpoints(of service: Service) -> [Published] {
        let all = service.publishNotReadyAddresses
            || service.meta.annotations["service.alpha.kubernetes.io/tolerate-unready-endpoints"] == "true"
        var found: [Published] = []
        let (sliceList, legacyEndpoints) = endpointsOf(service)
        if let slices = sliceList, !slices.isEmpty {
            for slice in slices {
                if slice.addressType == .fqdn {
                    warn(service, field: "endpoints", "EndpointSlice \(slice.meta.name) has addressType FQDN, which DNS-based discovery does not publish")
                    continue
                }
                let ports = Dictionary(slice.ports.compactMap { port in port.port.map { (PortKey(name: port.name, protocol: port.protocol), $0) } },
                                       uniquingKeysWith: { first, _ in first })
                for endpoint in slice.endpoints where all || endpoint.isReady {
                    for address in endpoint.addresses {
                        found.append(Published(address: address, hostname: endpoint.hostname ?? ServiceDiscovery.addressLabel(address), ports: ports))
                    }
                }
            }
        } else if let legacy = legacyEndpoints {
            for subset in legacy.subsets {
                let ports = Dictionary(subset.ports.compactMap { port in port.port.map { (PortKey(name: port.name, protocol: port.protocol), $0) } },
                                       uniquingKeysWith: { first, _ in first })
                for address in subset.addresses + (all ? subset.notReadyAddresses : []) {
                    found.append(Published(address: address.ip, hostname: address.hostname ?? ServiceDiscovery.addressLabel(address.ip), ports: ports))
                }
            }
        }
        return found
    }
}
