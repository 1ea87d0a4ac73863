/// Why a document was refused, where (byte offset), and inside which member.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// Not JSON at all: a missing comma, an unterminated string, a bad escape.
        case syntax(String)
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A member name that appears twice in one object (the path ends at it).
        case duplicateKey(String)
        /// A number (as written) that a `Double` cannot hold to the last whole digit, or
        /// one so close to zero that it would read as zero (or keep too few digits).
        case numberOutOfRange(String)
        /// Arrays and objects nested deeper than this.
        case tooDeep(Int)
        /// An array with more elements than the caller allows.
        case tooManyElements(Int)
    }

    /// One step from the document's root to the offending value.
    public enum PathComponent: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public var reason: Reason
    /// Byte offset in the document where the problem was found.
    public var offset: Int
    /// Members and elements leading to the offending value, outermost first.
    public var path: [PathComponent] = []

    public init(reason: Reason, offset: Int, path: [PathComponent] = []) {
        self.reason = reason
        self.offset = offset
        self.path = path
    }

    /// The same error, one level further out.
    func inside(_ component: PathComponent) -> JSONParseError {
        var error = self
        error.path.insert(component, at: 0)
        return error
    }

    /// The path as a field name: `measurements[3].dimensions.age_group`.
    public static func field(_ path: some Collection<PathComponent>) -> String {
        path.reduce(into: "") { text, component in
            switch component {
            case .key(let name): text += text.isEmpty ? name : ".\(name)"
            case .index(let index): text += "[\(index)]"
            }
        }
    }

    /// What is wrong, in words, without the location.
    public var message: String {
        switch reason {
        case .syntax(let message): return message
        case .invalidUTF8: return "is not valid UTF-8 text"
        case .duplicateKey(let name): return "\(name) appears more than once in the same object"
        case .numberOutOfRange(let text):
            return
                "\(text) cannot be held exactly; numbers must lie strictly between -2^53 and 2^53 (±9007199254740992), and one that is not zero must not be smaller in magnitude than 2.2e-308"
        case .tooDeep(let limit): return "arrays and objects are nested more than \(limit) levels deep"
        case .tooManyElements(let limit): return "an array holds more than \(limit) elements"
        }
    }

    public var description: String {
        let field = Self.field(path)
        return (field.isEmpty ? "" : "\(field): ") + message + " (at byte \(offset))"
    }
}
