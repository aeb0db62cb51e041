#if canImport(Glibc)
import Glibc
#endif
import CNftnlShim
import NFTKernel
import NFTRuleset

/// Set elements packed into the shim's element records (`kubenft_packed_element`, then key, data
/// and userdata bytes), which `kubenft_nl_batch_add_packed_elements` writes into the batch as the
/// same attributes libnftnl writes. A full load sends about 280k elements: packing them into one
/// buffer avoids a libnftnl object and several Swift arrays per element.
struct PackedElements: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var count = 0

    private static let headerSize = MemoryLayout<kubenft_packed_element>.size

    /// The elements of a named set as `ElementEncoder.encode(_:layout:)` and
    /// `NftnlObjects.addElements` encode them, with the same checks and errors; elements of a
    /// non-interval set are encoded straight into the buffer.
    init(_ set: NamedSet, layout: SetLayout) throws(NetlinkError) {
        guard !layout.isInterval else {
            self = try PackedElements(try ElementEncoder.encode(set, layout: layout), keyLength: layout.keyLength,
                                      dataLength: layout.dataLength.map(Int.init))
            return
        }
        let dataFields = try ElementEncoder.dataFields(set.mapping)
        let keyLength = layout.keyLength, dataLength = layout.dataLength.map(Int.init)
        bytes.reserveCapacity(set.elements.count * (Self.headerSize + keyLength + (dataLength ?? 0)))
        for element in set.elements {
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: Self.headerSize))
            try ElementEncoder.appendKey(element.key, types: layout.keyTypes, set: set.name, to: &bytes)
            let written = bytes.count - start - Self.headerSize
            guard written == keyLength else {
                throw NetlinkError(.unsupported, "element key of \(written) bytes for a key of \(keyLength)")
            }
            var header = kubenft_packed_element(flags: 0, key_length: UInt16(written), data_length: 0, userdata_length: 0, verdict: 0)
            switch (set.mapping, element.data) {
            case (.none, nil): break
            case (.verdict, .verdict(let verdict)?):
                try appendVerdict(verdict, to: &header)
            case (.data, .values(let values)?), (.concatenatedData, .values(let values)?):
                guard let dataFields else { throw Self.mismatch(set) }
                let dataStart = bytes.count
                try ElementEncoder.appendKey(values, types: dataFields, set: set.name, to: &bytes)
                try Self.check(data: bytes.count - dataStart, dataLength)
                header.flags |= UInt16(KUBENFT_PACKED_DATA)
                header.data_length = UInt16(bytes.count - dataStart)
            default:
                throw Self.mismatch(set)
            }
            try appendComment(element.comment.map(NFTQuoting.comment), to: &header)
            store(header, at: start)
            count += 1
        }
    }

    /// Elements already encoded (interval and anonymous sets), with `NftnlObjects.addElements`'s checks.
    init(_ elements: [EncodedElement], keyLength: Int, dataLength: Int?) throws(NetlinkError) {
        for element in elements {
            guard element.key.count == keyLength else {
                throw NetlinkError(.unsupported, "element key of \(element.key.count) bytes for a key of \(keyLength)")
            }
            let start = bytes.count
            bytes.append(contentsOf: repeatElement(0, count: Self.headerSize))
            bytes += element.key
            var header = kubenft_packed_element(flags: element.intervalEnd ? UInt16(KUBENFT_PACKED_INTERVAL_END) : 0,
                                                key_length: UInt16(keyLength), data_length: 0, userdata_length: 0, verdict: 0)
            if let data = element.data {
                try Self.check(data: data.count, dataLength)
                bytes += data
                header.flags |= UInt16(KUBENFT_PACKED_DATA)
                header.data_length = UInt16(data.count)
            }
            if let verdict = element.verdict { try appendVerdict(verdict, to: &header) }
            try appendComment(element.comment, to: &header)
            store(header, at: start)
            count += 1
        }
    }

    private static func mismatch(_ set: NamedSet) -> NetlinkError {
        NetlinkError(.unsupported, "set \(set.name): element data does not match the map's type")
    }

    private static func check(data count: Int, _ dataLength: Int?) throws(NetlinkError) {
        guard count == dataLength, count <= 64 /* NFT_DATA_VALUE_MAXLEN */ else {
            throw NetlinkError(.unsupported, "element data of \(count) bytes")
        }
    }

    private mutating func appendVerdict(_ verdict: Verdict, to header: inout kubenft_packed_element) throws(NetlinkError) {
        let (code, chain) = VerdictCode.encode(verdict)
        header.flags |= UInt16(KUBENFT_PACKED_VERDICT)
        header.verdict = code
        guard let chain else { return }
        try NftnlObjects.checkName(chain, "chain")
        bytes += chain.utf8
        bytes.append(0)
        header.data_length = UInt16(chain.utf8.count + 1)
    }

    /// The comment as element userdata (`UserData.comment`), written in place.
    private mutating func appendComment(_ comment: String?, to header: inout kubenft_packed_element) throws(NetlinkError) {
        guard let comment else { return }
        // The shim refuses userdata over 1 KiB (EMSGSIZE); longer than the 16-bit field, refused here alike.
        guard comment.utf8.count + 3 <= Int(UInt16.max) else { throw NetlinkError.system(EMSGSIZE, "building the batch (elements)") }
        let start = bytes.count
        bytes.append(0)
        bytes.append(UInt8(truncatingIfNeeded: comment.utf8.count + 1))
        bytes += comment.utf8
        bytes.append(0)
        header.userdata_length = UInt16(bytes.count - start)
    }

    private mutating func store(_ header: kubenft_packed_element, at offset: Int) {
        withUnsafeBytes(of: header) { raw in
            for index in raw.indices { bytes[offset + index] = raw[index] }
        }
    }
}

extension NetlinkBatch {
    /// Appends NEWSETELEM or DELSETELEM messages for `elements` of the set `name` (created in this
    /// batch under `id`, if it was); returns the first message's sequence number and the count.
    func addElements(_ elements: PackedElements, type: UInt16, family: UInt16, flags: UInt16, table: String, set name: String,
                     id: UInt32?, what: String = "elements") throws(NetlinkError) -> (first: UInt32, count: UInt32) {
        var first: UInt32 = 0, count: UInt32 = 0
        let rc = elements.bytes.withUnsafeBufferPointer { buffer in
            kubenft_nl_batch_add_packed_elements(pointer, type, family, flags, table, name, id != nil, id ?? 0,
                                                 buffer.baseAddress, buffer.count, &first, &count)
        }
        try check(rc, what)
        return (first, count)
    }
}
