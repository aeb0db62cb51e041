import Foundation
import LabKit

// Shared machinery of the real-packet tests that probe many pairs at once: threads that run blocking
// lab calls side by side, a concurrent probe sweep with one slow retry for the cells expected open,
// and concurrent pod creation.

/// Runs `body(0..<count)` on `count` threads of its own and waits for all of them. Unlike
/// `concurrentPerform`, which uses one thread per CPU, every blocking call runs at the same time.
func runOnThreads(count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// Errors collected from concurrent work.
final class LockedErrors: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [Error] = []

    func append(_ error: Error) { lock.withLock { errors.append(error) } }
    var first: Error? { lock.withLock { errors.first } }
}

/// One probe of a sweep: from a lab role to a target, the reply that proves the right server
/// answered, and whether a silent first attempt deserves a slow retry (cells expected open).
struct SweepProbe: Sendable {
    var from: String
    var target: ProbeTarget
    var expectedReply: String
    var retryIfSilent: Bool
}

/// How one probe of a sweep ended.
struct SweepResult: Sendable {
    var probe: SweepProbe
    /// The first attempt, made with the short timeout.
    var first: ProbeOutcome
    /// The slow retry, when one was made.
    var retry: ProbeOutcome?

    /// True when the expected server answered, on the first attempt or on the retry.
    var reached: Bool { Self.isExpected(first, probe) || retry.map { Self.isExpected($0, probe) } == true }
    /// True when only the slow retry got through.
    var answeredOnlyOnRetry: Bool { reached && !Self.isExpected(first, probe) }
    /// True when the first attempt met something other than the expected reply, a refusal or a
    /// timeout: a reply from the wrong server, or a socket error.
    var unexpected: Bool { (first.result == .reply && !Self.isExpected(first, probe)) || first.result == .other }

    static func isExpected(_ outcome: ProbeOutcome, _ probe: SweepProbe) -> Bool {
        outcome.result == .reply && outcome.reply == probe.expectedReply
    }
}

/// Concurrent probing of a lab.
enum LabSweep {
    /// Probes everything: one `probeMany` per source role, all sources at once, sharing `timeoutMs`.
    /// Then, source by source, probes once more with `retryTimeoutMs` the probes marked
    /// `retryIfSilent` that were not answered, so a slow machine does not turn into a failure; a
    /// probe expected blocked is never retried. Results come back in the order of `probes`.
    static func run(_ lab: Lab, _ probes: [SweepProbe], timeoutMs: Int, retryTimeoutMs: Int) throws -> [SweepResult] {
        var sources: [String] = []
        var bySource: [String: [Int]] = [:]
        for (index, probe) in probes.enumerated() {
            if bySource[probe.from] == nil { sources.append(probe.from) }
            bySource[probe.from, default: []].append(index)
        }
        let groups = sources.map { bySource[$0] ?? [] }
        let firsts = try probeGroups(lab, probes, groups: groups, timeoutMs: timeoutMs)
        var results = probes.indices.map { index -> SweepResult? in
            firsts[index].map { SweepResult(probe: probes[index], first: $0, retry: nil) }
        }.compactMap { $0 }
        guard results.count == probes.count else { throw LabSweepError(description: "a probe result is missing") }
        for group in groups {
            let silent = group.filter { probes[$0].retryIfSilent && !results[$0].reached }
            if silent.isEmpty { continue }
            let outcomes = try lab.probeMany(from: probes[silent[0]].from, targets: silent.map { probes[$0].target },
                                             timeoutMs: retryTimeoutMs)
            for (index, outcome) in zip(silent, outcomes) { results[index].retry = outcome }
        }
        return results
    }

    /// The first attempts: one `probeMany` per group of probe indices (one source each), all groups
    /// on threads of their own. Throws the first failure in group order.
    static func probeGroups(_ lab: Lab, _ probes: [SweepProbe], groups: [[Int]], timeoutMs: Int) throws -> [ProbeOutcome?] {
        let rows = LockedSlots<Result<[ProbeOutcome], Error>>(count: groups.count)
        runOnThreads(count: groups.count) { groupIndex in
            let group = groups[groupIndex]
            do {
                let outcomes = try lab.probeMany(from: probes[group[0]].from, targets: group.map { probes[$0].target },
                                                 timeoutMs: timeoutMs)
                rows.set(groupIndex, .success(outcomes))
            } catch {
                rows.set(groupIndex, .failure(error))
            }
        }
        var outcomes = [ProbeOutcome?](repeating: nil, count: probes.count)
        for (group, row) in zip(groups, rows.values) {
            guard let row else { continue }
            for (index, outcome) in zip(group, try row.get()) { outcomes[index] = outcome }
        }
        return outcomes
    }

    /// Adds every pod (with its server) to a lab that already has its node, all at once; throws the
    /// first failure.
    static func addPods(_ lab: Lab, _ pods: [(pod: LabPod, serve: ServeSpec?)]) throws {
        let errors = LockedErrors()
        runOnThreads(count: pods.count) { index in
            do {
                try lab.addPod(pods[index].pod, serve: pods[index].serve)
            } catch {
                errors.append(error)
            }
        }
        if let first = errors.first { throw first }
    }
}

/// A sweep that could not be carried out.
struct LabSweepError: Error, CustomStringConvertible {
    var description: String
}

/// Fixed-size slots filled concurrently.
final class LockedSlots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }
    var values: [Value?] { lock.withLock { slots } }
}
