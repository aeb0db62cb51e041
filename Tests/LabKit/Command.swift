/// Runs programs for tests that drive `ip`, `nft` or the `kubenft` binary directly, outside any
/// lab namespace (or inside one through `ip netns exec`).
public enum Command {
    /// Runs `argv` (looked up in PATH), feeding `stdin`, and returns status and output.
    public static func run(_ argv: [String], stdin: String? = nil, timeoutMs: Int = 120_000) throws -> CommandResult {
        try Subprocess.run(argv, stdin: stdin, timeoutMs: timeoutMs)
    }

    /// Runs `argv` and returns its standard output; throws with its standard error on a non-zero exit.
    @discardableResult
    public static func output(_ argv: [String], stdin: String? = nil, timeoutMs: Int = 120_000) throws -> String {
        let result = try run(argv, stdin: stdin, timeoutMs: timeoutMs)
        guard result.status == 0 else { throw LabError.commandFailed(command: argv, result: result) }
        return result.stdout
    }
}
