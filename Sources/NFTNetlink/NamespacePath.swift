#if canImport(Glibc)
import Glibc
#endif
import NFTKernel

/// Turns a `--netns` argument into the path of a network namespace, refusing what would name
/// something else: a name must be one entry of /var/run/netns (no `/`, not `.`, `..` or empty),
/// so `../netns/other` cannot reach another namespace or any other file; anything else is an
/// absolute path. It must exist and be a network namespace, checked before a socket is opened.
enum NamespacePath {
    static let directory = "/var/run/netns/"

    /// The path for `namespace` (nil: the caller's own namespace, nil path).
    static func resolve(_ namespace: String?) throws(NetlinkError) -> String? {
        guard let namespace else { return nil }
        let path: String
        if namespace.hasPrefix("/") {
            path = namespace
        } else {
            guard !namespace.isEmpty, namespace != ".", namespace != "..", !namespace.contains("/"), !namespace.contains("\0") else {
                throw NetlinkError(.missingNamespace, code: EINVAL,
                                   "network namespace name \"\(namespace)\" is not valid: a name is one entry of \(directory)"
                                   + " (no '/', not '.' or '..'); give an absolute path for a namespace elsewhere")
            }
            path = directory + namespace
        }
        guard access(path, F_OK) == 0 else {
            throw NetlinkError(.missingNamespace, code: ENOENT, "network namespace \(namespace) does not exist (no \(path))")
        }
        return path
    }

    /// The error for a namespace the kernel would not enter (`setns` said EINVAL): not a namespace.
    static func notANamespace(_ path: String) -> NetlinkError {
        NetlinkError(.missingNamespace, code: EINVAL, "\(path) is not a network namespace")
    }
}
