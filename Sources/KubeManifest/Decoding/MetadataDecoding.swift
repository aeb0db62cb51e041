extension ObjectDecoder {
    /// Works out `Kind ns/name` before anything else is decoded, so that every diagnostic of the
    /// object carries it whatever order the keys come in.
    mutating func prepareLabel(kind: KnownKind) {
        self.kind = kind
        var name = ""
        var namespace = ""
        if let metadata = tree.value(root, "metadata"), tree.node(metadata).kind == .mapping {
            if let node = tree.value(metadata, "name"), tree.node(node).kind == .scalar, tree.scalarType(node) == .string {
                name = tree.string(node)
            }
            if let node = tree.value(metadata, "namespace"), tree.node(node).kind == .scalar,
               tree.scalarType(node) == .string {
                namespace = tree.string(node)
            }
        }
        if kind.isNamespaced, namespace.isEmpty { namespace = "default" }
        if !kind.isNamespaced { namespace = "" }
        self.namespace = namespace
        if name.isEmpty {
            label = kind.rawValue
        } else {
            label = namespace.isEmpty ? "\(kind.rawValue) \(name)" : "\(kind.rawValue) \(namespace)/\(name)"
        }
    }

    /// True when the apiVersion is the one kubenft understands for the kind.
    func checkAPIVersion(kind: KnownKind, inherited: String?) -> Bool {
        guard let node = tree.value(root, "apiVersion") else {
            if let inherited, inherited == kind.apiVersion { return true }
            missing("apiVersion", in: root)
            return false
        }
        guard let version = string(node) else {
            if tree.isNull(node) { missing("apiVersion", in: root) }
            return false
        }
        guard version == kind.apiVersion else {
            error(node, "unknown apiVersion \"\(version)\" for kind \(kind.rawValue)")
            return false
        }
        return true
    }

    /// `metadata`, validated; nil (after reporting) when the object has no usable name.
    func decodeMeta(nameRequired: Bool = true) -> ObjectMeta? {
        var meta = ObjectMeta(name: "", namespace: namespace, location: tree.location(root))
        guard let metadata = tree.value(root, "metadata"), isMapping(metadata) else {
            if nameRequired { missing("metadata.name", in: root) }
            return nameRequired ? nil : meta
        }
        var hasName = false
        for (keyNode, value) in tree.entries(metadata) {
            switch key(keyNode) {
            case "name":
                if let name = string(value), !name.isEmpty {
                    meta.name = name
                    hasName = true
                }
            case "namespace":
                _ = string(value)
            case "labels":
                meta.labels = stringMap(value)
            case "annotations":
                meta.annotations = stringMap(value)
                for (annotationKey, annotationValue) in entries(value) where key(annotationKey).hasPrefix("kubenft.io/") {
                    meta.annotationLocations[key(annotationKey)] = tree.location(annotationValue)
                }
            default:
                break
            }
        }
        if nameRequired, !hasName {
            if let nameNode = tree.value(metadata, "name"), tree.node(nameNode).kind == .scalar,
               tree.scalarType(nameNode) == .string || tree.isNull(nameNode) {
                error(nameNode, "must not be empty")
            } else if tree.value(metadata, "name") == nil {
                missing("name", in: metadata)
            }
            return nil
        }
        return meta
    }

    /// A `LabelSelector` (`matchLabels` and `matchExpressions`), validated like the API server does.
    func labelSelector(_ node: Int32) -> LabelSelector {
        var selector = LabelSelector()
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "matchLabels":
                selector.matchLabels = stringMap(value)
            case "matchExpressions":
                for item in items(value) {
                    if let requirement = selectorRequirement(item) { selector.matchExpressions.append(requirement) }
                }
            default:
                unknownField(keyNode)
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
            case "operator":
                guard let text = string(value) else { valid = false; continue }
                op = LabelSelector.Operator(rawValue: text)
                if op == nil {
                    error(value, "unsupported operator \"\(text)\", must be In, NotIn, Exists or DoesNotExist")
                    valid = false
                }
            case "values":
                valuesNode = value
                values = strings(value)
            default:
                unknownField(keyNode)
            }
        }
        if tree.node(node).kind == .mapping {
            if key?.isEmpty ?? true { missing("key", in: node); valid = false }
            if op == nil, valid, tree.value(node, "operator") == nil { missing("operator", in: node); valid = false }
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
