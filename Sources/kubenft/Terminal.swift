#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
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

/// Writes `compile -o` output. A regular file (or a new one) is replaced atomically through a
/// temporary sibling and rename, keeping the mode of the file it replaces, so readers never see half a
/// ruleset. A character device or FIFO is opened and written in place: renaming over it would replace
/// a node such as /dev/null with a regular file. A symbolic link is refused unless the caller asks to
/// follow it, so a link planted at the output path cannot redirect a root-owned write.
enum FileOutput {
    /// Prints `text` on stdout, or writes it to `output` (exit 2 with the reason when it cannot).
    static func emit(_ text: String, to output: String?, followSymlinks: Bool) throws {
        guard let output else {
            Terminal.out(text)
            return
        }
        do {
            try write(text, to: output, followSymlinks: followSymlinks)
        } catch {
            Terminal.error("cannot write \(output): \(error)")
            throw ExitCode(2)
        }
    }

    struct WriteError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
        static func errno(_ what: String) -> WriteError { WriteError("\(what): \(String(cString: strerror(Glibc.errno)))") }
    }

    static func write(_ text: String, to path: String, followSymlinks: Bool) throws {
        var target = path
        var info = stat()
        guard lstat(path, &info) == 0 else {
            guard errno == ENOENT else { throw WriteError.errno("cannot inspect the output path") }
            return try replaceAtomically(path, with: text, mode: nil)
        }
        if info.st_mode & S_IFMT == S_IFLNK {
            guard followSymlinks else {
                throw WriteError("it is a symbolic link; give --follow-symlinks to write to the file it points to")
            }
            guard let resolved = realpath(path, nil) else { throw WriteError.errno("cannot resolve the symbolic link") }
            target = String(cString: resolved)
            free(resolved)
            guard stat(target, &info) == 0 else { throw WriteError.errno("cannot inspect the link's target") }
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: try replaceAtomically(target, with: text, mode: info.st_mode & 0o7777)
        case S_IFCHR, S_IFIFO: try writeInPlace(target, text)
        case S_IFDIR: throw WriteError("it is a directory")
        default: throw WriteError("it is neither a regular file, a character device nor a FIFO")
        }
    }

    /// Writes into a fresh, exclusively created temporary file beside `path`, then renames it over
    /// `path`. `mode` is the replaced file's mode; a new file gets 0666 less the umask.
    private static func replaceAtomically(_ path: String, with text: String, mode: mode_t?) throws {
        var template = Array((path + ".kubenft-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw WriteError.errno("cannot create a temporary file beside it") }
        let temporary = String(cString: template)
        do {
            defer { close(descriptor) }
            let mask = umask(0)
            umask(mask)
            guard fchmod(descriptor, mode ?? (0o666 & ~mask)) == 0 else { throw WriteError.errno("cannot set the file mode") }
            try writeAll(text, to: descriptor)
            guard fsync(descriptor) == 0 else { throw WriteError.errno("cannot flush") }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let failure = WriteError.errno("cannot rename the temporary file into place")
            unlink(temporary)
            throw failure
        }
    }

    private static func writeInPlace(_ path: String, _ text: String) throws {
        let descriptor = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw WriteError.errno("cannot open") }
        defer { close(descriptor) }
        try writeAll(text, to: descriptor)
    }

    /// Every byte of `text`, NULs included, retrying short writes and EINTR.
    private static func writeAll(_ text: String, to descriptor: Int32) throws {
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { throw WriteError.errno("cannot write") }
                offset += written
            }
        }
    }
}
