/// One measurement row as a partner sent it, before it is checked against the registry.
public struct SubmittedRow: Sendable {
    /// JSON rows count from 0; CSV data rows from 1 after the header.
    public var row: Int
    public var partner: String?
    public var indicator: String?
    public var neighborhood: String?
    public var period: String?
    public var value: Double?
    public var numerator: Double?
    public var denominator: Double?
    public var dimensions: [String: String] = [:]
    public var note: String?
    /// Which of value/numerator/denominator were sent (even if unreadable).
    public var sentValueFields: Set<String> = []
    /// Fields sent with a value that could not be read (already reported, so not also
    /// "required"): `partner`, `dimensions.age_group`, …
    public var unreadableFields: Set<String> = []

    public init(row: Int) {
        self.row = row
    }
}
