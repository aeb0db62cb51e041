extension ObjectDecoder {
    /// Works out `Kind ns/name` before anything else is decoded, so that every diagnostic of the
    /// object carries it whatever order the keys come in.
    mutating func prepareLabel(kind: KnownKind) {
        self.kind = kind
        (nameNode, namespace) = labelParts(kind: kind)
        labelled = true
    }

    /// The name node and the defaulted namespace, read without mutating (so the tree is
    /// borrowed, not copied).
    private func labelParts(kind: KnownKind) -> (Int32?, String) {
        var namespace = ""
        var nameNode: Int32?
        if let metadata = field(root, "metadata"), tree.node(metadata).kind == .mapping {
            if let node = field(metadata, "name"), tree.node(node).kind == .scalar, tree.scalarType(node) == .string {
                nameNode = node
            }
            if kind.isNamespaced, let node = field(metadata, "namespace"), tree.node(node).kind == .scalar,
               tree.scalarType(node) == .string {
                namespace = tree.string(node)
            }
        }
        if kind.isNamespaced, namespace.isEmpty { namespace = "default" }
        return (nameNode, namespace)
    }

    /// `Kind ns/name` (`Kind name` for cluster-scoped kinds, `Kind` without a name). An invalid
    /// name or namespace is shown quoted and escaped, so no diagnostic can carry it raw.
    static func label(kind: KnownKind, namespace: String, name: String) -> String {
        guard !name.isEmpty else { return kind.rawValue }
        let shownName = kind.nameProblem(name) == nil ? name : Validation.quoted(name)
        guard !namespace.isEmpty else { return "\(kind.rawValue) \(shownName)" }
        let shownNamespace = Validation.dnsLabelProblem(namespace) == nil ? namespace : Validation.quoted(namespace)
        return "\(kind.rawValue) \(shownNamespace)/\(shownName)"
    }

    /// True when the apiVersion is the one kubenft understands for the kind.
    func checkAPIVersion(kind: KnownKind, inherited: String?) -> Bool {
        guard let node = field(root, "apiVersion") else {
            if let inherited, kind.accepts(inherited) { return true }
            missing("apiVersion", in: root)
            return false
        }
        guard let version = string(node) else { return false }
        guard kind.accepts(version) else {
            error(node, "unknown apiVersion \(Validation.quoted(version)) for kind \(kind.rawValue)")
            return false
        }
        return true
    }

    /// `metadata`, validated; nil (after reporting) when the object has no usable name.
    func decodeMeta(nameRequired: Bool = true) -> ObjectMeta? {
        var meta = ObjectMeta(name: "", namespace: namespace, location: tree.location(root))
        guard let metadata = field(root, "metadata"), isMapping(metadata) else {
            if nameRequired { missing("metadata.name", in: root) }
            return nameRequired ? nil : meta
        }
        var valid = true
        for (keyNode, value) in entries(metadata) {
            switch name(keyNode) {
            case "name":
                guard let name = string(value) else { valid = false; continue }
                if name.isEmpty { continue }
                if let problem = kind.nameProblem(name) {
                    error(value, "invalid name \(Validation.quoted(name)): \(problem)")
                    valid = false
                }
                meta.name = name
            case "namespace":
                guard let text = string(value), !text.isEmpty, kind.isNamespaced else { continue }
                if let problem = Validation.dnsLabelProblem(text) {
                    error(value, "invalid namespace \(Validation.quoted(text)): \(problem)")
                    valid = false
                }
            case "labels":
                meta.labels = stringMap(value, as: .labels)
            case "annotations":
                meta.annotations = stringMap(value, as: .annotations)
                for (annotationKey, annotationValue) in entries(value) where key(annotationKey).hasPrefix("kubenft.io/") {
                    meta.annotationLocations[key(annotationKey)] = tree.location(annotationValue)
                }
            default:
                break
            }
        }
        if nameRequired, meta.name.isEmpty {
            if let nameNode = field(metadata, "name") {
                if tree.node(nameNode).kind == .scalar, tree.scalarType(nameNode) == .string { error(nameNode, "must not be empty") }
            } else {
                missing("name", in: metadata)
            }
            return nil
        }
        return valid ? meta : nil
    }

    /// A `LabelSelector` (`matchLabels` and `matchExpressions`), validated like the API server does.
    /// Any other key is an error even without `--strict`: dropping it would leave a selector that
    /// selects more than its author meant (e.g. an old AdminNetworkPolicy `sameLabels` read as "every
    /// namespace"), and kubectl's default strict field validation refuses it too.
    func labelSelector(_ node: Int32) -> LabelSelector {
        var selector = LabelSelector()
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "matchLabels":
                selector.matchLabels = stringMap(value, as: .labels)
            case "matchExpressions":
                for item in items(value) {
                    if let requirement = selectorRequirement(item) { selector.matchExpressions.append(requirement) }
                }
            default:
                report(.error, field: tree.path(to: keyNode, from: root), at: keyNode,
                       "unknown field \(Validation.quoted(key(keyNode))) in a label selector (only matchLabels and matchExpressions)")
            }
        }
        return selector
    }

    private func selectorRequirement(_ node: Int32) -> LabelSelector.Requirement? {
        var key: String?
        var op: LabelSelector.Operator?
        var values: [String] = []
        var valuesNode: Int32?
        var valid = true
        for (keyNode, value) in entries(node) {
            switch self.key(keyNode) {
            case "key":
                key = string(value)
                if let text = key, !text.isEmpty, let problem = Validation.qualifiedNameProblem(text) {
                    error(value, "invalid key \(Validation.quoted(text)): \(problem)")
                    valid = false
                }
            case "operator":
                guard let text = string(value) else { valid = false; continue }
                op = LabelSelector.Operator(rawValue: text)
                if op == nil {
                    error(value, "unsupported operator \(Validation.quoted(text)), must be In, NotIn, Exists or DoesNotExist")
                    valid = false
                }
            case "values":
                valuesNode = value
                for item in items(value) {
                    guard let text = string(item) else { valid = false; continue }
                    if let problem = Validation.labelValueProblem(text) {
                        error(item, "invalid label value \(Validation.quoted(text)): \(problem)")
                        valid = false
                    }
                    values.append(text)
                }
            default:
                unknownField(keyNode)
            }
        }
        if tree.node(node).kind == .mapping || tree.isNull(node) {
            if key?.isEmpty ?? true { missing("key", in: node); valid = false }
            if op == nil, valid, field(node, "operator") == nil { missing("operator", in: node); valid = false }
        }
        guard valid, let key, let op else { return nil }
        switch op {
        case .in where values.isEmpty, .notIn where values.isEmpty:
            valuesProblem(valuesNode, in: node, "must be non-empty when operator is \(op.rawValue)")
            return nil
        case .exists where !values.isEmpty, .doesNotExist where !values.isEmpty:
            valuesProblem(valuesNode, in: node, "must be empty when operator is \(op.rawValue)")
            return nil
        default:
            return LabelSelector.Requirement(key: key, operator: op, values: values)
        }
    }

    private func valuesProblem(_ valuesNode: Int32?, in requirement: Int32, _ reason: String) {
        if let valuesNode {
            error(valuesNode, reason)
        } else {
            let parent = tree.path(to: requirement, from: root)
            report(.error, field: parent.isEmpty ? "values" : parent + ".values", at: requirement, reason)
        }
    }
}

extension KnownKind {
    /// Why `name` cannot name an object of this kind, by the rule the API server applies to it.
    func nameProblem(_ name: String) -> String? {
        switch self {
        case .service: return Validation.dns1035LabelProblem(name)
        case .namespace: return Validation.dnsLabelProblem(name)
        case .kubeProxyConfiguration: return nil
        default: return Validation.dnsSubdomainProblem(name)
        }
    }
}
