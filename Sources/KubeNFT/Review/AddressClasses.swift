import KubeManifest

/// A part of the address space outside the pods that every policy of both compared versions treats
/// alike: the ipBlocks, their `except`s, admin `networks` and load-balancer source ranges cut the
/// space into such classes, and one address per class stands for all of it when tracing.
public struct AddressClass: Sendable, Hashable {
    /// The smallest CIDR of the inputs holding the class (`0.0.0.0/0` or `::/0` when none does).
    public var within: CIDR
    /// The largest input CIDRs inside `within`, cut out of it.
    public var except: [CIDR]
    /// The address traced for the class.
    public var representative: IPAddress

    /// `outside:203.0.113.0/24`, `outside:0.0.0.0/0 except 10.0.0.0/8,192.168.0.0/16`.
    public var name: String {
        "outside:\(within)" + (except.isEmpty ? "" : " except " + except.map(\.description).joined(separator: ","))
    }

    /// Every CIDR the class covers, without overlaps.
    public var cidrs: [CIDR] { AddressRange(within).subtracting(except.map(AddressRange.init)).flatMap(\.prefixes) }
}

enum AddressClasses {
    /// The classes of each address family the reviewed pods use, from the CIDRs both versions name.
    /// Addresses of pods, services and nodes are never chosen as representatives.
    static func classes(_ results: [PipelineResult]) -> [AddressClass] {
        var cidrs = Set<CIDR>(), occupied = Set<IPAddress>(), families = Set<IPFamily>()
        for result in results {
            cidrs.formUnion(cidrsNamed(by: result.cluster))
            occupied.formUnion(result.context.nodeIPs)
            for pod in result.cluster.pods { occupied.formUnion(pod.podIPs) }
            for service in result.cluster.services {
                occupied.formUnion(service.clusterIPs + service.externalIPs + service.loadBalancerIngressIPs)
            }
            for pod in Review.reviewedPods(result.cluster) { families.formUnion(pod.podIPs.map(\.family)) }
        }
        return IPFamily.allCases.filter(families.contains).flatMap { family in
            classes(family, cidrs: cidrs.filter { $0.family == family }, occupied: occupied)
        }
    }

    static func cidrsNamed(by cluster: Cluster) -> [CIDR] {
        var found: [CIDR] = []
        for policy in cluster.networkPolicies {
            for rule in (policy.ingress ?? []) + (policy.egress ?? []) {
                for block in (rule.peers ?? []).compactMap(\.ipBlock) { found += [block.cidr] + block.except }
            }
        }
        for policy in cluster.adminPolicies {
            for rule in policy.ingress + policy.egress {
                for peer in rule.peers { if case .networks(let networks) = peer { found += networks } }
            }
        }
        for service in cluster.services { found += service.loadBalancerSourceRanges }
        return found
    }

    /// CIDRs are nested or disjoint, so each class is one CIDR (or the whole space) minus the
    /// largest CIDRs inside it.
    static func classes(_ family: IPFamily, cidrs: Set<CIDR>, occupied: Set<IPAddress>) -> [AddressClass] {
        let everything = CIDR(address: IPAddress(numericValue: 0, family: family), prefixLength: 0)!
        let all = cidrs.union([everything]).map(\.normalized).sorted { ($0.prefixLength, $0) < ($1.prefixLength, $1) }
        var result: [AddressClass] = []
        for outer in Set(all).sorted(by: { ($0.prefixLength, $0) < ($1.prefixLength, $1) }) {
            let inner = all.filter { $0 != outer && outer.contains($0) }
            let largest = Set(inner.filter { candidate in !inner.contains { $0 != candidate && $0.contains(candidate) } }).sorted()
            let rest = AddressRange(outer).subtracting(largest.map(AddressRange.init))
            guard let representative = representative(in: rest, family: family, occupied: occupied) else { continue }
            result.append(AddressClass(within: outer, except: largest, representative: representative))
        }
        return result.sorted { ($0.within, $0.except.count) < ($1.within, $1.except.count) }
    }

    /// A documentation address when one falls in the class, else an address near the start of one
    /// of its ranges; never a known pod, service or node address, the unspecified address or loopback.
    static func representative(in ranges: [AddressRange], family: IPFamily, occupied: Set<IPAddress>) -> IPAddress? {
        let preferred = (family == .v4 ? ["203.0.113.77", "192.0.2.77", "198.51.100.77"] : ["2001:db8:77::77", "2001:db8::77"])
            .compactMap { IPAddress($0) }
        func usable(_ address: IPAddress) -> Bool { !occupied.contains(address) && !address.isUnspecified && !address.isLoopback }
        for address in preferred where usable(address) && ranges.contains(where: { $0.lower <= address.numericValue && address.numericValue <= $0.upper }) {
            return address
        }
        for range in ranges {
            var value = range.lower, tries = 0
            while tries < 64 {
                let address = IPAddress(numericValue: value, family: family)
                if usable(address) && value != range.lower || (usable(address) && range.isSingleAddress) { return address }
                if value == range.upper { break }
                value += 1
                tries += 1
            }
        }
        return nil
    }
}

extension CIDR {
    /// The same prefix with host bits cleared.
    var normalized: CIDR { CIDR(address: AddressRange(self).lowerAddress, prefixLength: prefixLength) ?? self }
}
