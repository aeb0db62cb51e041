import NetAddress
import Testing
import NFTNetlink

/// The pure decision of which conntrack entries an apply left stale, case by case: kube-proxy's
/// rule for current frontends, and the frontends that went away.
@Suite("Stale conntrack entries")
struct ConntrackStalenessTests {
    static func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    static let clusterIP = ip("10.96.0.53")
    static let externalIP = ip("203.0.113.7")
    static let goneIP = ip("10.96.0.99")
    static let node = ip("198.51.100.1")
    static let client = ip("10.244.1.50")
    static let epA = ip("10.244.1.10")
    static let epB = ip("10.244.1.11")
    static let v6ClusterIP = ip("fd00:10:96::53")
    static let v6Endpoint = ip("fd00:10:244:1::10")

    static let filter = StaleFlowFilter(
        current: [
            ConntrackFrontend(.address(clusterIP), proto: 17, port: 53): [epB],
            ConntrackFrontend(.address(externalIP), proto: 17, port: 53): [epB],
            ConntrackFrontend(.address(clusterIP), proto: 17, port: 54): [],
            ConntrackFrontend(.address(clusterIP), proto: 6, port: 80): [epB],
            ConntrackFrontend(.nodePort(.v4), proto: 17, port: 30054): [epA],
            ConntrackFrontend(.nodePort(.v4), proto: 17, port: 30055): [],
            ConntrackFrontend(.address(v6ClusterIP), proto: 17, port: 53): [v6Endpoint],
        ],
        previous: [
            ConntrackFrontend(.address(clusterIP), proto: 17, port: 53),
            ConntrackFrontend(.address(goneIP), proto: 17, port: 53),
            ConntrackFrontend(.address(clusterIP), proto: 17, port: 55),
            ConntrackFrontend(.nodePort(.v4), proto: 17, port: 30053),
            ConntrackFrontend(.address(goneIP), proto: 6, port: 80),
        ],
        nodeAddresses: [node])

    /// A UDP entry from the client's port 40000 to `destination:port`, answered by `reply:replyPort`.
    static func flow(_ destination: IPAddress, _ port: UInt16, replied reply: IPAddress, _ replyPort: UInt16 = 8080,
                     proto: UInt8 = 17, from source: IPAddress = client) -> ConntrackFlow {
        ConntrackFlow(proto: proto, originalSource: source, originalSourcePort: 40000, originalDestination: destination,
                      originalDestinationPort: port, replySource: reply, replySourcePort: replyPort)
    }

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var flow: ConntrackFlow
        var stale: Bool
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ClusterIP flow to the serving endpoint is kept", flow: flow(clusterIP, 53, replied: epB), stale: false),
        Case(name: "ClusterIP flow to a removed endpoint is stale", flow: flow(clusterIP, 53, replied: epA), stale: true),
        Case(name: "ClusterIP flow never translated (no endpoints then) is stale", flow: flow(clusterIP, 53, replied: clusterIP, 53), stale: true),
        Case(name: "externalIP flow to a removed endpoint is stale", flow: flow(externalIP, 53, replied: epA), stale: true),
        Case(name: "externalIP flow to the serving endpoint is kept", flow: flow(externalIP, 53, replied: epB), stale: false),
        // kube-proxy (pkg/proxy/conntrack): "a Service without endpoints does not require to clean
        // the conntrack entries associated" — flows to pods that are only unready keep working.
        Case(name: "a port with no serving endpoint left keeps its flows", flow: flow(clusterIP, 54, replied: epB), stale: false),
        Case(name: "a NodePort with no serving endpoint left keeps its flows", flow: flow(node, 30055, replied: epB), stale: false),
        Case(name: "TCP is never touched, even to a removed endpoint", flow: flow(clusterIP, 80, replied: epA, proto: 6), stale: false),
        Case(name: "TCP to a vanished ClusterIP is never touched", flow: flow(goneIP, 80, replied: epA, proto: 6), stale: false),
        Case(name: "SCTP is never touched", flow: flow(clusterIP, 53, replied: epA, proto: 132), stale: false),
        Case(name: "translated flow to a vanished ClusterIP is stale", flow: flow(goneIP, 53, replied: epA), stale: true),
        Case(name: "untranslated flow to a vanished ClusterIP is kept", flow: flow(goneIP, 53, replied: goneIP, 53), stale: false),
        Case(name: "translated flow to a removed port of a kept ClusterIP is stale", flow: flow(clusterIP, 55, replied: epB), stale: true),
        Case(name: "translated flow to an address kubenft never programmed is kept", flow: flow(ip("10.96.0.200"), 53, replied: epA), stale: false),
        Case(name: "translated flow to a moved NodePort is stale", flow: flow(node, 30053, replied: epA), stale: true),
        Case(name: "untranslated flow to a moved NodePort is kept", flow: flow(node, 30053, replied: node, 30053), stale: false),
        Case(name: "NodePort flow to the serving endpoint is kept", flow: flow(node, 30054, replied: epA), stale: false),
        Case(name: "NodePort flow to a removed endpoint is stale", flow: flow(node, 30054, replied: epB), stale: true),
        Case(name: "untranslated flow to the node's NodePort is stale", flow: flow(node, 30054, replied: node, 30054), stale: true),
        Case(name: "untranslated pod-to-pod flow on a NodePort's number is kept", flow: flow(epB, 30054, replied: epB, 30054), stale: false),
        Case(name: "IPv6 ClusterIP flow to the serving endpoint is kept",
             flow: flow(v6ClusterIP, 53, replied: v6Endpoint, from: ip("fd00:10:244:1::50")), stale: false),
        Case(name: "IPv6 ClusterIP flow to another address is stale",
             flow: flow(v6ClusterIP, 53, replied: ip("fd00:10:244:1::11"), from: ip("fd00:10:244:1::50")), stale: true),
        Case(name: "an IPv6 flow never matches an IPv4 NodePort", flow: flow(ip("fd00:198:51:100::1"), 30054, replied: v6Endpoint), stale: false),
    ]

    @Test("each case", arguments: cases)
    func decision(_ example: Case) {
        let reason = Self.filter.reason(example.flow)
        #expect((reason != nil) == example.stale, "\(example.flow): \(reason ?? "kept")")
    }

    @Test("an empty filter keeps everything; stale(_:) keeps the order of the entries")
    func listOrder() {
        #expect(StaleFlowFilter(current: [:]).isEmpty)
        #expect(StaleFlowFilter(current: [ConntrackFrontend(.address(Self.clusterIP), proto: 6, port: 80): []]).isEmpty,
                "a filter over TCP frontends only has nothing to clean")
        let flows = Self.cases.map(\.flow)
        #expect(Self.filter.stale(flows) == Self.cases.filter(\.stale).map(\.flow))
    }
}
