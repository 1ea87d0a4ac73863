extension RawRepresentable where RawValue == String {
    /// A stored enum value, strictly: an unknown value is an error someone sees, never a
    /// default that would quietly change what a report computes.
    static func stored(_ text: String, column: String) throws -> Self {
        guard let value = Self(rawValue: text) else {
            throw DomainError.storedData(
                column: column, "holds \(text.debugDescription), which this version does not know")
        }
        return value
    }
}
