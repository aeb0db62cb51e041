/// Proves a ruleset loads in a real kernel without touching the host: each
/// call uses a throwaway network namespace.
public enum NetnsChecker {
    /// Loads `text` with `nft -f -` in a fresh namespace, then deletes it.
    /// Returns `nil` on success, nft's stderr on failure. Throws `LabUnavailable`
    /// (or `LabError.requiredButUnavailable` under CI) when namespaces cannot be used.
    public static func loadOnly(text: String) throws -> String? {
        try Environment.ensureKernelLab()
        let name = "kn-" + randomLabID() + "-chk"
        let add = try Subprocess.run(["ip", "netns", "add", name])
        guard add.status == 0 else {
            throw LabError.commandFailed(command: ["ip", "netns", "add", name], result: add)
        }
        defer { _ = try? Subprocess.run(["ip", "netns", "del", name]) }
        let load = try Subprocess.run(["ip", "netns", "exec", name, "nft", "-f", "-"], stdin: text)
        if load.status == 0 { return nil }
        return load.stderr.isEmpty ? "nft exited with status \(load.status)" : load.stderr
    }
}
