import NFTRuleset

/// Puts names from the input into Markdown (a pull-request comment) as inert text. Every such name
/// goes into a code span, where Markdown renders no links, emphasis, headings or HTML; the span's
/// fence is longer than any run of backticks in the name, so the name cannot close it, and line
/// breaks and other control characters become visible escapes, so it cannot leave its line, list item
/// or table row.
enum Markdown {
    /// A code span showing `text` literally. In a table cell `|` is escaped as GitHub requires there
    /// (it would otherwise end the cell, even inside a code span).
    static func code(_ text: String, inTable: Bool = false) -> String {
        var content = DisplayText.escaped(text)
        if inTable { content = content.replacingPipes() }
        if content.isEmpty { return "` `" }
        var longest = 0, run = 0
        for scalar in content.unicodeScalars {
            run = scalar == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        // CommonMark strips one space from each end when both ends have one; padding keeps a leading
        // or trailing backtick apart from the fence and survives that stripping unchanged.
        let padded = content.first == "`" || content.last == "`" || content.first == " " || content.last == " "
        return padded ? fence + " " + content + " " + fence : fence + content + fence
    }
}

extension String {
    fileprivate func replacingPipes() -> String {
        var out = ""
        for scalar in unicodeScalars {
            if scalar == "|" { out += "\\|" } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }
}
