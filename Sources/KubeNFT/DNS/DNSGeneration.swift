import KubeManifest
import NetAddress

/// The options of `kubenft dns`.
public struct DNSOptions: Sendable, Hashable {
    /// Output formats: an RFC 1035 zone file or the same records as JSON.
    public enum Format: String, Sendable, CaseIterable {
        case zone
        case json
    }

    public var clusterDomain: String
    public var ttl: Int
    /// The SOA serial; nil derives it from the zone's content.
    public var serial: UInt32?
    /// `--reverse CIDR`: print the reverse zone of this range instead of the forward zone.
    public var reverse: String?
    public var format: Format

    public init(clusterDomain: String = "cluster.local", ttl: Int = 5, serial: UInt32? = nil, reverse: String? = nil, format: Format = .zone) {
        self.clusterDomain = clusterDomain
        self.ttl = ttl
        self.serial = serial
        self.reverse = reverse
        self.format = format
    }
}

/// What `kubenft dns` produced: the zone when the input was valid, and every diagnostic.
public struct DNSResult: Sendable {
    public var zone: ZoneFile?
    public var diagnostics: [Diagnostic]
    /// The loaded and derived cluster the records came from.
    public var cluster: Cluster

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
}

/// Load → validate → derive (as every command does) → the DNS records → one zone.
public enum DNSGeneration {
    public static func run(paths: [String], node: NodeOptions, strict: Bool = false, options: DNSOptions) -> DNSResult {
        let loaded = Pipeline.run(paths: paths, node: node, strict: strict, compile: false)
        var diagnostics = loaded.diagnostics
        let (kind, domain, optionErrors) = validate(options)
        diagnostics += optionErrors
        let derived = loaded.cluster.pods.filter { $0.origin != nil }.count
        if derived > 0 {
            diagnostics.append(Diagnostic(.warning, at: NodeContextResolver.commandLine, object: nil, field: "-f",
                                          reason: "\(derived) pod address\(derived == 1 ? " was" : "es were") derived from declared workloads, "
                                              + "not read from a cluster: their records hold made-up addresses"))
        }
        guard let kind, let domain, !diagnostics.contains(where: { $0.severity == .error }) else {
            return DNSResult(zone: nil, diagnostics: diagnostics.map { strict ? $0.strict : $0 }.sorted(), cluster: loaded.cluster)
        }
        let (records, warnings) = ServiceDiscovery(zone: domain, ttl: options.ttl).records(for: loaded.cluster)
        diagnostics += warnings
        if strict { diagnostics = diagnostics.map(\.strict) }
        let zone = ZoneFile(kind: kind, clusterDomain: domain, ttl: options.ttl, serial: options.serial, records: records)
        let failed = diagnostics.contains { $0.severity == .error }
        return DNSResult(zone: failed ? nil : zone, diagnostics: diagnostics.sorted(), cluster: loaded.cluster)
    }

    /// The cluster domain (a DNS name of letters, digits and hyphens, at most 200 bytes so records
    /// under it fit), the TTL, and the reverse range (at least a /8 or an IPv6 /16).
    static func validate(_ options: DNSOptions) -> (ZoneFile.Kind?, DomainName?, [Diagnostic]) {
        var errors: [Diagnostic] = []
        func fail(_ flag: String, _ reason: String) {
            errors.append(Diagnostic(at: NodeContextResolver.commandLine, object: nil, field: flag, reason: reason))
        }
        let domain = DomainName(dotted: options.clusterDomain.lowercased())
        if let domain, !domain.labels.isEmpty, domain.isValid, domain.labels.joined(separator: ".").utf8.count <= 200,
           domain.labels.allSatisfy({ !$0.contains("_") && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) {
        } else {
            fail("--cluster-domain", "invalid cluster domain \("\"\(options.clusterDomain)\""): must be a DNS name of at most 200 bytes")
        }
        if !(0...2_147_483_647).contains(options.ttl) { fail("--ttl", "must be between 0 and 2147483647 seconds") }
        var kind: ZoneFile.Kind? = .forward
        if let text = options.reverse {
            if let range = CIDR(text), range.prefixLength >= (range.family == .v4 ? 8 : 16), IPAddress(text.prefix { $0 != "/" }) == range.address {
                kind = .reverse(range)
            } else {
                kind = nil
                fail("--reverse", "invalid range \("\"\(text)\""): must be a CIDR with zero host bits, at least /8 (IPv4) or /16 (IPv6)")
            }
        }
        return (errors.isEmpty ? kind : nil, errors.isEmpty ? domain : nil, errors)
    }

    public static func render(_ zone: ZoneFile, format: DNSOptions.Format) -> String {
        switch format {
        case .zone: zone.text
        case .json: zone.json
        }
    }
}
