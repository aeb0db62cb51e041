import Dispatch
import KubeManifest
import Synchronization

extension Review {
    /// Runs `Pipeline.run` on the two versions `diff` compares side by side: the runs share
    /// nothing, so on two cores the pair takes about as long as the larger one.
    public static func pipelines(before: [String], after: [String], node: NodeOptions, strict: Bool = false)
        -> (before: PipelineResult, after: PipelineResult) {
        let slots = Mutex<[PipelineResult?]>([nil, nil])
        let inputs = [before, after]
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            let result = Pipeline.run(paths: inputs[index], node: node, strict: strict)
            slots.withLock { $0[index] = result }
        }
        let results = slots.withLock { $0 }
        // concurrentPerform returns after both iterations, so both slots are filled.
        return (results[0] ?? Pipeline.run(paths: before, node: node, strict: strict),
                results[1] ?? Pipeline.run(paths: after, node: node, strict: strict))
    }
}
