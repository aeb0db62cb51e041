/// Repeated values of one load (or of one part of it) stored once: label maps that every Pod of
/// a workload repeats, container port lists, controller names, node names, long label keys. A
/// String of more than 15 UTF-8 bytes, a Dictionary or an Array each keep their own heap
/// storage; equal values handed out from here share one, which is most of what 100k Pods cost
/// beyond their names and addresses. Values are unchanged, so results are the same.
final class ValueTable {
    private var strings: Set<String> = []
    private var labelMaps: Set<[String: String]> = []
    private var portLists: Set<[Pod.ContainerPort]> = []
    private var lastPorts: [Pod.ContainerPort]?
    private var references: Set<Boxed<ObjectReference>> = []
    /// String maps and pods' container port lists decoded without a problem, by how they are
    /// spelled (see `ObjectDecoder.memoized`).
    let maps = SubtreeCache<[String: String]>()
    let containerPorts = SubtreeCache<[Pod.ContainerPort]>()
    /// Pods' controllers by their `ownerReferences` (and namespace, which the reference takes).
    let controllers = SubtreeCache<(namespace: String, controller: Boxed<ObjectReference>?)>()

    /// Strings of up to 15 UTF-8 bytes are stored inline and gain nothing from sharing.
    func string(_ text: String) -> String {
        guard text.utf8.count > 15 else { return text }
        return strings.insert(text).memberAfterInsert
    }

    func string(_ text: String?) -> String? {
        text.map { string($0) }
    }

    func labels(_ map: [String: String]) -> [String: String] {
        guard !map.isEmpty else { return map }
        return labelMaps.insert(map).memberAfterInsert
    }

    func ports(_ list: [Pod.ContainerPort]) -> [Pod.ContainerPort] {
        guard !list.isEmpty else { return list }
        // The Pods of one workload hand in the list they got from `containerPorts`, whose storage
        // is the one stored here: the same storage is the same value, found without hashing.
        if let last = lastPorts, last.count == list.count,
           last.withUnsafeBufferPointer({ $0.baseAddress }) == list.withUnsafeBufferPointer({ $0.baseAddress }) {
            return last
        }
        let member = portLists.insert(list).memberAfterInsert
        lastPorts = member
        return member
    }

    /// One box for each controller, shared by the Pods it created.
    func controller(_ reference: ObjectReference?) -> Boxed<ObjectReference>? {
        guard let reference else { return nil }
        return references.insert(Boxed(reference)).memberAfterInsert
    }

    /// A controller's reference: its name is shared by every object it created.
    func reference(_ reference: ObjectReference?) -> ObjectReference? {
        guard var reference = targetReference(reference) else { return nil }
        reference.name = string(reference.name)
        return reference
    }

    /// An endpoint's `targetRef`: its name is nearly always unique (one Pod per endpoint), so it
    /// is kept as decoded; storing every one here would only grow the table.
    func targetReference(_ reference: ObjectReference?) -> ObjectReference? {
        guard var reference else { return nil }
        reference.kind = string(reference.kind)
        reference.namespace = string(reference.namespace)
        return reference
    }
}

/// Values decoded from subtrees, found again by how a later subtree is spelled: the subtree is
/// hashed and compared where it lies in its tree, and only a value stored for the first time has
/// its signature spelled out, so a lookup allocates nothing.
final class SubtreeCache<Value> {
    private var entries: [Int: [(signature: [UInt8], value: Value)]] = [:]

    func value(of node: Int32, tag: UInt8, in tree: NodeTree, hash: Int, where wanted: (Value) -> Bool = { _ in true }) -> Value? {
        guard let candidates = entries[hash] else { return nil }
        for candidate in candidates where wanted(candidate.value) && tree.hasSignature(candidate.signature, at: node, tag: tag) {
            return candidate.value
        }
        return nil
    }

    /// Keeps `value` for subtrees spelled like the one at `node`, unless enough are kept under
    /// its hash already (then a later equal subtree is decoded again, which gives the same value).
    func store(_ value: Value, of node: Int32, tag: UInt8, in tree: NodeTree, hash: Int) {
        guard entries[hash]?.count ?? 0 < Self.perHash else { return }
        entries[hash, default: []].append((tree.signature(of: node, tag: tag), value))
    }

    /// Most subtrees kept under one hash: a lookup compares at most this many.
    static var perHash: Int { 8 }
}
