import NFTTrace

/// Why a traced connection ends as it does, in the words of the compiled rules it went through:
/// the comments of the policy rules that decided each direction (`ns/name ingress[0]`, an ANP rule,
/// `ingress isolated by ns/name`), or "not isolated" when no policy chain was entered. It reads the
/// trace of the same ruleset that is loaded, so it cannot disagree with the verdict.
enum Reason {
    /// The explanation of the first path with the result's verdict (the accepted one, when any).
    /// An end that is not a pod (the node, an outside address) has no policy of its own to report.
    /// `toNode`: the destination is the node itself, where only admin policies apply to a pod's egress.
    static func of(_ result: TraceResult, sourceIsPod: Bool = true, destinationIsPod: Bool = true, toNode: Bool = false) -> String {
        let path = result.paths.first { $0.verdict == .accept } ?? result.paths.first
        return path.map { explain($0, sourceIsPod: sourceIsPod, destinationIsPod: destinationIsPod, toNode: toNode) } ?? "no path"
    }

    static func explain(_ path: TracePath, sourceIsPod: Bool, destinationIsPod: Bool, toNode: Bool) -> String {
        if path.verdict == .accept, path.steps.contains(where: { $0.comment == selfConnection }) { return selfConnection }
        var parts: [String] = []
        var direction: String?, decisive: String?
        func flush() {
            guard let direction else { return }
            parts.append("\(direction): \(decisive ?? "no policy rule")")
        }
        var sawEgress = false, sawIngress = false
        for step in path.steps {
            switch step.comment {
            case "egress of the source pod", "egress of the source pod to this node":
                flush()
                direction = step.comment == "egress of the source pod" ? "egress" : "egress to node"
                decisive = nil
                sawEgress = true
            case "ingress of the destination pod":
                flush()
                direction = "ingress"
                decisive = nil
                sawIngress = true
            default:
                guard step.chain.hasPrefix("np-"), let comment = step.comment else { continue }
                decisive = comment == "no rule matched: allowed" ? noRuleMatched(step.chain) : comment
            }
        }
        flush()
        if path.verdict == .accept {
            if !sawEgress && sourceIsPod { parts.insert(toNode ? "egress to node: no AdminNetworkPolicy applies" : "egress: not isolated", at: 0) }
            if !sawIngress && destinationIsPod { parts.append("ingress: not isolated") }
        } else if !(path.steps.last?.chain.hasPrefix("np-") ?? false) {
            // Dropped outside the policy chains (a service without endpoints, a source range...).
            if let last = path.steps.last { parts.append("\(path.verdict.rawValue) by \(last.comment ?? last.chain)") }
        }
        return parts.isEmpty ? path.verdict.rawValue : parts.joined(separator: "; ")
    }

    static let selfConnection = "a pod may always reach itself"

    private static func noRuleMatched(_ chain: String) -> String {
        if chain.hasPrefix("np-admin-") { return "no AdminNetworkPolicy rule matched" }
        if chain.hasPrefix("np-base-") { return "no BaselineAdminNetworkPolicy rule matched" }
        if chain.hasPrefix("np-cnp-admin-") { return "no Admin tier rule matched" }
        if chain.hasPrefix("np-cnp-base-") { return "no Baseline tier rule matched" }
        return "no rule matched"
    }
}
