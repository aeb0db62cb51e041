#if canImport(Glibc)
import Glibc
#endif

/// Which kernel modules a ruleset's objects need, and whether this kernel has them (loaded,
/// built in, or installed for loading on demand).
enum KernelModules {
    static func modules(for expressions: [KernelExpression]) -> [String] {
        var names: [String] = []
        for expression in expressions {
            switch expression {
            case .conntrack: names.append("nft_ct")
            case .fib: names.append("nft_fib_inet")
            case .numgen: names.append("nft_numgen")
            case .dnat: names.append("nft_nat")
            case .masquerade: names.append("nft_masq")
            case .reject: names.append("nft_reject_inet")
            case .objref: names.append("nft_objref")
            case .log: names.append("nft_log")
            default: break
            }
        }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// The modules of `names` this kernel cannot provide.
    static func missing(_ names: [String]) -> [String] { names.filter { !available($0) } }

    static func available(_ name: String) -> Bool {
        if access("/sys/module/\(name)", F_OK) == 0 { return true }
        var uts = utsname()
        guard uname(&uts) == 0 else { return true }
        let release = withUnsafeBytes(of: &uts.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        for file in ["modules.dep", "modules.builtin"] {
            guard let text = readFile("/lib/modules/\(release)/\(file)") else { continue }
            if text.contains("/\(name).ko") { return true }
        }
        return false
    }

    private static func readFile(_ path: String) -> String? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            if count <= 0 { break }
            bytes += chunk.prefix(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
