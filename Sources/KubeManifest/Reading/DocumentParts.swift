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
    static func isDocumentStart(_ buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        guard index + 3 <= buffer.count, buffer[index] == UInt8(ascii: "-"), buffer[index + 1] == UInt8(ascii: "-"),
              buffer[index + 2] == UInt8(ascii: "-") else { return false }
        guard index + 3 < buffer.count else { return true }
        let next = buffer[index + 3]
        return next == UInt8(ascii: " ") || next == UInt8(ascii: "\n") || next == UInt8(ascii: "\r") || next == UInt8(ascii: "\t")
    }
}

/// The bytes of one run of whole YAML documents, with the number of lines before it in its file.
struct DocumentBytes: Sendable {
    var bytes: [UInt8]
    var lineOffset: Int
}

/// Cuts a YAML stream arriving in chunks into parts of about `size` bytes, at the same places
/// `documentParts(size:)` cuts a whole source, holding only the bytes not yet handed out.
struct DocumentSplitter {
    let size: Int
    private var buffer: [UInt8] = []
    /// Bytes of `buffer` already searched for a cut.
    private var scanned = 0
    /// Lines before `buffer`, and newlines in `buffer[..<scanned]`.
    private var lineOffset = 0
    private var lines = 0

    init(size: Int) { self.size = size }

    mutating func append(_ chunk: [UInt8]) { buffer += chunk }

    /// Appends the next chunk of `chunks` straight onto the pending bytes; false at the end.
    mutating func append(from chunks: FileChunks) -> Result<Bool, BoundedReader.Problem> {
        chunks.read(appendingTo: &buffer)
    }

    /// The next part once it is complete; at the end (`final`), whatever is left.
    mutating func next(final: Bool) -> DocumentBytes? {
        if let cut = findCut(final: final) {
            // The part keeps the buffer's storage; only the bytes after the cut are copied out.
            var bytes = buffer
            var rest: [UInt8] = []
            rest.reserveCapacity(bytes.count - cut + size)
            rest.append(contentsOf: bytes[cut...])
            buffer = rest
            bytes.removeLast(bytes.count - cut)
            let part = DocumentBytes(bytes: bytes, lineOffset: lineOffset)
            lineOffset += lines
            lines = 0
            scanned = 0
            return part
        }
        guard final, !buffer.isEmpty else { return nil }
        defer { buffer = [] }
        return DocumentBytes(bytes: buffer, lineOffset: lineOffset)
    }

    /// How many `\n` bytes the `count` bytes at `start` hold, eight at a time: XOR with `\n` in
    /// every byte leaves zero bytes where the line breaks are, and the high bit of
    /// `((x & 0x7F..) + 0x7F..) | x` is clear in exactly those bytes (no carry crosses a byte).
    static func lineBreaks(_ start: UnsafePointer<UInt8>, count: Int) -> Int {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let breaks: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        let raw = UnsafeRawPointer(start)
        var total = 0
        var index = 0
        while index + 8 <= count {
            let x = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ breaks
            total &+= (~(((x & low7) &+ low7) | x) & ~low7).nonzeroBitCount
            index += 8
        }
        while index < count {
            if start[index] == UInt8(ascii: "\n") { total += 1 }
            index += 1
        }
        return total
    }

    /// Searches from `scanned` for a line start at or past `size` where a document starts, counting
    /// the line breaks in `lines`: in bulk up to `size`, then jumping from one to the next (`memchr`).
    private mutating func findCut(final: Bool) -> Int? {
        let count = buffer.count
        let size = size
        return buffer.withUnsafeBufferPointer { bytes -> Int? in
            // A cut needs the four bytes after a line start, unless the input ends sooner.
            let end = final ? count : count - 4
            guard scanned < end, let base = bytes.baseAddress else { return nil }
            func isCut(_ index: Int) -> Bool {
                index >= size && index > 0 && bytes[index - 1] == UInt8(ascii: "\n") && ManifestSource.isDocumentStart(bytes, at: index)
            }
            if isCut(scanned) { return scanned }
            var index = scanned
            // No cut can come before `size`: the line breaks up to there are only counted, in bulk.
            let counted = Swift.min(end, Swift.max(index, size - 1))
            if counted > index {
                lines += Self.lineBreaks(base + index, count: counted - index)
                index = counted
            }
            while index < end, let found = memchr(base + index, Int32(UInt8(ascii: "\n")), end - index) {
                lines += 1
                index = base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
                if index < end, isCut(index) {
                    scanned = index
                    return index
                }
            }
            scanned = end
            return nil
        }
    }
}

import Foundation

/// Reads the parts of a large YAML source on a background thread while the caller decodes earlier
/// parts, keeping at most `capacity` parsed parts in memory. The parts come from `nextPart`, which
/// runs on that thread (it may read a file); a failure to read ends the parts with a diagnostic.
final class PartReader: @unchecked Sendable {
    private let name: String
    private let capacity: Int
    private var trees: [NodeTree] = []
    private var finished = false
    private let lock = NSCondition()

    init(name: String, capacity: Int = 2, nextPart: @escaping @Sendable () -> Result<DocumentBytes?, Diagnostic>) {
        self.name = name
        self.capacity = capacity
        let thread = Thread { [self] in readAll(nextPart) }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func readAll(_ nextPart: () -> Result<DocumentBytes?, Diagnostic>) {
        while true {
            lock.lock()
            while trees.count >= capacity { lock.wait() }
            lock.unlock()
            var tree: NodeTree?
            switch nextPart() {
            case .success(let part?):
                tree = YAMLReader.read(part.bytes, name: name, lineOffset: part.lineOffset)
            case .success(nil):
                break
            case .failure(let diagnostic):
                var failed = NodeTree(file: name)
                failed.diagnostics.append(diagnostic)
                tree = failed
            }
            lock.lock()
            if let tree { trees.append(tree) }
            // Reading stops at the first syntax error or read failure, as a whole-file read does.
            finished = tree.map { !$0.diagnostics.isEmpty } ?? true
            lock.broadcast()
            lock.unlock()
            if finished { return }
        }
    }

    /// The next part's tree in file order, waiting for it; nil after the last.
    func next() -> NodeTree? {
        lock.lock()
        defer { lock.unlock() }
        while trees.isEmpty && !finished { lock.wait() }
        guard !trees.isEmpty else { return nil }
        let tree = trees.removeFirst()
        lock.broadcast()
        return tree
    }
}

/// Hands out the parts of a large YAML source in file order: cut from bytes in memory, or read
/// from its file one chunk at a time, so that only the parts in flight are ever held.
final class YAMLPartFeed: @unchecked Sendable {
    private let name: String
    private var memory: (bytes: [UInt8], parts: [DocumentPart])?
    private var nextIndex = 0
    private var chunks: FileChunks?
    private var splitter: DocumentSplitter
    private var atEnd = false
    private var failure: Diagnostic?

    /// Largest chunk a file is read in. Far smaller than a part: the bytes after a part's cut are
    /// copied into the next part's buffer, and with small chunks they are few (a chunk the size of
    /// a part left about a part's worth to copy, every byte twice on the feeding thread).
    static let chunkSize = 1 << 16

    init(_ source: ManifestSource, partSize: Int, chunkSize: Int = YAMLPartFeed.chunkSize) {
        name = source.name
        splitter = DocumentSplitter(size: partSize)
        switch source.storage {
        case .memory(let bytes):
            memory = (bytes, source.documentParts(size: partSize))
        case .file(let path, _):
            chunks = FileChunks(path: path, limit: ManifestLoader.maximumSourceSize, chunkSize: max(1, min(partSize, chunkSize)))
            if chunks == nil {
                failure = BoundedReader.Problem.unreadable(reason: BoundedReader.errorText()).diagnostic(file: name)
            }
        }
    }

    func next() -> Result<DocumentBytes?, Diagnostic> {
        if let memory {
            guard nextIndex < memory.parts.count else { return .success(nil) }
            let part = memory.parts[nextIndex]
            nextIndex += 1
            return .success(DocumentBytes(bytes: Array(memory.bytes[part.range]), lineOffset: part.lineOffset))
        }
        if let failure { return .failure(failure) }
        while true {
            if let part = splitter.next(final: atEnd) { return .success(part) }
            guard !atEnd, let chunks else { return .success(nil) }
            switch splitter.append(from: chunks) {
            case .success(true): break
            case .success(false): atEnd = true
            case .failure(let problem):
                failure = problem.diagnostic(file: name)
                return .failure(problem.diagnostic(file: name))
            }
        }
    }
}
