import CLibYAML

/// Reads seed manifests (trusted, hand-written) into `Value`s with libyaml's event parser, so
/// mutations work on structure rather than bytes. Anchors are resolved; tags are ignored.
enum YAMLParse {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func documents(_ text: String) throws -> [Value] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) != 0 else { throw Failure(description: "libyaml init failed") }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        var builder = Builder()
        try bytes.withUnsafeBufferPointer { buffer in
            var empty: UInt8 = 0
            if let base = buffer.baseAddress {
                yaml_parser_set_input_string(&parser, base, buffer.count)
            } else {
                yaml_parser_set_input_string(&parser, &empty, 0)
            }
            var done = false
            while !done {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) != 0 else {
                    throw Failure(description: "YAML error at line \(parser.problem_mark.line + 1)")
                }
                done = event.type == YAML_STREAM_END_EVENT
                builder.handle(&event)
                yaml_event_delete(&event)
            }
        }
        return builder.documents
    }

    /// Builds values from events with a stack of open collections.
    private struct Builder {
        enum Open { case list([Value], String?), map([(String, Value)], String?, pendingKey: String?) }
        var stack: [Open] = []
        var anchors: [String: Value] = [:]
        var documents: [Value] = []
        /// Nodes built so far; past `aliasBudget`, aliases read as null so a seed alias bomb
        /// stays a bomb for kubenft instead of exploding inside the harness.
        var built = 0
        let aliasBudget = 100_000

        mutating func handle(_ event: inout yaml_event_t) {
            switch event.type {
            case YAML_SCALAR_EVENT:
                let data = event.data.scalar
                let text = String(decoding: UnsafeBufferPointer(start: data.value, count: data.length), as: UTF8.self)
                let plain = data.style == YAML_PLAIN_SCALAR_STYLE
                built += 1
                add(plain ? resolvePlain(text) : .string(text), anchor: anchorName(data.anchor))
            case YAML_ALIAS_EVENT:
                let target = built > aliasBudget ? nil : anchors[anchorName(event.data.alias.anchor) ?? ""]
                built += target.map(Builder.size) ?? 1
                add(target ?? .null, anchor: nil)
            case YAML_SEQUENCE_START_EVENT:
                stack.append(.list([], anchorName(event.data.sequence_start.anchor)))
            case YAML_MAPPING_START_EVENT:
                stack.append(.map([], anchorName(event.data.mapping_start.anchor), pendingKey: nil))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let open = stack.popLast() else { return }
                switch open {
                case let .list(items, anchor): add(.list(items), anchor: anchor)
                case let .map(pairs, anchor, _): add(.map(pairs), anchor: anchor)
                }
            default: break
            }
        }

        static func size(_ value: Value) -> Int {
            switch value {
            case .list(let items): return 1 + items.reduce(0) { $0 + size($1) }
            case .map(let pairs): return 1 + pairs.reduce(0) { $0 + size($1.1) }
            default: return 1
            }
        }

        private func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            guard let pointer else { return nil }
            return String(cString: pointer)
        }

        private mutating func add(_ value: Value, anchor: String?) {
            if let anchor { anchors[anchor] = value }
            guard let top = stack.popLast() else {
                documents.append(value)
                return
            }
            switch top {
            case .list(var items, let name):
                items.append(value)
                stack.append(.list(items, name))
            case .map(var pairs, let name, let key):
                if let key {
                    pairs.append((key, value))
                    stack.append(.map(pairs, name, pendingKey: nil))
                } else {
                    stack.append(.map(pairs, name, pendingKey: keyText(value)))
                }
            }
        }

        private func keyText(_ value: Value) -> String {
            switch value {
            case .string(let text), .raw(let text): return text
            case .int(let number): return String(number)
            case .bool(let flag): return flag ? "true" : "false"
            default: return "null"
            }
        }

        private func resolvePlain(_ text: String) -> Value {
            switch text {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            default:
                if let number = Int64(text) { return .int(number) }
                return .string(text)
            }
        }
    }
}
