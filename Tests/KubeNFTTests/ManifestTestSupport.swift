@testable import KubeManifest

/// Loads inline manifests the way the CLI loads files.
func loadManifests(_ text: String, name: String = "m.yaml", options: LoadOptions = LoadOptions()) -> LoadResult {
    ManifestLoader.load([ManifestSource(name: name, bytes: Array(text.utf8))], options: options)
}

/// The printed form of every diagnostic, in order.
func diagnosticLines(_ result: LoadResult) -> [String] {
    result.diagnostics.map(\.description)
}

func ip(_ text: String) -> IPAddress {
    IPAddress(text) ?? IPAddress(bytes: [0, 0, 0, 0])!
}

func cidr(_ text: String) -> CIDR {
    CIDR(text) ?? CIDR(address: ip("0.0.0.0"), prefixLength: 0)!
}
