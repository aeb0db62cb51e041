import Foundation

/// Runs jobs on a few worker threads and hands their results back in the order the jobs were
/// submitted, so that parts of the input can be decoded at once and still be merged in file
/// order. The submitter keeps the number of jobs in flight bounded (`inFlight`) by taking
/// results before submitting more, which bounds the memory the parts hold.
final class OrderedWorkers<Output>: @unchecked Sendable {
    private let lock = NSCondition()
    private var jobs: [(index: Int, job: () -> Output)] = []
    private var results: [Int: Output] = [:]
    private var submitted = 0
    private var taken = 0
    private var closed = false

    /// Threads to use for decoding: one per core, at most four.
    static var defaultThreads: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4) }

    init(threads: Int) {
        for _ in 0..<max(threads, 1) {
            let thread = Thread { [self] in work() }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Jobs submitted whose results have not been taken yet.
    var inFlight: Int {
        lock.lock()
        defer { lock.unlock() }
        return submitted - taken
    }

    func submit(_ job: @escaping () -> Output) {
        lock.lock()
        jobs.append((submitted, job))
        submitted += 1
        lock.broadcast()
        lock.unlock()
    }

    /// The result of the oldest job not taken yet, waiting for it; nil when none is in flight.
    func take() -> Output? {
        lock.lock()
        defer { lock.unlock() }
        guard taken < submitted else { return nil }
        while results.index(forKey: taken) == nil { lock.wait() }
        let output = results.removeValue(forKey: taken)
        taken += 1
        return output
    }

    /// Stops the threads once their current job is done; jobs not started are dropped.
    func close() {
        lock.lock()
        closed = true
        jobs.removeAll()
        results.removeAll()
        lock.broadcast()
        lock.unlock()
    }

    private func work() {
        while true {
            lock.lock()
            while jobs.isEmpty && !closed { lock.wait() }
            if closed {
                lock.unlock()
                return
            }
            let next = jobs.removeFirst()
            lock.unlock()
            let output = next.job()
            lock.lock()
            if !closed { results[next.index] = output }
            lock.broadcast()
            lock.unlock()
        }
    }
}
