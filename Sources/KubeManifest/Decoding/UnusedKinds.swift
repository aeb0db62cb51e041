/// Objects of kinds kubenft does not read. Policy kinds it cannot enforce are errors — a policy that
/// cannot be compiled must never turn into an allow — and so is an unrendered kustomization (what
/// it deploys is not in the input); every other kind gets one warning (an error under `--strict`)
/// naming it, how many objects were skipped and where the first one is.
struct UnusedKinds {
    private struct Entry {
        var location: SourceLocation
        var count: Int
    }

    private var entries: [String: Entry] = [:]

    /// Kinds that restrict traffic and that kubenft cannot compile, by kind name: their presence
    /// means the ruleset would allow what the cluster denies.
    static let unsupportedPolicyKinds: [String: String] = [
        "CiliumNetworkPolicy": "Cilium's policy API is not supported",
        "CiliumClusterwideNetworkPolicy": "Cilium's policy API is not supported",
        "GlobalNetworkPolicy": "Calico's policy API is not supported",
    ]

    static func note(kind: String, root: Int32, in tree: NodeTree, sink: LoadSink, inheritedVersion: String?) {
        let decoder = ObjectDecoder(tree: tree, root: root, sink: sink)
        let version = decoder.field(root, "apiVersion").flatMap { tree.scalarType($0) == .string ? tree.string($0) : nil }
            ?? inheritedVersion ?? ""
        if version.hasPrefix("kustomize.config.k8s.io/"), kind == "Kustomization" || kind == "Component" {
            let object = "\(Validation.quoted(kind)) (\(Validation.quoted(version)))"
            sink.diagnostics.append(Diagnostic(at: tree.location(root), object: nil, field: "kind",
                                               reason: "\(object): a kustomization is not rendered, so what it deploys (its patches, "
                                                   + "names, namespaces, labels and generated objects) is not in this input; "
                                                   + "give kubenft the output of `kubectl kustomize` instead"))
            return
        }
        if let reason = unsupportedPolicyKinds[kind] {
            let object = "\(Validation.quoted(kind)) (\(Validation.quoted(version)))"
            sink.diagnostics.append(Diagnostic(at: tree.location(root), object: nil, field: "kind",
                                               reason: "\(object): \(reason); refusing to compile without it"))
            return
        }
        let key = "\(version)\u{0}\(kind)"
        if sink.unusedKinds.entries[key] == nil {
            sink.unusedKinds.entries[key] = Entry(location: tree.location(root), count: 0)
        }
        sink.unusedKinds.entries[key]?.count += 1
    }

    /// Adds the counts of a later part of the input; a kind's first object stays the earliest.
    mutating func merge(_ later: UnusedKinds) {
        for (key, entry) in later.entries {
            if let known = entries[key] {
                entries[key]?.count = known.count + entry.count
            } else {
                entries[key] = entry
            }
        }
    }

    /// One warning per kind, in a stable order.
    func warnings() -> [Diagnostic] {
        entries.sorted { $0.key < $1.key }.map { key, entry in
            let parts = key.split(separator: "\u{0}", omittingEmptySubsequences: false).map(String.init)
            let version = parts.first ?? "", kind = parts.last ?? ""
            let count = entry.count == 1 ? "1 object" : "\(entry.count) objects"
            return Diagnostic(.warning, at: entry.location, object: nil, field: "kind",
                              reason: "kind \(Validation.quoted(kind)) (\(Validation.quoted(version))) is not used by kubenft: \(count) skipped")
        }
    }
}
