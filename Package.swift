// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "kubenft",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "kubenft", targets: ["kubenft"]),
        .library(name: "KubeNFT", targets: ["KubeNFT"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libyaml's event parser, used directly for fast manifest ingest.
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // IPv4 / IPv6 addresses and prefixes shared by the model and the ruleset IR.
        .target(name: "NetAddress"),
        // Kubernetes manifests: documents, typed model, validation, diagnostics.
        .target(name: "KubeManifest", dependencies: ["CLibYAML", "NetAddress"]),
        // The nftables ruleset IR and its text / JSON emitters.
        .target(name: "NFTRuleset", dependencies: ["NetAddress"]),
        // The same ruleset IR written as iptables-restore / ip6tables-restore input.
        .target(name: "IPTablesRuleset", dependencies: ["NetAddress", "NFTRuleset"]),
        // Follows a packet through a ruleset IR, as the kernel would.
        .target(name: "NFTTrace", dependencies: ["NetAddress", "NFTRuleset"]),
        // Pure compilers from the typed model to the ruleset IR.
        .target(name: "KubeNFTCompiler", dependencies: ["KubeManifest", "NFTRuleset"]),
        // The ruleset at the kernel's level, without the kernel: IR <-> kernel expressions (linearizer,
        // raiser, element and set encoding, field facts), fingerprints, the one keyed comparison of
        // two tables and the incremental plans. Pure: unit-tested without root or libnftnl.
        .target(name: "NFTKernel", dependencies: ["NFTRuleset", "NetAddress"]),
        // The pipeline the CLI drives: load, compile, emit.
        .target(name: "KubeNFT", dependencies: ["KubeManifest", "NFTRuleset", "KubeNFTCompiler", "NFTTrace", "IPTablesRuleset", "NFTKernel"]),
        .executableTarget(
            name: "kubenft",
            dependencies: ["KubeNFT", "NFTNetlink", "IPTablesRuleset", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "KubeNFTTests", dependencies: ["KubeNFT", "KubeManifest", "NFTRuleset", "KubeNFTCompiler", "LabKit", "IPTablesRuleset"]),
        // Kernel lab: a network agent run inside namespaces, the harness, and its tests.
        .executableTarget(name: "kubenft-lab-agent"),
        .target(name: "LabKit", path: "Tests/LabKit"),
        .testTarget(name: "LabKitTests", dependencies: ["LabKit"]),
        // Loading rulesets over netlink: libnftnl + libmnl, a small C shim, and the thin Swift transport
        // (socket, batches, acks, readback, state file, conntrack, counters).
        .systemLibrary(
            name: "CNftnl",
            pkgConfig: "libnftnl",
            providers: [.apt(["libnftnl-dev", "libmnl-dev"])]
        ),
        .target(name: "CNftnlShim", dependencies: ["CNftnl"]),
        .target(name: "NFTNetlink", dependencies: ["CNftnl", "CNftnlShim", "NFTKernel", "NFTRuleset", "NetAddress"]),
        .testTarget(name: "NFTNetlinkTests", dependencies: ["NFTNetlink", "NFTKernel", "NFTRuleset", "KubeNFT", "LabKit"]),
        // Load-time benchmark: libnftnl against nft -f, full and incremental.
        .executableTarget(name: "kubenft-apply-bench", dependencies: ["KubeNFT", "NFTNetlink", "NFTRuleset"]),
        // Release-mode benchmark: synthetic clusters through load, compile, emit and nft -f.
        .executableTarget(name: "kubenft-bench", dependencies: ["KubeManifest", "KubeNFTCompiler", "NFTRuleset", "KubeNFT"]),
        // Hostile-input fuzzer: drives the kubenft binary and checks every output (scripts/fuzz.sh).
        .executableTarget(name: "kubenft-fuzz", dependencies: ["CLibYAML", "KubeManifest", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ]
)
