/// Why a rule's expression cannot be read, and where: `position` is the 1-based character
/// of the problem (one past the end for an expression that stops too early).
public struct RuleSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var position: Int

    public init(_ message: String, at position: Int) {
        self.message = message
        self.position = position
    }

    public var description: String { "\(message) (at character \(position))" }
}
