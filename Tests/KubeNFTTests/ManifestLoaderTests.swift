import Testing
@testable import KubeManifest
