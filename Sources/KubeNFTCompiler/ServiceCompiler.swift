import KubeManifest
import NFTRuleset
