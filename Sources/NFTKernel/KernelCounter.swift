import NFTRuleset

/// A named counter object as the kernel holds it, without its values: what `verify` and
/// incremental updates compare (a counter that counted is still the same counter).
package struct KernelCounter: Hashable, Sendable {
    package var name: String
    package var comment: String?

    package init(name: String, comment: String? = nil) {
        self.name = name
        self.comment = comment
    }
}

extension KernelCounter {
    package init(_ counter: CounterObject) {
        name = counter.name
        comment = counter.comment.map(NFTQuoting.comment)
    }
}
