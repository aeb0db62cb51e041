import KubeManifest

extension Review {
    /// Runs `Pipeline.run` on the two versions `diff` compares side by side: the runs share
    /// nothing, so on two cores the pair takes about as long as the larger one.
    public static func pipelines(before: [String], after: [String], node: NodeOptions, strict: Bool = false)
        -> (before: PipelineResult, after: PipelineResult) {
        let inputs = [before, after]
        let results = Concurrently.map(2) { Pipeline.run(paths: inputs[$0], node: node, strict: strict) }
        return (results[0], results[1])
    }
}
