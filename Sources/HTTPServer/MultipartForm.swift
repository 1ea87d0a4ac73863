import Foundation

/// A `multipart/form-data` body (RFC 7578), as an HTML form without script posts a file:
/// a few named parts, each a text field or one file's bytes.
///
/// Small and bounded on purpose: the body is already held (and limited) by the server, the
/// parser keeps views into it, accepts at most `maxParts` parts with at most
/// `maxHeaderBytes` of headers each, and refuses anything it cannot read with a 400 that
/// says what was wrong (`code: malformed-multipart`), never a part silently dropped.
public struct MultipartForm: Sendable {
    public struct Part: Sendable {
        /// The form field's name (`Content-Disposition: form-data; name="…"`).
        public var name: String
        /// The file's name as the browser sent it, for a file part.
        public var filename: String?
        /// The part's `Content-Type`, lowercased without parameters, when sent.
        public var contentType: String?
        public var body: Data

        /// The body as text; a body that is not UTF-8 is refused, naming the field.
        public func text() throws -> String {
            guard let text = String(data: body, encoding: .utf8) else {
                throw MultipartForm.malformed("The field \(name) is not UTF-8 text.", field: name)
            }
            return text
        }
    }

    public private(set) var parts: [Part] = []

    /// The most parts a form may hold: the dashboard's forms have a file and a few fields.
    public static let maxParts = 16
    /// The most bytes of headers one part may carry.
    public static let maxHeaderBytes = 8192

    /// The part named `name`, if the form has it.
    public subscript(name: String) -> Part? { parts.first { $0.name == name } }

    /// The names of the parts, in order.
    public var names: [String] { parts.map(\.name) }

    /// Reads the request's body; its content type must be `multipart/form-data` with a boundary.
    public init(_ request: HTTPRequest) throws {
        guard request.contentType == "multipart/form-data" else {
            throw Problem(
                status: .unsupportedMediaType, code: "unsupported-media-type", title: "Unsupported media type",
                detail: "The form must be sent as multipart/form-data, not \(request.contentType ?? "without a type").")
        }
        let boundary = try Self.boundary(contentType: request.headers.first(name: "content-type") ?? "")
        try self.init(Data(request.body.readableBytesView), boundary: boundary)
    }

    /// Reads `body`, whose parts are separated by `--boundary`.
    public init(_ body: Data, boundary: String) throws {
        let delimiter = Data(("--" + boundary).utf8)
        let crlf = Data("\r\n".utf8)
        // The first delimiter opens the first part (anything before it is a preamble to ignore).
        guard let first = body.range(of: delimiter) else {
            throw Self.malformed("The body holds no part: the boundary never appears.")
        }
        var cursor = first.upperBound
        let separator = crlf + delimiter
        while true {
            // After a delimiter: `--` ends the form, a line break opens a part.
            let rest = body[cursor...]
            if rest.starts(with: Data("--".utf8)) { break }
            guard rest.starts(with: crlf) else {
                throw Self.malformed("A boundary line has text after the boundary.")
            }
            guard parts.count < Self.maxParts else {
                throw Self.malformed("The form holds more than \(Self.maxParts) parts.")
            }
            let start = rest.startIndex + crlf.count
            guard let end = body.range(of: separator, in: start..<body.endIndex) else {
                throw Self.malformed("The body ends inside a part: the closing boundary is missing.")
            }
            let part = try Self.part(body[start..<end.lowerBound])
            if self[part.name] != nil {
                throw Self.malformed("The field \(part.name) appears twice; send it once.", field: part.name)
            }
            parts.append(part)
            cursor = end.upperBound
        }
    }

    /// The `boundary` parameter of a `multipart/form-data` content type (RFC 2046: 1 to 70 characters).
    public static func boundary(contentType: String) throws -> String {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else {
                continue
            }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            guard (1...70).contains(value.utf8.count) else {
                throw malformed("The multipart boundary must be 1 to 70 characters.", field: "Content-Type")
            }
            return value
        }
        throw malformed("The multipart/form-data content type names no boundary.", field: "Content-Type")
    }

    /// One part: its headers up to the blank line, then its body.
    private static func part(_ bytes: Data) throws -> Part {
        let blank = Data("\r\n\r\n".utf8)
        // A part with no header at all starts with the blank line's second half.
        let headerEnd: Range<Data.Index>
        if bytes.starts(with: Data("\r\n".utf8)) {
            headerEnd = bytes.startIndex..<bytes.startIndex + 2
        } else {
            guard let found = bytes.range(of: blank, in: bytes.startIndex..<bytes.endIndex) else {
                throw malformed("A part's headers do not end with a blank line.")
            }
            headerEnd = found
        }
        guard headerEnd.lowerBound - bytes.startIndex <= maxHeaderBytes else {
            throw malformed("A part's headers are longer than \(maxHeaderBytes) bytes.")
        }
        guard let headerText = String(data: bytes[bytes.startIndex..<headerEnd.lowerBound], encoding: .utf8) else {
            throw malformed("A part's headers are not UTF-8 text.")
        }
        var disposition: String?
        var contentType: String?
        for line in headerText.components(separatedBy: "\r\n") where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw malformed("A part's header line has no colon: \(line.prefix(80))")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() {
            case "content-disposition": disposition = value
            case "content-type":
                contentType = value.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            default: continue
            }
        }
        guard let disposition else { throw malformed("A part has no Content-Disposition header.") }
        let parameters = dispositionParameters(disposition)
        guard parameters.type == "form-data", let name = parameters.values["name"], !name.isEmpty else {
            throw malformed("A part's Content-Disposition must be form-data with a name.")
        }
        return Part(
            name: name, filename: parameters.values["filename"], contentType: contentType,
            body: Data(bytes[headerEnd.upperBound...]))
    }

    /// `form-data; name="file"; filename="a.csv"` → the type and its parameters; quoted
    /// values may hold `;` and `\"`.
    static func dispositionParameters(_ header: String) -> (type: String, values: [String: String]) {
        var values: [String: String] = [:]
        var scalars = Substring(header)
        func take(while predicate: (Character) -> Bool) -> Substring {
            let taken = scalars.prefix(while: predicate)
            scalars = scalars.dropFirst(taken.count)
            return taken
        }
        let type = take { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        while scalars.first == ";" {
            scalars = scalars.dropFirst()
            let name = take { $0 != "=" && $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
            guard scalars.first == "=" else { continue }
            scalars = scalars.dropFirst()
            _ = take { $0 == " " }
            var value = ""
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                while let character = scalars.first, character != "\"" {
                    scalars = scalars.dropFirst()
                    if character == "\\", let escaped = scalars.first {
                        value.append(escaped)
                        scalars = scalars.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                scalars = scalars.dropFirst()
                _ = take { $0 != ";" }
            } else {
                value = take { $0 != ";" }.trimmingCharacters(in: .whitespaces)
            }
            if !name.isEmpty, values[name] == nil { values[name] = value }
        }
        return (type, values)
    }

    static func malformed(_ detail: String, field: String = "body") -> Problem {
        Problem.badRequest(detail, field: field, code: "malformed-multipart")
    }
}
