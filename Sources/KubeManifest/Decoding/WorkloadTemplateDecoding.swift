/// Decoding of the controllers that create pods from a template. The template's pod spec goes
/// through the same code as a Pod's (`decodePodSpec`), so container ports, init-container sidecars
/// and hostNetwork follow the Pod rules; selectors and labels are validated as the API server does.
extension ObjectDecoder {
    func decodeWorkload() -> Workload? {
        guard let workloadKind = Workload.Kind(rawValue: kind.rawValue), let meta = decodeMeta() else { return nil }
        let templateMeta = ObjectMeta(name: meta.name, namespace: meta.namespace, location: meta.location)
        var workload = Workload(kind: workloadKind, meta: meta, template: Pod(meta: templateMeta))
        workload.controller = controllerReference()
        var valid = true
        var sawSpec = false
        for (keyNode, value) in entries(root) {
            switch key(keyNode) {
            case "spec":
                sawSpec = true
                valid = decodeWorkloadSpec(value, kind: workloadKind, into: &workload) && valid
            default:
                checkTopLevel(keyNode)
            }
        }
        if !sawSpec { missing("spec", in: root); return nil }
        return valid ? workload : nil
    }

    /// The controlling entry of `metadata.ownerReferences`, which tells whose pods these are.
    func controllerReference() -> ObjectReference? {
        guard let metadata = field(root, "metadata"), tree.node(metadata).kind == .mapping,
              let list = field(metadata, "ownerReferences") else { return nil }
        var result: ObjectReference?
        for item in items(list) where isMapping(item) {
            var kind = "", name = "", isController = false
            for (keyNode, value) in entries(item) {
                switch self.name(keyNode) {
                case "kind": kind = string(value) ?? ""
                case "name": name = string(value) ?? ""
                case "controller": isController = bool(value) ?? false
                default: break
                }
            }
            if kind.isEmpty { missing("kind", in: item); continue }
            if name.isEmpty { missing("name", in: item); continue }
            if isController, result == nil { result = ObjectReference(kind: kind, namespace: namespace, name: name) }
        }
        return result
    }

    /// The spec of one controller kind; a CronJob's `jobTemplate.spec` is read as a Job's spec.
    private func decodeWorkloadSpec(_ node: Int32, kind: Workload.Kind, into workload: inout Workload) -> Bool {
        var selector: LabelSelector?
        var selectorNode: Int32?
        var templateNode: Int32?
        var valid = true
        for (keyNode, value) in entries(node) {
            let name = key(keyNode)
            switch name {
            case "jobTemplate" where kind == .cronJob:
                guard isMapping(value) else { return false }
                guard let jobSpec = field(value, "spec") else { missing("spec", in: value); return false }
                return decodeWorkloadSpec(jobSpec, kind: .job, into: &workload)
            case "template" where kind != .cronJob:
                templateNode = value
            case "selector" where kind != .cronJob:
                selectorNode = value
                if kind == .replicationController {
                    selector = LabelSelector(matchLabels: stringMap(value))
                } else if isMapping(value) {
                    selector = labelSelector(value)
                }
            case "serviceName" where kind == .statefulSet:
                guard let text = string(value) else { valid = false; continue }
                guard !text.isEmpty else { continue }
                if let problem = Validation.dnsLabelProblem(text) {
                    error(value, "invalid serviceName \(Validation.quoted(text)): \(problem)")
                    valid = false
                    continue
                }
                workload.serviceName = text
            case "replicas" where [.deployment, .statefulSet, .replicaSet, .replicationController].contains(kind),
                 "parallelism" where kind == .job:
                guard let count = int(value) else { valid = false; continue }
                guard count >= 0 else { error(value, "must be greater than or equal to 0"); valid = false; continue }
                workload.replicas = count
            default:
                if !WorkloadFields.spec(kind).contains(name) { unknownField(keyNode) }
            }
        }
        if kind == .cronJob { missing("jobTemplate", in: node); return false }
        guard let templateNode else { missing("template", in: node); return false }
        valid = decodeTemplate(templateNode, into: &workload.template) && valid
        return checkSelector(selector, at: selectorNode, in: node, kind: kind, labels: workload.template.meta.labels) && valid
    }

    /// `template.metadata.labels` and `template.spec`, decoded as a Pod's.
    private func decodeTemplate(_ node: Int32, into pod: inout Pod) -> Bool {
        guard isMapping(node) else { return false }
        var sawSpec = false
        for (keyNode, value) in entries(node) {
            switch key(keyNode) {
            case "metadata":
                for (metaKey, metaValue) in entries(value) {
                    switch key(metaKey) {
                    case "labels": pod.meta.labels = stringMap(metaValue, as: .labels)
                    case "annotations": _ = stringMap(metaValue, as: .annotations)
                    default: break
                    }
                }
            case "spec":
                sawSpec = true
                decodePodSpec(value, into: &pod)
            default:
                unknownField(keyNode)
            }
        }
        if !sawSpec { missing("spec", in: node) }
        return sawSpec
    }

    /// apps/v1 controllers need a non-empty selector; every given selector must match the
    /// template's labels, or the controller would never own the pods it creates.
    private func checkSelector(_ selector: LabelSelector?, at selectorNode: Int32?, in spec: Int32, kind: Workload.Kind,
                               labels: [String: String]) -> Bool {
        let required = [.deployment, .statefulSet, .daemonSet, .replicaSet].contains(kind)
        guard let selector, let selectorNode else {
            if required { missing("selector", in: spec) }
            return !required
        }
        if required, selector.isEmpty {
            error(selectorNode, "must not be empty")
            return false
        }
        if !selector.matches(labels) {
            error(selectorNode, "does not match the template's labels")
            return false
        }
        return true
    }
}

/// Spec fields of each controller kind that kubenft does not need but must not flag under `--strict`.
enum WorkloadFields {
    static func spec(_ kind: Workload.Kind) -> Set<String> {
        switch kind {
        case .deployment: return ["minReadySeconds", "paused", "progressDeadlineSeconds", "revisionHistoryLimit", "strategy"]
        case .statefulSet:
            return ["minReadySeconds", "ordinals", "persistentVolumeClaimRetentionPolicy", "podManagementPolicy",
                    "revisionHistoryLimit", "serviceName", "updateStrategy", "volumeClaimTemplates"]
        case .daemonSet: return ["minReadySeconds", "revisionHistoryLimit", "updateStrategy"]
        case .replicaSet, .replicationController: return ["minReadySeconds"]
        case .job:
            return ["activeDeadlineSeconds", "backoffLimit", "backoffLimitPerIndex", "completionMode", "completions",
                    "managedBy", "manualSelector", "maxFailedIndexes", "podFailurePolicy", "podReplacementPolicy",
                    "successPolicy", "suspend", "ttlSecondsAfterFinished"]
        case .cronJob:
            return ["concurrencyPolicy", "failedJobsHistoryLimit", "schedule", "startingDeadlineSeconds",
                    "successfulJobsHistoryLimit", "suspend", "timeZone"]
        }
    }
}
