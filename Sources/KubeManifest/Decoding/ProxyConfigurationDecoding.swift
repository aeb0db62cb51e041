/// The fields of a KubeProxyConfiguration as written, before kube-proxy's version conversion picks
/// which of them counts (`masqueradeAll` lives in a different place per version and proxy mode).
private struct ProxyConfigurationDraft {
    var version2 = false
    var mode = ""
    var clusterCIDRs: [CIDR] = []
    var clusterCIDRNode: Int32?
    var nodePortAddresses: KubeProxyConfiguration.NodePortAddresses = .primary
    var hostnameOverride: String?
    /// `masqueradeAll` and `masqueradeBit` by section: `iptables`, `nftables`, `linux`.
    var masqueradeAll: [String: Bool] = [:]
    var masqueradeBit: [String: Int] = [:]
    var detectLocalMode: KubeProxyConfiguration.DetectLocalMode = .clusterCIDR
    var detectLocalModeNode: Int32?
    var bridgeInterface = ""
    var interfaceNamePrefix = ""
}

/// Top-level fields that only configure the kube-proxy process (listeners, API client, logging,
/// sync timing, sysctls) and have no counterpart in a ruleset; see docs/kube-proxy-config.md.
enum ProxyConfigurationFields {
    static let processOnly: Set<String> = [
        "apiVersion", "kind", "bindAddress", "bindAddressHardFail", "healthzBindAddress", "healthzBindAddresses",
        "healthzBindPort", "metricsBindAddress", "metricsBindAddresses", "metricsBindPort", "enableProfiling",
        "clientConnection", "configSyncPeriod", "configHardFail", "syncPeriod", "minSyncPeriod", "logging",
        "oomScoreAdj", "showHiddenMetricsForVersion", "udpIdleTimeout", "windowsRunAsService", "windows",
        "winkernel", "ipvs", "conntrack", "metadata",
    ]
    static let sectionProcessOnly: Set<String> = ["syncPeriod", "minSyncPeriod", "conntrack", "oomScoreAdj"]
}

extension ObjectDecoder {
    /// Reads a KubeProxyConfiguration as kube-proxy converts it: v1alpha1 takes `masqueradeAll` from
    /// `nftables:` in nftables mode and from `iptables:` otherwise, v1alpha2 from `linux:`; v1alpha2
    /// moved `clusterCIDR` to `detectLocal.clusterCIDRs`. Fields that change packet handling but
    /// are not honoured get a warning (an error under `--strict`).
    func decodeProxyConfiguration() -> KubeProxyConfiguration? {
        var draft = ProxyConfigurationDraft()
        if let node = field(root, "apiVersion"), string(node) == KnownKind.proxyConfigurationV1alpha2 { draft.version2 = true }
        if let node = field(root, "mode") { draft.mode = string(node) ?? "" }
        for (keyNode, value) in entries(root) {
            let name = key(keyNode)
            switch name {
            case "clusterCIDR" where !draft.version2:
                draft.clusterCIDRNode = value
                guard let text = string(value) else { continue }
                draft.clusterCIDRs = text.split(separator: ",").compactMap { part in
                    let trimmed = String(part).trimmingSpaces
                    return trimmed.isEmpty ? nil : exactCIDR(trimmed, at: value)
                }
            case "nodePortAddresses":
                draft.nodePortAddresses = nodePortAddresses(value)
            case "hostnameOverride":
                draft.hostnameOverride = nodeName(value)
            case "mode":
                proxyMode(value, draft.mode)
            case "iptables", "nftables":
                proxySection(name, value, into: &draft)
            case "linux" where draft.version2:
                proxySection(name, value, into: &draft)
            case "detectLocalMode":
                draft.detectLocalModeNode = value
                guard let text = string(value), !text.isEmpty else { continue }
                if let mode = KubeProxyConfiguration.DetectLocalMode(rawValue: text) { draft.detectLocalMode = mode } else {
                    let known = KubeProxyConfiguration.DetectLocalMode.allCases.map(\.rawValue).joined(separator: ", ")
                    error(value, "unknown detectLocalMode \(Validation.quoted(text)) (one of \(known))")
                }
            case "detectLocal":
                detectLocal(value, into: &draft)
            case "portRange":
                if let text = string(value), !text.isEmpty {
                    notHonoured(value, "is a range of host ports for the userspace proxy, not the NodePort range; not honoured")
                }
            case "featureGates":
                if isMapping(value), entries(value).contains(where: { _ in true }) {
                    notHonoured(value, "feature gates are not evaluated; rules follow the default gates")
                }
            default:
                if !ProxyConfigurationFields.processOnly.contains(name) { unknownProxyField(keyNode) }
            }
        }
        return resolve(draft)
    }

    private func resolve(_ draft: ProxyConfigurationDraft) -> KubeProxyConfiguration {
        var config = KubeProxyConfiguration(location: tree.location(root))
        config.clusterCIDRs = draft.clusterCIDRs
        if let node = draft.clusterCIDRNode { checkOnePerFamily(draft.clusterCIDRs, at: node) }
        config.nodePortAddresses = draft.nodePortAddresses
        config.hostnameOverride = draft.hostnameOverride
        let section = draft.version2 ? "linux" : (draft.mode == "nftables" ? "nftables" : "iptables")
        config.masqueradeAll = draft.masqueradeAll[section] ?? false
        config.masqueradeBit = draft.masqueradeBit[draft.mode == "nftables" || draft.version2 ? "nftables" : "iptables"] ?? 14
        config.detectLocalMode = draft.detectLocalMode
        config.bridgeInterface = draft.bridgeInterface
        config.interfaceNamePrefix = draft.interfaceNamePrefix
        if let node = draft.detectLocalModeNode {
            if draft.detectLocalMode == .bridgeInterface, draft.bridgeInterface.isEmpty {
                error(node, "BridgeInterface needs detectLocal.bridgeInterface")
            }
            if draft.detectLocalMode == .interfaceNamePrefix, draft.interfaceNamePrefix.isEmpty {
                error(node, "InterfaceNamePrefix needs detectLocal.interfaceNamePrefix")
            }
        }
        return config
    }

    /// `iptables:`, `nftables:` or (v1alpha2) `linux:`: the masquerade settings; timing and
    /// conntrack fields only configure the process.
    private func proxySection(_ section: String, _ node: Int32, into draft: inout ProxyConfigurationDraft) {
        for (keyNode, value) in entries(node) {
            let name = key(keyNode)
            switch name {
            case "masqueradeAll" where section == "linux" || !draft.version2:
                draft.masqueradeAll[section] = bool(value) ?? false
            case "masqueradeBit" where section != "linux":
                guard let bit = int(value) else { continue }
                if (0...31).contains(bit) { draft.masqueradeBit[section] = bit } else { error(value, "must be within the range [0, 31]") }
            case "localhostNodePorts" where section == "iptables":
                if bool(value) == true, draft.mode != "nftables" {
                    notHonoured(value, "NodePorts are never opened on localhost (nftables mode does not support it)")
                }
            default:
                if !ProxyConfigurationFields.sectionProcessOnly.contains(name) { unknownProxyField(keyNode) }
            }
        }
    }

    private func detectLocal(_ node: Int32, into draft: inout ProxyConfigurationDraft) {
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "bridgeInterface":
                draft.bridgeInterface = interfaceName(value, prefix: false) ?? ""
            case "interfaceNamePrefix":
                draft.interfaceNamePrefix = interfaceName(value, prefix: true) ?? ""
            case "clusterCIDRs" where draft.version2:
                draft.clusterCIDRNode = value
                draft.clusterCIDRs = items(value).compactMap { item in string(item).flatMap { exactCIDR($0, at: item) } }
            default:
                unknownProxyField(keyNode)
            }
        }
    }

    /// kube-proxy compiles nftables rules in `nftables` mode only; any other mode is read as if it were.
    private func proxyMode(_ node: Int32, _ mode: String) {
        switch mode {
        case "nftables": break
        case "", "iptables":
            notHonoured(node, "mode \(Validation.quoted(mode)) (iptables on Linux) is compiled as nftables mode: NodePorts default to the primary address and never open on localhost")
        default:
            notHonoured(node, "mode \(Validation.quoted(mode)) is not honoured; kubenft compiles nftables-mode rules")
        }
    }

    /// A Linux interface name (or prefix) that is also safe inside an nft string: letters, digits,
    /// `.`, `_` and `-`, at most 15 bytes (14 for a prefix, which gets a `*`).
    private func interfaceName(_ node: Int32, prefix: Bool) -> String? {
        guard let text = string(node), !text.isEmpty else { return nil }
        let limit = prefix ? 14 : 15
        let safe = text.unicodeScalars.allSatisfy { scalar in
            (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "." || scalar == "_" || scalar == "-"
        }
        guard safe, text.utf8.count <= limit else {
            error(node, "invalid interface name \(Validation.quoted(text)): at most \(limit) of letters, digits, '.', '_', '-'")
            return nil
        }
        return text
    }

    /// `primary` (alone) or a list of CIDRs; empty or null means `primary`, nftables mode's default.
    private func nodePortAddresses(_ node: Int32) -> KubeProxyConfiguration.NodePortAddresses {
        let entries = Array(items(node))
        let texts = entries.map { string($0) }
        if texts.contains("primary") {
            if entries.count > 1, let index = texts.firstIndex(of: "primary") {
                error(entries[index], "\"primary\" must be the only entry")
            }
            return .primary
        }
        guard !entries.isEmpty else { return .primary }
        var prefixes: [CIDR] = []
        for (item, text) in zip(entries, texts) {
            guard let text, let prefix = exactCIDR(text, at: item) else { continue }
            // An all-addresses prefix means "every local address", loopback excluded without comment.
            if prefix.prefixLength > 0, prefix.overlapsLoopback {
                notHonoured(item, "NodePorts are never opened on loopback addresses (nftables mode does not support localhost NodePorts)")
            }
            prefixes.append(prefix)
        }
        return .cidrs(prefixes)
    }

    /// kube-proxy refuses more than one CIDR per family (it takes a dual-stack pair); kubenft can
    /// use them all, and says that it differs.
    private func checkOnePerFamily(_ cidrs: [CIDR], at node: Int32) {
        for family in IPFamily.allCases where cidrs.filter({ $0.family == family }).count > 1 {
            warning(node, "kube-proxy accepts one \(family.rawValue) CIDR here (a dual-stack pair); kubenft uses every one listed")
        }
    }

    /// A prefix with no host bits set: in a node's own configuration a stray host bit is a typo
    /// that would silently widen the range.
    private func exactCIDR(_ text: String, at node: Int32) -> CIDR? {
        guard let prefix = cidr(text, at: node) else { return nil }
        guard text.split(separator: "/").first.flatMap({ IPAddress($0) }) == prefix.address else {
            error(node, "\(Validation.quoted(text)) has host bits set; did you mean \(prefix)?")
            return nil
        }
        return prefix
    }

    /// A field that changes packet handling in kube-proxy but not in kubenft's rules.
    private func notHonoured(_ node: Int32, _ reason: String) {
        report(options.strict ? .error : .warning, field: tree.path(to: node, from: root), at: node, reason)
    }

    private func unknownProxyField(_ keyNode: Int32) {
        report(options.strict ? .error : .warning, field: tree.path(to: keyNode, from: root), at: keyNode,
               "unknown field \(Validation.quoted(tree.string(keyNode))), not honoured")
    }
}

extension CIDR {
    /// True when the prefix contains loopback addresses (127.0.0.0/8, ::1) or lies inside them.
    var overlapsLoopback: Bool {
        guard let loopback = family == .v4 ? CIDR("127.0.0.0/8") : CIDR("::1/128") else { return false }
        return contains(loopback.address) || loopback.contains(address)
    }
}
