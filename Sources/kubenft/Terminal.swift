#if canImport(Glibc)
import Glibc
#endif
import KubeNFT
import KubeManifest
import NFTRuleset

/// Writing to the terminal without Foundation: stdout for results, stderr for diagnostics.
enum Terminal {
    static func out(_ text: String) { write(text, to: 1) }

    /// One line on stderr, whatever `text` holds (it often quotes input or kernel names).
    static func error(_ text: String) { write("kubenft: " + DisplayText.escaped(text) + "\n", to: 2) }

    static func report(_ diagnostics: [Diagnostic]) {
        var text = ""
        for diagnostic in diagnostics { text += diagnostic.description + "\n" }
        let errors = diagnostics.filter { $0.severity == .error }.count
        if errors > 0 { text += "kubenft: \(errors) error\(errors == 1 ? "" : "s"), nothing written\n" }
        write(text, to: 2)
    }

    /// Ends the process successfully without deallocating what the command built.
    static func finish() -> Never {
        exit(0)
    }

    /// Writes all bytes, retrying short writes and EINTR.
    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// Writes a file through a temporary sibling and rename, so readers never see half a ruleset.
enum FileOutput {
    struct WriteError: Error, CustomStringConvertible {
        var description: String
    }

    static func writeAtomically(_ text: String, to path: String) throws {
        let temporary = path + ".kubenft-tmp"
        guard let file = fopen(temporary, "w") else { throw WriteError(description: String(cString: strerror(errno))) }
        let written = fputs(text, file)
        let closed = fclose(file)
        guard written >= 0, closed == 0 else {
            unlink(temporary)
            throw WriteError(description: String(cString: strerror(errno)))
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(description: reason)
        }
    }
}
