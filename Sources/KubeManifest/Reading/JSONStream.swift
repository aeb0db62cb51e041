/// The bytes the JSON parser sees: a whole input in memory, or a window onto a file that is
/// refilled one chunk at a time as the parser moves on and forgets what lies before the point the
/// parser released. Offsets are always from the start of the input.
struct JSONWindow {
    /// Offset of `bytes[0]` in the input.
    private(set) var base = 0
    private var bytes: UnsafeBufferPointer<UInt8>
    /// Owned storage of a file window (nil for a whole input, which the caller owns).
    private var storage: UnsafeMutableBufferPointer<UInt8>?
    private var count: Int
    private var keepFrom = 0
    private let chunks: FileChunks?
    private let chunkSize: Int
    /// Why reading the file failed, if it did.
    private(set) var failure: BoundedReader.Problem?

    init(whole: UnsafeBufferPointer<UInt8>) {
        bytes = whole
        count = whole.count
        chunks = nil
        chunkSize = 0
    }

    init(chunks: FileChunks, chunkSize: Int) {
        self.chunks = chunks
        self.chunkSize = chunkSize
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: chunkSize * 2)
        storage = buffer
        bytes = UnsafeBufferPointer(buffer)
        count = 0
    }

    /// Bytes the window can hold without growing.
    var capacity: Int { storage?.count ?? bytes.count }

    /// Frees a file window's storage.
    func deallocate() { storage?.deallocate() }

    @inline(__always) subscript(_ offset: Int) -> UInt8 { bytes[offset - base] }

    /// True when the input has a byte at `offset`, reading on from the file if needed.
    @inline(__always) mutating func has(_ offset: Int) -> Bool {
        offset - base < count || refill(through: offset)
    }

    /// The bytes `start ..< end`, which `has(end - 1)` has made present; valid until the next `has`.
    @inline(__always) func slice(_ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[(start - base)..<(end - base)])
    }

    /// The parser will not look before `offset` again.
    mutating func release(before offset: Int) { keepFrom = max(keepFrom, offset) }

    private mutating func refill(through offset: Int) -> Bool {
        guard let chunks, var buffer = storage, failure == nil else { return false }
        while offset - base >= count {
            let chunk: [UInt8]
            switch chunks.next() {
            case .success(let next?): chunk = next
            case .success(nil): return false
            case .failure(let problem):
                failure = problem
                return false
            }
            // Drop what the parser released, then grow if the kept bytes and the chunk do not fit.
            let drop = min(keepFrom - base, count)
            if drop > 0 {
                let kept = count - drop
                if kept > 0 { buffer.baseAddress!.update(from: buffer.baseAddress! + drop, count: kept) }
                base += drop
                count = kept
            }
            if count + chunk.count > buffer.count {
                let larger = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(buffer.count * 2, count + chunk.count))
                if count > 0 { larger.baseAddress!.update(from: buffer.baseAddress!, count: count) }
                buffer.deallocate()
                buffer = larger
                storage = larger
            }
            chunk.withUnsafeBufferPointer { (buffer.baseAddress! + count).update(from: $0.baseAddress!, count: $0.count) }
            count += chunk.count
            bytes = UnsafeBufferPointer(buffer)
        }
        return true
    }
}

/// Gives up streaming a source: its shape needs the whole tree (see `JSONStreamReader`).
struct JSONStreamAbort: Error {}

/// What the parser hands out while streaming: each element of a top-level array or of the
/// `items` array of a top-level object, as a tree of its own, and each finished top-level value
/// (whose streamed array is left empty in it). `document` returns false to give up streaming.
final class JSONItemHandler {
    let element: (NodeTree, _ listItem: Bool) -> Void
    let document: (NodeTree, Int32, _ streamedItems: Bool) -> Bool
    var aborted = false

    init(element: @escaping (NodeTree, Bool) -> Void, document: @escaping (NodeTree, Int32, Bool) -> Bool) {
        self.element = element
        self.document = document
    }
}

extension JSONParser {
    /// Parses an array whose elements go to `handler` one by one instead of into `tree`: the
    /// tree gets the array itself, empty, at the array's position.
    mutating func parseStreamedArray(depth: Int, handler: JSONItemHandler) throws {
        guard depth < NodeTree.maximumDepth else {
            throw JSONSyntaxError(reason: "nesting deeper than \(NodeTree.maximumDepth) levels", offset: position)
        }
        let index = tree.openContainer(.sequence, line: line, column: column)
        defer { tree.close(index) }
        position += 1
        skipSpace()
        if input.has(position), input[position] == UInt8(ascii: "]") {
            position += 1
            return
        }
        let shell = tree
        while true {
            skipSpace()
            tree = NodeTree(file: shell.file)
            do {
                try parseValue(depth: depth + 1)
            } catch {
                tree = shell
                throw error
            }
            var item = tree
            tree = shell
            item.finishReading()
            handler.element(item, depth > 0)
            input.release(before: position)
            skipSpace()
            guard input.has(position) else { throw JSONSyntaxError(reason: "unexpected end of input", offset: position) }
            let byte = input[position]
            position += 1
            if byte == UInt8(ascii: "]") { break }
            guard byte == UInt8(ascii: ",") else { throw JSONSyntaxError(reason: "expected ',' or ']'", offset: position - 1) }
        }
    }
}

/// Loads a large JSON file without holding it or its tree: the elements of a top-level array and
/// the items of a top-level `kind: List` are each parsed into a small tree, decoded and dropped.
/// Everything else about the file is decoded as a whole read would decode it; when the file turns
/// out to need the whole tree (the object with `items` is not an untyped `List`, or has `items`
/// twice), what was decoded is taken back and the caller reads the file whole.
enum JSONStreamReader {
    /// False when the caller has to read the source whole instead (nothing was added to `sink`).
    /// With more than one thread, elements are decoded in batches on worker threads and merged
    /// in file order before anything that depends on what was decoded (a snapshot, a restore).
    static func decode(_ source: ManifestSource, partSize: Int, sink: LoadSink, threads: Int = 1) -> Bool {
        guard case .file(let path, _) = source.storage, source.name.hasSuffix(".json") else { return false }
        guard let chunks = FileChunks(path: path, limit: ManifestLoader.maximumSourceSize, chunkSize: partSize) else {
            sink.diagnostics.append(BoundedReader.Problem.unreadable(reason: BoundedReader.errorText()).diagnostic(file: source.name))
            return true
        }
        let before = sink.snapshot()
        let batches = ElementBatches(sink: sink, threads: threads)
        defer { batches.close() }
        // Taken at the first streamed element of each top-level value: a syntax error inside that
        // value takes back its elements, as a whole read never decodes an unfinished value.
        var valueStart: LoadSink.Snapshot?
        var index = 0
        let handler = JSONItemHandler(element: { item, listItem in
            if valueStart == nil {
                batches.flush()
                valueStart = sink.snapshot()
            }
            batches.add(Element(tree: item, listItem: listItem, position: index))
            index += 1
        }, document: { shell, root, streamedItems in
            batches.flush()
            if streamedItems, !isUntypedList(shell, root) { return false }
            valueStart = nil
            index = 0
            ManifestLoader.decodeDocument(root, in: shell, sink: sink)
            return true
        })
        var parser = JSONParser(input: JSONWindow(chunks: chunks, chunkSize: partSize), tree: NodeTree(file: source.name))
        parser.streaming = handler
        parser.parseStream()
        parser.input.deallocate()
        batches.flush()
        if handler.aborted {
            sink.restore(before)
            return false
        }
        if let failure = parser.input.failure {
            sink.restore(before)
            sink.diagnostics.append(failure.diagnostic(file: source.name))
            return true
        }
        if !parser.tree.diagnostics.isEmpty, let valueStart { sink.restore(valueStart) }
        sink.diagnostics += parser.tree.diagnostics
        return true
    }

    /// One streamed element: an item of a `List` (at `position` in `items`) or of a top-level array.
    struct Element {
        var tree: NodeTree
        var listItem: Bool
        var position: Int

        func decode(into sink: LoadSink) {
            if listItem {
                let position = position
                ManifestLoader.decodeListItem(0, itemKind: nil, listVersion: nil, in: tree, sink: sink) { "items[\(position)]" }
            } else if !tree.isNull(0) {
                ManifestLoader.decodeDocument(0, in: tree, sink: sink)
            }
        }
    }

    /// Decodes elements straight into the load's sink (one thread), or in batches of
    /// `batchSize` on worker threads, at most two batches per thread in flight.
    final class ElementBatches {
        static let batchSize = 128
        private let sink: LoadSink
        private let threads: Int
        private let workers: OrderedWorkers<LoadSink>?
        private var batch: [Element] = []

        init(sink: LoadSink, threads: Int) {
            self.sink = sink
            self.threads = threads
            workers = threads > 1 ? OrderedWorkers(threads: threads) : nil
        }

        func add(_ element: Element) {
            guard workers != nil else { return element.decode(into: sink) }
            batch.append(element)
            if batch.count >= Self.batchSize { submit() }
        }

        private func submit() {
            guard let workers, !batch.isEmpty else { return }
            let elements = batch, options = sink.options
            batch = []
            workers.submit {
                let part = LoadSink.part(options: options)
                for element in elements { element.decode(into: part) }
                return part
            }
            while workers.inFlight >= threads * 2, let part = workers.take() { sink.merge(part) }
        }

        /// Decodes and merges every element added so far.
        func flush() {
            submit()
            while let part = workers?.take() { sink.merge(part) }
        }

        func close() { workers?.close() }
    }

    /// `kind` is the string `List`, whose items each name their own kind.
    private static func isUntypedList(_ tree: NodeTree, _ root: Int32) -> Bool {
        guard let kind = tree.value(root, "kind") else { return false }
        return tree.scalarType(kind) == .string && tree.scalarEquals(kind, "List")
    }
}
