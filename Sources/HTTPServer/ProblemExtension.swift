import JSON

/// An extension member of a problem document (RFC 9457 §3.2), such as the parameters a
/// route takes next to an `unknown-parameter`.
public enum ProblemExtension: Sendable, Equatable, JSONRepresentable {
    case text(String)
    case integer(Int)
    case list([String])

    public var json: JSONValue {
        switch self {
        case .text(let text): return .string(text)
        case .integer(let number): return JSONValue(number)
        case .list(let list): return JSONValue(list)
        }
    }
}
