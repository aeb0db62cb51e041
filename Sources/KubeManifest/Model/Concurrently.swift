import Dispatch
import Synchronization

/// Independent tasks run at once on the cores there are, their results handed back in task order.
/// One helper for the checks and sorts of a large load, a zone's halves and `diff`'s two
/// pipelines, so that none of them keeps its own result slots and lock.
public enum Concurrently {
    /// `[task(0), …, task(count - 1)]`, the tasks run at once (`DispatchQueue.concurrentPerform`).
    public static func map<Result: Sendable>(_ count: Int, _ task: @Sendable (Int) -> Result) -> [Result] {
        let slots = Mutex<[Result?]>(Array(repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let result = task(index)
            slots.withLock { $0[index] = result }
        }
        // concurrentPerform returns after every task, so every slot is filled.
        return slots.withLock { $0 }.compactMap { $0 }
    }

    /// The merge of two sorted lists (the sorted halves of one list): an element of `second` goes
    /// before the next one of `first` only when `secondFirst` says so, so elements that are equal
    /// keep those of `first` before those of `second`, as one stable sort would.
    public static func merge<Element>(_ first: [Element], _ second: [Element], secondFirst: (Element, Element) -> Bool) -> [Element] {
        var merged: [Element] = []
        merged.reserveCapacity(first.count + second.count)
        var (left, right) = (0, 0)
        while left < first.count && right < second.count {
            if secondFirst(second[right], first[left]) {
                merged.append(second[right])
                right += 1
            } else {
                merged.append(first[left])
                left += 1
            }
        }
        merged.append(contentsOf: first[left...])
        merged.append(contentsOf: second[right...])
        return merged
    }
}
