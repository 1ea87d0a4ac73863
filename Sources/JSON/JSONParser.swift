import Foundation

/// A small, strict JSON parser straight to `JSONValue`.
///
/// Decoding an untyped value with `Decodable` means trying each type in turn and catching
/// the failures, which made a 10,000-row batch spend most of its time building and
/// discarding errors. This reads each byte once. Beyond RFC 8259's grammar it refuses
/// what would otherwise be read silently wrong: text that is not UTF-8, a member name
/// twice in one object, and numbers a `Double` cannot hold to the last whole digit (or
/// so close to zero that they would read as zero).
public struct JSONParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0
    private var maxArrayElements = Int.max
    /// Deepest nesting of arrays and objects accepted; far beyond any body Backbone takes.
    public static let maxDepth = 64
    /// Numbers must be smaller in magnitude than 2^53: below it a `Double` holds every
    /// whole number exactly, above it `9007199254740993` would quietly become `…992`.
    public static let maxExactMagnitude = 9_007_199_254_740_992.0

    /// Parses one JSON document; no array in it may hold more than `maxArrayElements`
    /// elements (the parse stops at the first that does, before building the rest).
    public static func parse(_ data: Data, maxArrayElements: Int = .max) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: [UInt8](data))
        parser.maxArrayElements = maxArrayElements
        parser.skipWhitespace()
        let value = try parser.value()
        parser.skipWhitespace()
        guard parser.position == parser.bytes.count else { throw parser.syntax("unexpected text after the JSON value") }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func syntax(_ message: String) -> JSONParseError {
        JSONParseError(reason: .syntax(message), offset: position)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func value() throws(JSONParseError) -> JSONValue {
        guard position < bytes.count else { throw syntax("unexpected end") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(try number())
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw syntax("unexpected end") }
        for index in 0..<count where bytes[position + index] != word.utf8Start[index] {
            throw syntax("unexpected character")
        }
        position += count
    }

    private mutating func nest() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maxDepth else {
            throw JSONParseError(reason: .tooDeep(Self.maxDepth), offset: position)
        }
    }

    private mutating func object() throws(JSONParseError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw syntax("expected a member name")
            }
            let nameOffset = position
            let name = try string()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw syntax("expected ':'") }
            position += 1
            skipWhitespace()
            // The path to an error is built on the way out, so a valid body pays nothing for it.
            do throws(JSONParseError) {
                let member = try value()
                if members.updateValue(member, forKey: name) != nil {
                    throw JSONParseError(reason: .duplicateKey(name), offset: nameOffset)
                }
            } catch {
                throw error.inside(.key(name))
            }
            skipWhitespace()
            guard position < bytes.count else { throw syntax("unexpected end") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            } else {
                throw syntax("expected ',' or '}'")
            }
        }
    }

    private mutating func array() throws(JSONParseError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        position += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            guard elements.count < maxArrayElements else {
                throw JSONParseError(reason: .tooManyElements(maxArrayElements), offset: position)
            }
            do throws(JSONParseError) {
                elements.append(try value())
            } catch {
                throw error.inside(.index(elements.count))
            }
            skipWhitespace()
            guard position < bytes.count else { throw syntax("unexpected end") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
            } else if bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            } else {
                throw syntax("expected ',' or ']'")
            }
        }
    }

    /// Text between `from` and `to`, refused unless it is valid UTF-8 (which also rules
    /// out encoded surrogates and overlong forms).
    private func text(_ from: Int, _ to: Int, ascii: Bool) throws(JSONParseError) -> String {
        if ascii { return String(decoding: bytes[from..<to], as: UTF8.self) }
        let text: String?
        if #available(macOS 15, *) {
            text = String(validating: bytes[from..<to], as: UTF8.self)
        } else {
            text = String(bytes: bytes[from..<to], encoding: .utf8)
        }
        guard let text else { throw JSONParseError(reason: .invalidUTF8, offset: from) }
        return text
    }

    private mutating func string() throws(JSONParseError) -> String {
        position += 1
        let start = position
        var ascii = true
        // Fast path: no escapes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = try text(start, position, ascii: ascii)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw syntax("control character in a string") }
            if byte >= 0x80 { ascii = false }
            position += 1
        }
        var result = try text(start, position, ascii: ascii)
        // Runs of plain bytes between escapes; escapes are ASCII, so a run never splits a character.
        var run = position
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                result += try text(run, position, ascii: false)
                position += 1
                return result
            case UInt8(ascii: "\\"):
                result += try text(run, position, ascii: false)
                position += 1
                guard position < bytes.count else { throw syntax("unexpected end") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): result.unicodeScalars.append("\"")
                case UInt8(ascii: "\\"): result.unicodeScalars.append("\\")
                case UInt8(ascii: "/"): result.unicodeScalars.append("/")
                case UInt8(ascii: "b"): result.unicodeScalars.append("\u{08}")
                case UInt8(ascii: "f"): result.unicodeScalars.append("\u{0C}")
                case UInt8(ascii: "n"): result.unicodeScalars.append("\n")
                case UInt8(ascii: "r"): result.unicodeScalars.append("\r")
                case UInt8(ascii: "t"): result.unicodeScalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800...0xDBFF).contains(code) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                            bytes[position + 1] == UInt8(ascii: "u")
                        else {
                            throw syntax("unpaired surrogate")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw syntax("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw syntax("invalid \\u escape") }
                    result.unicodeScalars.append(scalar)
                default:
                    throw syntax("invalid escape")
                }
                run = position
            default:
                guard byte >= 0x20 else { throw syntax("control character in a string") }
                position += 1
            }
        }
        throw syntax("unterminated string")
    }

    private mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard position + 4 <= bytes.count else { throw syntax("unexpected end") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            position += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw syntax("invalid \\u escape")
            }
            code = code * 16 + UInt32(digit)
        }
        return code
    }

    /// Strict JSON number grammar. Whole numbers of up to 15 digits (nearly all a body
    /// holds) are read directly; the rest are converted by the C library.
    private mutating func number() throws(JSONParseError) -> Double {
        let start = position
        func digits() -> Int {
            let from = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            return position - from
        }
        let negative = bytes[position] == UInt8(ascii: "-")
        if negative { position += 1 }
        let integer = digits()
        guard integer > 0 else { throw syntax("unexpected character") }
        if integer > 1, bytes[position - integer] == UInt8(ascii: "0") { throw syntax("leading zero in a number") }
        var whole = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            whole = false
            guard digits() > 0 else { throw syntax("digits expected after '.'") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            whole = false
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() > 0 else { throw syntax("digits expected in the exponent") }
        }
        if whole, integer <= 15 {
            var magnitude = 0
            for byte in bytes[(position - integer)..<position] { magnitude = magnitude * 10 + Int(byte - 0x30) }
            return negative ? -Double(magnitude) : Double(magnitude)
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let number = Double(text), abs(number) < Self.maxExactMagnitude, !JSONNumber.underflows(text, to: number)
        else {
            throw JSONParseError(reason: .numberOutOfRange(text), offset: start)
        }
        return number
    }
}
