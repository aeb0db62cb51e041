/// The figures the NetworkPolicy and diff parts are judged against. The wording of the requirement
/// is "well under a second" to compile, "a few seconds" to load and to diff; read here as ≤ 0.5 s,
/// ≤ 5 s and ≤ 5 s.
enum PolicyTargets {
    static let compileSeconds = 0.5
    static let kernelLoadSeconds = 5.0
    static let diffSeconds = 5.0
}

/// Renders the NetworkPolicy scenarios and the diff results as markdown tables.
struct PolicyMarkdown {
    var reports: [PolicyReport]

    func render() -> String {
        stageTable() + "\n" + sizeTable() + "\n" + kernelTable() + "\n" + pathTable() + failures()
    }

    private var rows: [(PolicyReport, PolicyStageResult)] {
        reports.flatMap { report in report.stages.map { (report, $0) } }
    }

    private func stageTable() -> String {
        var out = "### NetworkPolicy: ingest, compile, emit, memory\n\n"
        out += "| scenario | enforced on | input | objects | ingest | compile | target ≤ \(MarkdownReport.fixed(PolicyTargets.compileSeconds, 1)) s "
        out += "| emit text | peak RSS |\n|---|---|---:|---:|---:|---:|---|---:|---:|\n"
        for (report, stage) in rows {
            let errors = stage.errors > 0 ? " (\(stage.errors) errors: \(stage.firstError ?? ""))" : ""
            out += "| \(report.scenario.label) | \(stage.node) | \(megabytes(stage.inputBytes)) MB | \(stage.objects)\(errors) "
            out += "| \(MarkdownReport.seconds(stage.loadSeconds)) | \(MarkdownReport.seconds(stage.compileSeconds)) "
            out += "| \(MarkdownReport.verdict(stage.compileSeconds, atMost: PolicyTargets.compileSeconds)) "
            out += "| \(MarkdownReport.seconds(stage.emitTextSeconds)) (\(megabytes(stage.textBytes)) MB) "
            out += "| \(stage.peakRSSBytes.map { MarkdownReport.fixed(Double($0) / 1e6, 0) + " MB" } ?? "n/a") |\n"
        }
        return out
    }

    private func sizeTable() -> String {
        var out = "### NetworkPolicy: ruleset size (whole table; `np-` = the policy part)\n\n"
        out += "| scenario | enforced on | chains | rules | sets | elements | enforced pods | np chains | np rules | np sets | np set elements |\n"
        out += "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for (report, stage) in rows {
            let paths = stage.paths
            out += "| \(report.scenario.label) | \(stage.node) | \(stage.chains) | \(stage.rules) | \(stage.sets) | \(stage.setElements) "
            out += "| \(paths.enforcedPods) | \(paths.groupChains) | \(paths.groupRules) | \(paths.policySets) | \(paths.policySetElements) |\n"
        }
        return out
    }

    private func kernelTable() -> String {
        var out = "### NetworkPolicy: kernel load (`nft -f` in a fresh network namespace)\n\n"
        out += "| scenario | enforced on | text | wall (user, sys) | target ≤ \(MarkdownReport.fixed(PolicyTargets.kernelLoadSeconds, 0)) s |\n"
        out += "|---|---|---:|---:|---|\n"
        for (report, stage) in rows {
            out += "| \(report.scenario.label) | \(stage.node) | \(megabytes(stage.textBytes)) MB | "
            guard let load = report.loads[stage.node] else {
                out += "skipped: \(report.kernelSkipped ?? "no ruleset") | |\n"
                continue
            }
            out += load.ok ? MarkdownReport.load(load) : "failed: \(load.error ?? "?")"
            out += " | " + (load.ok ? MarkdownReport.verdict(load.wallSeconds, atMost: PolicyTargets.kernelLoadSeconds) : "") + " |\n"
        }
        return out
    }

    /// Rules a new connection can traverse, against the baseline of the first scenario with the same
    /// pod count and node (the fewest policies), measured in the same run.
    private func pathTable() -> String {
        var out = "### NetworkPolicy: rules on a new connection's path\n\n"
        out += "Worst path = the rules of `policy-forward` + the longest egress group chain + the longest ingress group chain "
        out += "(two verdict-map lookups pick the chains). *All np rules* is what one linear chain of every policy would hold.\n\n"
        out += "| scenario | enforced on | policy-forward | longest egress | longest ingress | mean egress / ingress "
        out += "| worst path | all np rules | worst ÷ all | policies vs baseline | worst path vs baseline |\n"
        out += "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for (report, stage) in rows {
            let paths = stage.paths
            let baseline = rows.first { $0.1.scenario.pods == stage.scenario.pods && $0.1.node == stage.node }
            let share = paths.groupRules > 0 ? Double(paths.worstPath) / Double(paths.groupRules) : 0
            var versus = "(baseline)", pathRatio = "(baseline)"
            if let baseline, baseline.1.scenario != stage.scenario, baseline.1.paths.worstPath > 0 {
                versus = MarkdownReport.fixed(Double(stage.scenario.policies) / Double(baseline.1.scenario.policies), 1) + "×"
                pathRatio = MarkdownReport.fixed(Double(paths.worstPath) / Double(baseline.1.paths.worstPath), 2) + "×"
            }
            out += "| \(report.scenario.label) | \(stage.node) | \(paths.forwardRules) | \(paths.maxEgressChain) | \(paths.maxIngressChain) "
            out += "| \(MarkdownReport.fixed(paths.meanEgressChain, 1)) / \(MarkdownReport.fixed(paths.meanIngressChain, 1)) "
            out += "| \(paths.worstPath) | \(paths.groupRules) | \(MarkdownReport.fixed(share * 100, 2)) % | \(versus) | \(pathRatio) |\n"
        }
        return out
    }

    private func failures() -> String {
        let list = reports.flatMap { report in report.failures.map { "\(report.scenario.label): \($0)" } }
        return list.isEmpty ? "" : "\nFailures:\n" + list.map { "- \($0)\n" }.joined()
    }

    static func diffTable(_ diffs: [DiffResult]) -> String {
        var out = "### Diff: `ChangeAnalysis.compare` after two `Pipeline.run`s (compiled for node-1)\n\n"
        out += "| scenario | change | input (each) | Pipeline.run before / after | compare | target ≤ \(MarkdownReport.fixed(PolicyTargets.diffSeconds, 0)) s "
        out += "| allowed / blocked | service changes | object changes | peak RSS |\n"
        out += "|---|---|---:|---:|---:|---|---:|---:|---:|---:|\n"
        for diff in diffs {
            let compare: String, verdict: String
            if let seconds = diff.compareSeconds {
                compare = MarkdownReport.seconds(seconds)
                verdict = MarkdownReport.verdict(seconds, atMost: PolicyTargets.diffSeconds)
            } else if diff.timedOut == true {
                compare = "not finished"
                verdict = "missed (stopped at the time limit)"
            } else {
                compare = "failed"
                verdict = diff.error ?? "?"
            }
            let counts = diff.allowed.map { "\($0) / \(diff.blocked ?? 0)" } ?? "n/a"
            out += "| \(diff.scenario.label) | \(diff.change) | \(megabytes(diff.inputBytes)) MB "
            out += "| \(MarkdownReport.seconds(diff.beforeSeconds)) / \(MarkdownReport.seconds(diff.afterSeconds)) "
            out += "| \(compare) | \(verdict) | \(counts) | \(diff.serviceChanges.map(String.init) ?? "n/a") "
            out += "| \(diff.objectChanges.map(String.init) ?? "n/a") "
            out += "| \(diff.peakRSSBytes.map { MarkdownReport.fixed(Double($0) / 1e6, 0) + " MB" } ?? "n/a") |\n"
        }
        return out
    }
}
