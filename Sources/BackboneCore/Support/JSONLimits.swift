import Foundation
// The JSON types are part of this module's API (bodies are read into `JSONValue`s), so
// every module that imports BackboneCore sees them, as when they lived here.
@_exported import JSON

extension JSONValue {
    /// Parses a document none of whose arrays may hold more than `maxArrayElements`
    /// elements; throws `TooManyRows` as soon as one does, before building the rest, and
    /// `JSONParseError` for anything else.
    public static func parse(_ data: Data, maxArrayElements: Int) throws -> JSONValue {
        do {
            return try JSONParser.parse(data, maxArrayElements: maxArrayElements)
        } catch {
            if case .tooManyElements(let limit) = error.reason { throw TooManyRows(limit: limit) }
            throw error
        }
    }
}
