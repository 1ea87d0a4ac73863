import Aggregation

extension FieldReader {
    /// A period (`2026`, `2026-Q3`, `2026-10`, `2026-W05`); the indicator's period type is the domain's check.
    mutating func period(_ field: String, required: Bool = false) -> Period? {
        guard let text = string(field, required: required, maxLength: 16) else { return nil }
        guard let period = Period(text) else {
            fail(field, "malformed-period", "must be a period such as 2026, 2026-Q3, 2026-10 or 2026-W05")
            return nil
        }
        return period
    }
}
