import Foundation
import KubeNFT
#if canImport(Glibc)
import Glibc
#endif

/// One diff measurement: two `Pipeline.run`s, then `ChangeAnalysis.compare` of their results.
struct DiffResult: Codable {
    var scenario: PolicyScenario
    /// "small" (one policy widened, one endpoint added, one NodePort moved) or "namespace-wide".
    var change: String
    /// True for repository-style input (Deployments, Services without clusterIP), derived by kubenft.
    var declared: Bool?
    var inputBytes: Int
    var pods: Int
    /// Workload objects (Deployments) in the declared input; nil for runtime dumps.
    var workloads: Int?
    var beforeSeconds: Double
    var afterSeconds: Double
    /// Nil while the comparison has not finished (the child prints a line after the pipelines).
    var compareSeconds: Double?
    /// Both pipelines, run side by side as `kubenft diff` runs them (wall clock).
    var pipelinesSeconds: Double?
    /// Coverage and lint warnings of the new version, as `kubenft diff` prints them.
    var lintSeconds: Double?
    var warnings: Int?
    var allowed: Int?
    var blocked: Int?
    var serviceChanges: Int?
    var objectChanges: Int?
    var peakRSSBytes: Int?
    var error: String?
    /// Set by the parent when the child was stopped at the time limit.
    var timedOut: Bool?
}

/// `run-diff`: writes the two clusters, runs the pipeline on both and compares them. Prints one JSON
/// line after the pipelines and another when the comparison is done, so a child stopped at the time
/// limit still reports its pipeline times.
struct DiffRunner {
    var scenario: PolicyScenario
    var change: String
    var directory: String
    var timeLimit: Int
    var declared = false
    /// Leaves before.yaml and after.yaml in the directory, to time `kubenft diff` on them.
    var keep = false

    func run() throws(BenchError) {
        let plan = PolicyClusterPlan(scenario)
        let before = directory + "/before.yaml", after = directory + "/after.yaml"
        let changes: ClusterChange = change == "namespace-wide" ? .widenNamespaceWide : .small
        guard let size = PolicyObjectFactory(plan: plan, declared: declared).write(to: before),
              PolicyObjectFactory(plan: plan, change: changes, declared: declared).write(to: after) != nil else {
            throw BenchError("cannot write the diff inputs in \(directory)")
        }
        defer {
            if !keep {
                try? FileManager.default.removeItem(atPath: before)
                try? FileManager.default.removeItem(atPath: after)
            }
        }
        measure(before, after, size)
    }

    /// The steps of `kubenft diff`: both pipelines (side by side, as the command runs them), the
    /// coverage and lint warnings of the new version, then the comparison.
    private func measure(_ before: String, _ after: String, _ size: Int) {
        let node = NodeOptions(nodeName: ClusterPlan.nodeName, clusterCIDRs: [ClusterPlan.clusterCIDR])
        // Each version alone, then both side by side as `kubenft diff` runs them.
        let (_, oldSeconds) = Clock.measure { Pipeline.run(paths: [before], node: node) }
        let (_, newSeconds) = Clock.measure { Pipeline.run(paths: [after], node: node) }
        let ((old, new), pipelineSeconds) = Clock.measure { Review.pipelines(before: [before], after: [after], node: node) }
        var result = DiffResult(scenario: scenario, change: change, declared: declared ? true : nil, inputBytes: size,
                                pods: new.cluster.pods.count, beforeSeconds: oldSeconds, afterSeconds: newSeconds)
        result.pipelinesSeconds = pipelineSeconds
        if declared { result.workloads = new.cluster.workloads.count }
        if let error = (old.errors + new.errors).first { result.error = "\(error)" }
        emit(result)
        guard result.error == nil else { return }
        // The comparison alone is bounded: past the limit the default SIGALRM action ends the process.
        alarm(UInt32(timeLimit))
        do {
            let (warnings, lintSeconds) = Clock.measure {
                Review.coverage(old, input: "--from", strict: false) + Review.coverage(new, input: "--to", strict: false)
                    + Review.lint(new, strict: false)
            }
            result.lintSeconds = lintSeconds
            result.warnings = warnings.count
            let (report, seconds) = try Clock.measure { try ChangeAnalysis.compare(old, new) }
            alarm(0)
            result.compareSeconds = seconds
            result.allowed = report.allowed.count
            result.blocked = report.blocked.count
            result.serviceChanges = report.services.count
            result.objectChanges = report.addedObjects.count + report.removedObjects.count + report.changedObjects.count
        } catch {
            result.error = "\(error)"
        }
        result.peakRSSBytes = ProcessInfoReader.peakRSS()
        emit(result)
    }

    private func emit(_ result: DiffResult) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let line = try? encoder.encode(result) else { return }
        // Written unbuffered, so the line survives the time limit ending the process.
        FileHandle.standardOutput.write(line + Data("\n".utf8))
    }
}
