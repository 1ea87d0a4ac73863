import Foundation
import JSON
import Testing

@Suite("JSON parsing")
struct JSONParserTests {
    @Test func readsEveryKindOfValue() throws {
        let text =
            #"{"s": "caf\u00e9 \ud83d\ude80 \"q\" \\ \/ \n", "n": -12.5e2, "z": 0, "t": true, "f": false, "x": null, "a": [1, [], {}], "plain": "日本"}"#
        let value = try JSONValue.parse(Data(text.utf8))
        #expect(
            value
                == .object([
                    "s": .string("café 🚀 \"q\" \\ / \n"), "n": .number(-1250), "z": .number(0), "t": .bool(true),
                    "f": .bool(false),
                    "x": .null, "a": .array([.number(1), .array([]), .object([:])]), "plain": .string("日本"),
                ]))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"unterminated", "{\"a\":1} x", "\"\\x\"", "NaN",
        "\"\\ud800\"", "\u{FEFF}1",
    ])
    func refusesMalformedInput(_ text: String) throws {
        let error = try #require(throws: JSONParseError.self) { try JSONValue.parse(Data(text.utf8)) }
        guard case .syntax = error.reason else { Issue.record("\(error)"); return }
    }

    @Test func agreesWithFoundationOnNumbers() throws {
        for text in [
            "0.1", "-0", "2.5E-3", "9007199254740991", "-9007199254740991", "123456789012345", "1234567890123456",
            "0.30000000000000004", "1e15",
        ] {
            let ours = try JSONValue.parse(Data(text.utf8))
            #expect(ours == .number(Double(text)!), "\(text)")
        }
    }

    /// Long decimals are rounded correctly (as the C library reads them), and a string
    /// that begins with U+FEFF keeps it; Foundation on Linux gets both wrong.
    @Test func readsLongDecimalsAndByteOrderMarksFaithfully() throws {
        for text in ["-537278.0774875369999", "6.8134094167206412345e-43", "0.100000000000000000000000000001"] {
            #expect(try JSONValue.parse(Data(text.utf8)) == .number(strtod(text, nil)), "\(text)")
        }
        #expect(try JSONValue.parse(Data("\"\u{FEFF}a\"".utf8)) == .string("\u{FEFF}a"))
        #expect(try JSONValue.parse(Data(#""\ufeffa""#.utf8)) == .string("\u{FEFF}a"))
    }

    /// Whole numbers a double cannot hold exactly are refused, not rounded: 2^53 + 1 would
    /// read as 2^53.
    @Test(arguments: [
        "9007199254740992", "9007199254740993", "-9007199254740993", "123456789012345678", "1e308", "1e400",
        "9007199254740993.0", "-1.5e16",
    ])
    func refusesNumbersBeyondExactWholeNumbers(_ text: String) throws {
        let error = try #require(throws: JSONParseError.self) {
            try JSONValue.parse(Data(#"{"rows": [{"value": \#(text)}]}"#.utf8))
        }
        #expect(error.reason == .numberOutOfRange(text))
        #expect(error.path == [.key("rows"), .index(0), .key("value")])
        #expect(JSONParseError.field(error.path) == "rows[0].value")
    }

    /// Numbers so close to zero that a double reads them as zero, or as a subnormal that
    /// keeps too few digits, are refused; zero itself, however written, is read.
    @Test(arguments: ["0.1e-400", "1e-400", "-1e-400", "4.9e-324", "2.2e-310", "0.000000001e-320"])
    func refusesNumbersThatUnderflow(_ text: String) throws {
        let error = try #require(throws: JSONParseError.self) {
            try JSONValue.parse(Data(#"{"value": \#(text)}"#.utf8))
        }
        #expect(error.reason == .numberOutOfRange(text))
        #expect(error.path == [.key("value")])
    }

    @Test(arguments: ["0", "-0", "0.0", "0e5", "0.000e-400", "-0.0E+9", "2.3e-308"])
    func readsZeroAndTheSmallestNormalNumbers(_ text: String) throws {
        #expect(try JSONValue.parse(Data(text.utf8)) == .number(strtod(text, nil)))
    }

    @Test func refusesADuplicateKeyNamingItsPath() throws {
        let body = #"{"measurements": [{"value": 1}, {"value": 1, "dimensions": {"age": "a", "age": "b"}}]}"#
        let error = try #require(throws: JSONParseError.self) { try JSONValue.parse(Data(body.utf8)) }
        #expect(error.reason == .duplicateKey("age"))
        #expect(JSONParseError.field(error.path) == "measurements[1].dimensions.age")
        #expect(error.description.hasPrefix("measurements[1].dimensions.age: age appears more than once"))
        #expect(throws: JSONParseError.self) { try JSONValue.parse(Data(#"{"a": 1, "a": 1}"#.utf8)) }
    }

    /// Invalid UTF-8 anywhere in a string (plain, after an escape, in a member name) is
    /// refused, never replaced with U+FFFD.
    @Test(
        arguments: [
            [0x22, 0xFF, 0x22], [0x22, 0x61, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xC0, 0xAF, 0x22],
            [0x22, 0xED, 0xA0, 0x80, 0x22], [0x7B, 0x22, 0xE9, 0x22, 0x3A, 0x31, 0x7D],
            [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],
        ] as [[UInt8]])
    func refusesInvalidUTF8(_ bytes: [UInt8]) throws {
        let error = try #require(throws: JSONParseError.self) { try JSONValue.parse(Data(bytes)) }
        #expect(error.reason == .invalidUTF8)
    }

    @Test func boundsNesting() throws {
        let deepest =
            String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)
        #expect(throws: Never.self) { try JSONValue.parse(Data(deepest.utf8)) }
        let tooDeep = "[" + deepest + "]"
        let error = try #require(throws: JSONParseError.self) { try JSONValue.parse(Data(tooDeep.utf8)) }
        #expect(error.reason == .tooDeep(JSONParser.maxDepth))
        // A hostile body of a million brackets is refused at the limit, not by the stack.
        #expect(throws: JSONParseError.self) {
            try JSONValue.parse(Data(String(repeating: "[", count: 1_000_000).utf8))
        }
    }

    @Test func stopsAtTooManyElements() throws {
        let error = try #require(throws: JSONParseError.self) {
            try JSONParser.parse(Data("[[1,2,3]]".utf8), maxArrayElements: 2)
        }
        #expect(error.reason == .tooManyElements(2))
        #expect(try JSONParser.parse(Data("[1,2]".utf8), maxArrayElements: 2) == .array([.number(1), .number(2)]))
    }
}

@Suite("JSON writing")
struct JSONWriterTests {
    @Test func writesWhatParsesBackToTheSameValue() throws {
        let value = JSONValue.object([
            "text": .string("quote \" backslash \\ newline \n tab \t bell \u{07} café 🚀 a/b"), "whole": .number(42),
            "fraction": .number(0.1),
            "tiny": .number(1e-300), "big": .number(2.5e15), "negative": .number(-7.25),
            "flags": .array([.bool(true), .bool(false), .null]),
            "nested": .object(["empty": .array([]), "object": .object([:])]),
        ])
        let bytes = value.jsonBytes
        #expect(try JSONValue.parse(Data(bytes)) == value)
        #expect(
            String(decoding: bytes, as: UTF8.self).hasPrefix(
                #"{"big":2500000000000000.0,"flags":[true,false,null],"fraction":0.1,"#))
    }

    @Test func spellsNumbersOneWay() {
        #expect(JSONNumber.text(42) == "42")
        #expect(JSONNumber.text(-0.0) == "0")
        #expect(JSONNumber.text(999_999_999_999_999) == "999999999999999")
        #expect(JSONNumber.text(1e15) == "1000000000000000.0")
        #expect(JSONNumber.text(1e16) == "1e+16")
        #expect(JSONNumber.text(0.1) == "0.1")
        #expect(JSONNumber.text(12.5) == "12.5")
        #expect(JSONValue.number(.infinity).jsonBytes == Array("null".utf8))
    }

    @Test func writesMomentsAsJSONEncoderDid() throws {
        let date = Date(timeIntervalSince1970: 1_764_114_181.75)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let expected = String(decoding: try encoder.encode([date]), as: UTF8.self)
        #expect(String(decoding: JSONValue.array([JSONValue(date)]).jsonBytes, as: UTF8.self) == expected)
        #expect(JSONValue(date) == .string("2025-11-25T23:43:01Z"))
        #expect(JSONValue(Date(timeIntervalSince1970: -1)) == .string("1969-12-31T23:59:59Z"))
    }

    /// Every ASCII character and a few beyond, as JSONEncoder (without slash escaping)
    /// writes them, so responses read the same as before the writer replaced it.
    @Test func escapesStringsAsJSONEncoderDid() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for text in (0..<0x80).map({ String(UnicodeScalar(UInt8($0))) }) + ["é", "\u{2028}", "\u{FEFF}", "🚀", "a/b"] {
            let expected = String(decoding: try encoder.encode([text]), as: UTF8.self)
            #expect(
                String(decoding: JSONValue.array([.string(text)]).jsonBytes, as: UTF8.self) == expected,
                "\(text.debugDescription)")
        }
    }
}
