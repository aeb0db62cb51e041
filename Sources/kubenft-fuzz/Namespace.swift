import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The throwaway network namespace in which `nft -c` checks outputs, so nothing is ever loaded
/// into (or checked against) the host's ruleset. Deleted at exit and on SIGINT / SIGTERM.
final class ThrowawayNamespace: @unchecked Sendable {
    let name: String
    private var signalSources: [DispatchSourceSignal] = []

    init(scratch: String) throws {
        var rng = SystemRandomNumberGenerator()
        name = "kn-fuzz-" + String(rng.next() & 0xFFFF_FFFF, radix: 16)
        let add = try Subprocess.run(["ip", "netns", "add", name], timeout: 20, scratch: scratch)
        guard add.exitStatus == 0 else {
            throw Subprocess.LaunchFailure(description: "cannot create network namespace \(name): \(add.stderrText)")
        }
        installSignalCleanup()
    }

    /// `nft ARGS` inside the namespace.
    func nft(_ arguments: [String], scratch: String) throws -> ProcessOutcome {
        try Subprocess.run(["ip", "netns", "exec", name, "nft"] + arguments, timeout: 60, scratch: scratch)
    }

    func remove() {
        let task = Process()
        task.executableURL = URL(fileURLWithPath: (try? Subprocess.resolve("ip")) ?? "/usr/sbin/ip")
        task.arguments = ["netns", "del", name]
        task.standardError = FileHandle.nullDevice
        try? task.run()
        task.waitUntilExit()
    }

    private func installSignalCleanup() {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [name = self.name] in
                FileHandle.standardError.write(Data("kubenft-fuzz: interrupted, removing namespace \(name)\n".utf8))
                self.remove()
                exit(130)
            }
            source.resume()
            signalSources.append(source)
        }
    }
}
