/// A disaggregation an indicator declares: a name and its allowed values.
public struct Dimension: Sendable, Equatable {
    public var name: String
    public var values: [String]

    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }
}
