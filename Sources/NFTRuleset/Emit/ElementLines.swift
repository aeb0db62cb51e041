import Dispatch
import Synchronization

/// The element lines of a ruleset's sets, printed on two threads. Element text is most of a large
/// ruleset's output (a 10k-Service cluster has hundreds of thousands of elements and a few thousand
/// rules), and each line depends on its element alone, so chunks of lines are printed in parallel
/// and joined in order: the text is the same as printing them one after another.
struct ElementLines {
    /// Elements per chunk: large enough that a chunk's string is worth a task, small enough that two
    /// threads stay busy whatever the sizes of the sets.
    static let chunkSize = 8192
    /// Below this many elements in all, the lines are printed in place, on the calling thread.
    static let parallelThreshold = 32_768

    /// Per set, the strings whose concatenation is its element lines; nil when the ruleset is too
    /// small to be worth threads.
    static func chunks(of sets: [NamedSet], threshold: Int = parallelThreshold) -> [[String]]? {
        guard sets.reduce(0, { $0 + $1.elements.count }) >= threshold else { return nil }
        let pieces = sets.enumerated().flatMap { index, set in
            stride(from: 0, to: set.elements.count, by: chunkSize).map { start in
                (set: index, range: start..<min(start + chunkSize, set.elements.count))
            }
        }
        let results = Slots(count: pieces.count)
        DispatchQueue.concurrentPerform(iterations: pieces.count) { piece in
            let (set, range) = pieces[piece]
            results.store(lines(of: sets[set].elements, in: range), at: piece)
        }
        let texts = results.values
        var bySet: [[String]] = Array(repeating: [], count: sets.count)
        for (piece, text) in zip(pieces, texts) { bySet[piece.set].append(text) }
        return bySet
    }

    /// The lines of `elements[range]`: indented, a comma after every element but the set's last.
    static func lines(of elements: [SetElement], in range: Range<Int>) -> String {
        var out = ""
        out.reserveCapacity(48 * range.count)
        for index in range { append(elements[index], last: index == elements.count - 1, to: &out) }
        return out
    }

    static func append(_ element: SetElement, last: Bool, to out: inout String) {
        out += "\t\t\t"
        NFTTextEmitter.appendElement(element, to: &out)
        out += last ? "\n" : ",\n"
    }
}

/// The chunk strings; each slot is written by one worker only, under a mutex since the slots share
/// one array.
private final class Slots: Sendable {
    private let storage: Mutex<[String]>

    init(count: Int) { storage = Mutex(Array(repeating: "", count: count)) }

    var values: [String] { storage.withLock { $0 } }

    func store(_ text: String, at index: Int) { storage.withLock { $0[index] = text } }
}
