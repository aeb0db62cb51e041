extension ObjectDecoder {
    /// A ServiceCIDR's `spec.cidrs`: one or two prefixes, at most one per family, without host bits
    /// (the API server's rules). `status` only reports conditions and is not needed.
    func decodeServiceCIDR() -> ServiceCIDR? {
        guard let meta = decodeMeta() else { return nil }
        var result = ServiceCIDR(meta: meta)
        for (keyNode, value) in entries(root) {
            switch key(keyNode) {
            case "spec":
                for (specKey, specValue) in entries(value) {
                    switch key(specKey) {
                    case "cidrs": result.cidrs = serviceCIDRList(specValue)
                    default: unknownField(specKey)
                    }
                }
            case "status":
                break
            default:
                checkTopLevel(keyNode)
            }
        }
        return result
    }

    private func serviceCIDRList(_ node: Int32) -> [CIDR] {
        var result: [CIDR] = []
        for item in items(node) {
            guard let text = string(item), let prefix = cidr(text, at: item) else { continue }
            guard text.split(separator: "/").first.flatMap({ IPAddress($0) }) == prefix.address else {
                error(item, "\(Validation.quoted(text)) has host bits set; did you mean \(prefix)?")
                continue
            }
            if result.contains(where: { $0.family == prefix.family }) {
                error(item, "at most one CIDR per IP family")
                continue
            }
            result.append(prefix)
        }
        if result.count == 0, tree.node(node).kind == .sequence, items(node).contains(where: { _ in true }) == false {
            error(node, "must list at least one CIDR")
        }
        return result
    }
}
