import Foundation

/// Decides what a plain (unquoted) scalar means. Kubernetes reads YAML by converting it to JSON,
/// so only the types JSON has matter: null, booleans, integers, floats and strings.
enum ScalarResolver {
    static func resolve(_ bytes: UnsafeBufferPointer<UInt8>) -> ScalarType {
        let count = bytes.count
        if count == 0 { return .null }
        let first = bytes[0]
        switch first {
        case UInt8(ascii: "~"):
            return count == 1 ? .null : .string
        case UInt8(ascii: "n"), UInt8(ascii: "N"):
            if matches(bytes, "null") { return .null }
            return boolean(bytes) != nil ? .bool : .string
        case UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"),
             UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            return boolean(bytes) != nil ? .bool : .string
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return number(bytes)
        default:
            return .string
        }
    }

    /// The value of a plain scalar that YAML 1.1 reads as a boolean, as sigs.k8s.io/yaml (goyaml.v2)
    /// resolves it before the API server sees JSON: `y`, `yes`, `on`, `true` and `n`, `no`, `off`,
    /// `false`, each lower case, capitalised or upper case; nil for anything else.
    static func boolean(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard bytes.count <= 5 else { return nil }
        if matches(bytes, "true") || matches(bytes, "yes") || matches(bytes, "on") || matches(bytes, "y") { return true }
        if matches(bytes, "false") || matches(bytes, "no") || matches(bytes, "off") || matches(bytes, "n") { return false }
        return nil
    }

    /// `null`, `Null`, `NULL` style matching: all lower case, capitalised, or all upper case.
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let lower = word.utf8Start
        var allLower = true, allUpper = true, capitalised = true
        for index in 0..<bytes.count {
            let byte = bytes[index], wanted = lower[index], upper = wanted &- 32
            if byte != wanted { allLower = false; if index > 0 { capitalised = false } }
            if byte != upper { allUpper = false; if index == 0 { capitalised = false } }
        }
        return allLower || allUpper || capitalised
    }

    private static func number(_ bytes: UnsafeBufferPointer<UInt8>) -> ScalarType {
        var index = 0
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") { index = 1 }
        var digits = 0, fraction = false, exponent = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
            case UInt8(ascii: ".") where !fraction && !exponent:
                fraction = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard digits > 0, !exponent else { return .string }
                exponent = true
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "-") || bytes[index + 1] == UInt8(ascii: "+") {
                    index += 1
                }
            default:
                return .string
            }
            index += 1
        }
        guard digits > 0 else { return .string }
        return fraction || exponent ? .float : .int
    }

    /// The value of an integer scalar (optional sign, decimal digits); nil on overflow.
    static func integer(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0, negative = false
        if let first = bytes.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            index = 1
        }
        var value = 0
        while index < bytes.count {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int(bytes[index] &- UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
            index += 1
        }
        return negative ? -value : value
    }
}

extension NodeTree {
    /// The field path from `root` down to `target`, such as `spec.ports[1].nodePort`. Only computed
    /// when a diagnostic needs it, so decoding never builds path strings on the happy path.
    func path(to target: Int32, from root: Int32) -> String {
        var path = ""
        var current = root
        while current != target {
            let node = self.node(current)
            guard node.kind != .scalar, target > current, target < node.end else { break }
            var descended = false
            // Resume where the last lookup in this container stopped when the target lies further
            // on: diagnostics for many items of one long list arrive in order, and restarting from
            // the first child each time would make reporting them quadratic.
            var (child, offset) = pathCursor.resume(in: current, before: target) ?? (current + 1, 0)
            while child < node.end {
                let next = self.node(child).end
                let childEnd = node.kind == .mapping && next < node.end ? self.node(next).end : next
                if target < childEnd {
                    pathCursor.remember(container: current, child: child, offset: offset)
                    if node.kind == .mapping {
                        appendKey(string(child), to: &path)
                        if child == target { return path }
                        current = self.node(child).end
                    } else {
                        path += "[\(offset)]"
                        current = child
                    }
                    descended = true
                    break
                }
                child = childEnd
                offset += 1
            }
            if !descended { break }
        }
        return path
    }

    private func appendKey(_ key: String, to path: inout String) {
        let plain = !key.isEmpty && key.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
        if plain {
            if !path.isEmpty { path += "." }
            path += key
        } else {
            path += "[\(key)]"
        }
    }
}

/// Where the last field-path lookup found its child in each container it passed, shared by the
/// copies of a tree (the tree's structure never changes once read).
final class PathCursor: @unchecked Sendable {
    private let lock = NSLock()
    private var positions: [Int32: (child: Int32, offset: Int)] = [:]

    /// The remembered child of `container` and its position, when `target` is at or after it.
    func resume(in container: Int32, before target: Int32) -> (Int32, Int)? {
        lock.lock()
        defer { lock.unlock() }
        guard let position = positions[container], position.child <= target else { return nil }
        return (position.child, position.offset)
    }

    func remember(container: Int32, child: Int32, offset: Int) {
        lock.lock()
        defer { lock.unlock() }
        positions[container] = (child, offset)
    }
}
