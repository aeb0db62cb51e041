import NFTRuleset
import KubeManifest

/// Derives nft identifiers from Kubernetes names. Valid Kubernetes names pass through readable
/// (`svc4-shop/api/tcp/http`); anything else is reduced to safe characters and made unique with a
/// hash after `__` (which a clean name never contains), so no name can break nft's syntax, collide, hit a keyword (every name has a prefix with a
/// digit or dash) or exceed the kernel's 255-byte limit.
enum Naming {
    static let maximumLength = 200

    static func identifier(_ prefix: String, _ components: [String]) -> String {
        var clean = true
        let parts = components.map { component -> String in
            var out = ""
            for scalar in component.unicodeScalars {
                let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "-" || scalar == "."
                out.unicodeScalars.append(ok ? scalar : "_")
                if !ok { clean = false }
            }
            if out.isEmpty { clean = false }
            return out
        }
        var name = prefix + "-" + parts.joined(separator: "/")
        if !clean || name.utf8.count > maximumLength {
            let digest = hash(components.joined(separator: "\u{0}"))
            name = String(name.prefix(maximumLength - 18)) + "__" + digest
        }
        return name
    }

    /// 64-bit FNV-1a as 16 hex digits: stable across runs and platforms.
    static func hash(_ text: String) -> String { NFTQuoting.fnv1a(text) }

    /// The port's name, or its number when unnamed.
    static func portLabel(_ port: ServicePort) -> String { port.name.isEmpty ? String(port.port) : port.name }

    /// `ns/name:port`, the form rule comments use.
    static func serviceLabel(_ service: Service, _ port: ServicePort) -> String {
        "\(service.meta.qualifiedName):\(portLabel(port))"
    }

    static func familySuffix(_ family: IPFamily) -> String { family == .v4 ? "4" : "6" }
}
