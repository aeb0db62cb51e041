import NetAddress

/// A place a Service answers on, as connection tracking sees it: a service address (ClusterIP,
/// externalIP, load-balancer IP) and port, or a NodePort on the node's addresses of one family.
/// The unit the conntrack cleanup reasons about after an apply.
public struct ConntrackFrontend: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Destination: Sendable, Hashable {
        case address(IPAddress)
        case nodePort(IPFamily)
    }

    public var destination: Destination
    /// The IP protocol number (17 for UDP).
    public var proto: UInt8
    public var port: UInt16

    public init(_ destination: Destination, proto: UInt8, port: UInt16) {
        self.destination = destination
        self.proto = proto
        self.port = port
    }

    public var family: IPFamily {
        switch destination {
        case .address(let address): return address.family
        case .nodePort(let family): return family
        }
    }

    public var description: String {
        let name = ConntrackFlow.protocolName(proto)
        switch destination {
        case .address(let address):
            return address.family == .v4 ? "\(address):\(port)/\(name)" : "[\(address)]:\(port)/\(name)"
        case .nodePort(let family): return "NodePort \(port)/\(name) (\(family.rawValue))"
        }
    }

    public static func < (lhs: ConntrackFrontend, rhs: ConntrackFrontend) -> Bool {
        lhs.sortKey.lexicographicallyPrecedes(rhs.sortKey)
    }

    private var sortKey: [UInt8] {
        let head: [UInt8]
        switch destination {
        case .address(let address): head = [0, UInt8(address.bytes.count)] + address.bytes
        case .nodePort(let family): head = [1, family == .v4 ? 4 : 16]
        }
        return head + [proto, UInt8(port >> 8), UInt8(port & 0xFF)]
    }
}

/// One connection tracking entry: its original tuple (as the client sent it) and the source of
/// its reply tuple (where the kernel's NAT sends it: the endpoint after a DNAT).
public struct ConntrackFlow: Sendable, Hashable, CustomStringConvertible {
    public var proto: UInt8
    public var originalSource: IPAddress
    public var originalSourcePort: UInt16
    public var originalDestination: IPAddress
    public var originalDestinationPort: UInt16
    public var replySource: IPAddress
    public var replySourcePort: UInt16
    public var zone: UInt16
    /// The kernel's id of the entry; 0 when unknown.
    public var id: UInt32

    public init(proto: UInt8, originalSource: IPAddress, originalSourcePort: UInt16, originalDestination: IPAddress,
                originalDestinationPort: UInt16, replySource: IPAddress, replySourcePort: UInt16, zone: UInt16 = 0, id: UInt32 = 0) {
        self.proto = proto
        self.originalSource = originalSource
        self.originalSourcePort = originalSourcePort
        self.originalDestination = originalDestination
        self.originalDestinationPort = originalDestinationPort
        self.replySource = replySource
        self.replySourcePort = replySourcePort
        self.zone = zone
        self.id = id
    }

    /// True when the destination was rewritten (DNAT): the reply comes from elsewhere.
    public var isTranslated: Bool {
        replySource != originalDestination || replySourcePort != originalDestinationPort
    }

    public var description: String {
        func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
            address.family == .v4 ? "\(address):\(port)" : "[\(address)]:\(port)"
        }
        return "\(Self.protocolName(proto)) \(endpoint(originalSource, originalSourcePort)) -> "
            + "\(endpoint(originalDestination, originalDestinationPort)) replied by \(endpoint(replySource, replySourcePort))"
    }

    static func protocolName(_ proto: UInt8) -> String {
        switch proto {
        case 6: return "tcp"
        case 17: return "udp"
        case 132: return "sctp"
        default: return "proto \(proto)"
        }
    }

    public static let udp: UInt8 = 17
}

/// Decides which conntrack entries an apply left pointing at the wrong place, with kube-proxy's
/// rule (pkg/proxy/conntrack, `CleanStaleEntries`) plus the frontends that went away. Pure: the
/// same inputs always give the same answer, so it is tested without a kernel.
///
/// An entry is stale when its protocol is cleaned (UDP, as kube-proxy) and
/// - its original destination is a current service address and port that has serving endpoints
///   (kube-proxy leaves a Service without any alone), and its reply source is not one of them (this includes entries that were never translated, made while
///   the Service had no endpoints or before the table existed); or
/// - its original destination port is a current NodePort of its protocol with serving endpoints,
///   it was translated or sent to one of `nodeAddresses`, and its reply source is not one of them; or
/// - it was translated, and its original destination is a service address and port, or its
///   destination port a NodePort, that the previous table programmed and the new one does not.
public struct StaleFlowFilter: Sendable {
    /// What the new ruleset programs: each frontend with the addresses of its serving endpoints.
    public var current: [ConntrackFrontend: Set<IPAddress>]
    /// What the table programmed before the apply (nil frontends of other protocols are ignored).
    public var previous: Set<ConntrackFrontend>
    /// The node's own addresses: an untranslated entry only counts for a NodePort when sent to one.
    public var nodeAddresses: Set<IPAddress>
    /// IP protocol numbers whose entries are cleaned.
    public static let protocols: Set<UInt8> = [ConntrackFlow.udp]

    public init(current: [ConntrackFrontend: Set<IPAddress>], previous: Set<ConntrackFrontend> = [], nodeAddresses: Set<IPAddress> = []) {
        self.current = current.filter { Self.protocols.contains($0.key.proto) }
        self.previous = previous.filter { Self.protocols.contains($0.proto) }
        self.nodeAddresses = nodeAddresses
    }

    /// Nothing to look at: no frontend of a cleaned protocol, now or before.
    public var isEmpty: Bool { current.isEmpty && previous.isEmpty }

    /// Why `flow` is stale, or nil when it is kept.
    public func reason(_ flow: ConntrackFlow) -> String? {
        guard Self.protocols.contains(flow.proto) else { return nil }
        let address = ConntrackFrontend(.address(flow.originalDestination), proto: flow.proto, port: flow.originalDestinationPort)
        if let endpoints = current[address] {
            // A current service address decides alone, whatever NodePort shares its port number.
            // With no serving endpoint there is nowhere better to send the flow: kube-proxy keeps
            // such entries (pods that are only unready keep their flows), and so does this.
            guard !endpoints.isEmpty else { return nil }
            return endpoints.contains(flow.replySource) ? nil : "\(address): \(flow.replySource) is not a serving endpoint"
        }
        if previous.contains(address), flow.isTranslated {
            return "\(address) is no longer a service frontend"
        }
        let nodePort = ConntrackFrontend(.nodePort(flow.originalDestination.family), proto: flow.proto, port: flow.originalDestinationPort)
        if let endpoints = current[nodePort] {
            if !endpoints.isEmpty, (flow.isTranslated || nodeAddresses.contains(flow.originalDestination)), !endpoints.contains(flow.replySource) {
                return "\(nodePort): \(flow.replySource) is not a serving endpoint"
            }
        } else if previous.contains(nodePort), flow.isTranslated {
            return "\(nodePort) is no longer a NodePort"
        }
        return nil
    }

    /// The stale entries of `flows`, in their order.
    public func stale(_ flows: [ConntrackFlow]) -> [ConntrackFlow] { flows.filter { reason($0) != nil } }
}
