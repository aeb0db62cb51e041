import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Finds (or builds, once per process) the `kubenft-lab-agent` executable.
///
/// Order: `$KUBENFT_LAB_AGENT`; next to the running test binary (the same build
/// products directory); otherwise `swift build --product kubenft-lab-agent`
/// into `<package>/.build-lab-agent`, which is incremental and so never stale.
public enum AgentLocator {
    static let productName = "kubenft-lab-agent"
    private static let cache = LockedBox<Result<String, LabError>?>(nil)

    /// The agent's absolute path.
    public static func agentPath() throws -> String {
        let result = cache.withValue { cached -> Result<String, LabError> in
            if let known = cached { return known }
            let found = locate()
            cached = found
            return found
        }
        return try result.get()
    }

    static func locate() -> Result<String, LabError> {
        if let explicit = ProcessInfo.processInfo.environment["KUBENFT_LAB_AGENT"], !explicit.isEmpty {
            guard access(explicit, X_OK) == 0 else {
                return .failure(.invalidRequest("KUBENFT_LAB_AGENT=\(explicit) is not executable"))
            }
            return .success(explicit)
        }
        for dir in productDirectories() {
            let candidate = dir + "/" + productName
            if access(candidate, X_OK) == 0 { return .success(candidate) }
        }
        return build()
    }

    /// An executable of this package built beside the running test bundle (e.g. `kubenft`).
    public static func builtProduct(_ name: String) throws -> String {
        let exe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var directory = URL(fileURLWithPath: exe).deletingLastPathComponent()
        if directory.path.hasSuffix(".xctest") { directory.deleteLastPathComponent() }
        let candidate = directory.appendingPathComponent(name).path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw LabError.invalidRequest("\(name) not built at \(candidate); run swift build --build-tests first")
        }
        return candidate
    }

    /// Directories of the running executable (resolved and as invoked).
    static func productDirectories() -> [String] {
        var dirs: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            dirs.append((exe as NSString).deletingLastPathComponent)
        }
        if let first = CommandLine.arguments.first, first.contains("/") {
            let absolute = first.hasPrefix("/") ? first : FileManager.default.currentDirectoryPath + "/" + first
            dirs.append((absolute as NSString).deletingLastPathComponent)
        }
        return dirs
    }

    /// The package root, derived from this file's location (Tests/LabKit/<file>).
    static var packageRoot: String {
        let file = URL(fileURLWithPath: #filePath)
        return file.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func build() -> Result<String, LabError> {
        let scratch = packageRoot + "/.build-lab-agent"
        let argv = ["swift", "build", "--package-path", packageRoot, "--scratch-path", scratch, "--product", productName]
        do {
            let result = try Subprocess.run(argv, timeoutMs: 900_000)
            guard result.status == 0 else { return .failure(.commandFailed(command: argv, result: result)) }
        } catch let error as LabError {
            return .failure(error)
        } catch {
            return .failure(.invalidRequest("cannot run swift build: \(error)"))
        }
        let path = scratch + "/debug/" + productName
        guard access(path, X_OK) == 0 else { return .failure(.invalidRequest("built agent missing at \(path)")) }
        return .success(path)
    }
}
