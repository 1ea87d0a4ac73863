/// An extension member of a problem document (RFC 9457 §3.2), such as the parameters a
/// route takes next to an `unknown-parameter`.
public enum ProblemExtension: Sendable, Equatable, Encodable {
    case text(String)
    case integer(Int)
    case list([String])

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .integer(let number): try container.encode(number)
        case .list(let list): try container.encode(list)
        }
    }
}

/// A coding key for extension members, whose names are not known in advance.
struct ProblemExtensionKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
