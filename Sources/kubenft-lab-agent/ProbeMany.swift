/// The `probe-many` subcommand: every target probed at once, one JSON line per target.
///
/// Targets come from repeated `--target ADDR,PORT,PROTO[,LABEL]` options, or,
/// when none is given, from standard input (one per line). Each line printed is
/// `{"label":..,"to":..,"port":..,"proto":..,"reply":NAME|null,"result":..,"error":..|null,"elapsedMs":..}`
/// with `result` one of `reply`, `refused`, `timeout`, `unreachable`, `other`,
/// in the order the targets were given.
enum ProbeMany {
    static let known: Set<String> = ["target", "timeout-ms"]

    static func run(_ options: Options) throws -> Int32 {
        let unknown = options.unknownKeys(known)
        guard unknown.isEmpty else { throw UsageError("unknown option --\(unknown[0])") }
        let timeoutMs = max(1, try options.int("timeout-ms") ?? 1000)
        let given = options.raw("target")
        var targets: [ProbeTarget] = []
        if given.isEmpty {
            targets = try ProbeTarget.readStandardInput()
        } else {
            for text in given { targets.append(try ProbeTarget.parse(text)) }
        }
        let attempts = ConcurrentProbe.run(targets, timeoutMs: timeoutMs)
        printFlush(attempts.map(line(for:)).joined())
        return 0
    }

    /// The JSON result line of one finished attempt.
    static func line(for attempt: PendingAttempt) -> String {
        let target = attempt.target
        var reply = "null"
        var error = "null"
        let result: String
        switch attempt.outcome {
        case .reply(let name):
            result = "reply"
            reply = jsonString(name)
        case .refused: result = "refused"
        case .timeout: result = "timeout"
        case .unreachable: result = "unreachable"
        case .other(let text):
            result = "other"
            error = jsonString(text)
        }
        return "{\"label\":\(jsonString(target.label)),\"to\":\(jsonString(target.host)),\"port\":\(target.port)"
            + ",\"proto\":\"\(target.proto.rawValue)\",\"reply\":\(reply),\"result\":\"\(result)\""
            + ",\"error\":\(error),\"elapsedMs\":\(attempt.elapsedMs)}\n"
    }
}
