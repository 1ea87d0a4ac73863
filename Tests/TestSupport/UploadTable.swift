/// Reads the upload page's dry-run table as tests check it: a row is one line of the page
/// (`<tr id="row-N" …>…</tr>`), a cell runs from its `<td data-field="…">` to the next.
public enum UploadTable {
    /// The cell of `field` in row `row` (its problems and an outlier's history included).
    public static func cell(_ html: String, row: Int, field: String) -> Substring? {
        guard let start = html.range(of: "<tr id=\"row-\(row)\"") else { return nil }
        let line = html[start.lowerBound...].prefix { $0 != "\n" }
        guard let cell = line.range(of: "<td data-field=\"\(field)\"") else { return nil }
        let rest = line[cell.upperBound...]
        let end = rest.range(of: "<td data-field=")?.lowerBound ?? rest.endIndex
        return line[cell.lowerBound..<end]
    }
}
