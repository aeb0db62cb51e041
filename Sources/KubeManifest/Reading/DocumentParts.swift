/// A run of whole YAML documents inside a source, and how many lines precede it.
struct DocumentPart: Sendable, Hashable {
    var range: Range<Int>
    var lineOffset: Int
}

extension ManifestSource {
    /// Splits a multi-document YAML source into parts of about `size` bytes, cutting only before a
    /// `---` line at column 0 (a document start, which the YAML grammar never allows inside a
    /// document's content), so each part parses on its own and large files need not be held as one tree.
    func documentParts(size: Int) -> [DocumentPart] {
        var parts: [DocumentPart] = []
        var start = 0, startLine = 0, line = 0, index = 0
        let count = bytes.count
        bytes.withUnsafeBufferPointer { buffer in
            while index < count {
                let atLineStart = index == 0 || buffer[index - 1] == UInt8(ascii: "\n")
                if atLineStart, index - start >= size, Self.isDocumentStart(buffer, at: index) {
                    parts.append(DocumentPart(range: start..<index, lineOffset: startLine))
                    start = index
                    startLine = line
                }
                if buffer[index] == UInt8(ascii: "\n") { line += 1 }
                index += 1
            }
        }
        parts.append(DocumentPart(range: start..<count, lineOffset: startLine))
        return parts
    }

    /// `---` followed by a space, a line break or the end of the input.
    private static func isDocumentStart(_ buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + 3 <= buffer.count, buffer[index] == UInt8(ascii: "-"), buffer[index + 1] == UInt8(ascii: "-"),
              buffer[index + 2] == UInt8(ascii: "-") else { return false }
        guard index + 3 < buffer.count else { return true }
        let next = buffer[index + 3]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "\n") || next == UInt8(ascii: "\r") || next == UInt8(ascii: "\t")
    }
}

#if canImport(Dispatch)
import Dispatch
#endif
import Foundation

/// Reads the parts of a large YAML source on a background thread while the caller decodes earlier
/// parts, keeping at most `capacity` parsed parts in memory.
final class PartReader: @unchecked Sendable {
    private let source: ManifestSource
    let parts: [DocumentPart]
    private var trees: [Int: NodeTree] = [:]
    private let lock = NSLock()
    private let ready: [DispatchSemaphore]
    private let room: DispatchSemaphore

    init(source: ManifestSource, parts: [DocumentPart], capacity: Int = 2) {
        self.source = source
        self.parts = parts
        self.ready = parts.map { _ in DispatchSemaphore(value: 0) }
        self.room = DispatchSemaphore(value: capacity)
        let thread = Thread { [self] in readAll() }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func readAll() {
        for (index, part) in parts.enumerated() {
            room.wait()
            let tree = YAMLReader.read(source, part: part)
            lock.lock()
            trees[index] = tree
            lock.unlock()
            ready[index].signal()
        }
    }

    /// The tree of part `index`, waiting for it if needed; each part is handed out once.
    func tree(_ index: Int) -> NodeTree {
        ready[index].wait()
        lock.lock()
        let tree = trees.removeValue(forKey: index) ?? NodeTree(file: source.name)
        lock.unlock()
        room.signal()
        return tree
    }
}
