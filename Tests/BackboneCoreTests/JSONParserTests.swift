import Aggregation
import BackboneCore
import Foundation
import Testing

@Suite("JSON parsing")
struct JSONParserTests {
    @Test func readsEveryKindOfValue() throws {
        let text = #"{"s": "caf\u00e9 \ud83d\ude80 \"q\" \\ \/ \n", "n": -12.5e2, "z": 0, "t": true, "f": false, "x": null, "a": [1, [], {}], "plain": "日本"}"#
        let value = try JSONValue.parse(Data(text.utf8))
        #expect(value == .object([
            "s": .string("café 🚀 \"q\" \\ / \n"), "n": .number(-1250), "z": .number(0), "t": .bool(true), "f": .bool(false),
            "x": .null, "a": .array([.number(1), .array([]), .object([:])]), "plain": .string("日本"),
        ]))
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "tru", "\"unterminated", "{\"a\":1} x", "\"\\x\"", "NaN", "\"\\ud800\""])
    func refusesMalformedInput(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(Data(text.utf8)) }
    }

    @Test func agreesWithFoundationOnNumbers() throws {
        for text in ["0.1", "1e308", "-0", "123456789012345678", "2.5E-3"] {
            let ours = try JSONValue.parse(Data(text.utf8))
            #expect(ours == .number(Double(text)!))
        }
    }
}

@Suite("JSON writing")
struct JSONWriterTests {
    @Test func writesWhatParsesBackToTheSameValue() throws {
        let value = JSONValue.object([
            "text": .string("quote \" backslash \\ newline \n tab \t bell \u{07} café 🚀"), "whole": .number(42), "fraction": .number(0.1),
            "tiny": .number(1e-300), "big": .number(1e20), "negative": .number(-7.25), "flags": .array([.bool(true), .bool(false), .null]),
            "nested": .object(["empty": .array([]), "object": .object([:])]),
        ])
        let bytes = value.jsonBytes
        #expect(try JSONValue.parse(Data(bytes)) == value)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"big":1e+20,"flags":[true,false,null],"fraction":0.1,"#))
    }
}

@Suite("Dimension keys")
struct DimensionKeyTests {
    /// Stored dimension keys were written with JSONEncoder; the fast path must spell every
    /// string the same way, or re-sent rows would stop matching their stored keys.
    @Test(arguments: ["25-44", "45+", "", "café 日本 🚀", "a/b", "quote \" inside", "back\\slash", "tab\there", "line\nbreak", "\u{1}"])
    func spelledAsJSONEncoderSpellsThem(_ text: String) throws {
        let encoded = String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
        #expect(DimensionValues.key(["d": text]) == #"{"d":"# + encoded + "}")
    }
}
