/// Comma-separated values (RFC 4180) for spreadsheets. Fields from the input are quoted, and a
/// field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) is
/// prefixed with `'` so that opening the file never evaluates anything.
enum CSV {
    static func row(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\r\n" }

    static func field(_ text: String) -> String {
        var text = text
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "'" }) else { return text }
        return "\"" + text.replacingQuotes() + "\""
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "\"" ? "\"\"" : String(character) }
        return out
    }
}

extension ChangeReport {
    /// One row per newly allowed or blocked connection: change, from, to, protocol, port (or
    /// `FIRST-LAST` for a class of ports), reason.
    public var csv: String {
        var out = CSV.row(["change", "from", "to", "protocol", "port", "reason"])
        for connection in allowed {
            out += CSV.row(["allowed", connection.from, connection.to, connection.transport.nftName, ChangeReport.ports(connection), connection.reason])
        }
        for connection in blocked {
            out += CSV.row(["blocked", connection.from, connection.to, connection.transport.nftName, ChangeReport.ports(connection), connection.reason])
        }
        return out
    }
}
