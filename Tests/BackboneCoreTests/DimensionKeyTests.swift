import BackboneCore
import DomainModel
import Foundation
import Testing

/// `measurements.dimension_key` (and the rollups' key) holds text that was first written
/// as `"{" + pairs.sorted().joined(",") + "}"` where each pair was the default
/// `JSONEncoder`'s spelling of name and value. Rows sent again must produce the same
/// bytes or they stop matching the stored ones; these tests pin that format.
@Suite("Dimension keys")
struct DimensionKeyTests {
    /// The original writer, kept here only as the reference the format must match.
    static func storedToday(_ values: [String: String]) throws -> String {
        guard !values.isEmpty else { return "" }
        func encoded(_ text: String) throws -> String {
            String(decoding: try JSONEncoder().encode(text), as: UTF8.self)
        }
        let pairs = try values.map { try encoded($0.key) + ":" + encoded($0.value) }
        return "{" + pairs.sorted().joined(separator: ",") + "}"
    }

    @Test func pinnedExamples() {
        #expect(DimensionValues.key([:]) == "")
        #expect(DimensionValues.key(["age_group": "25-44"]) == #"{"age_group":"25-44"}"#)
        #expect(DimensionValues.key(["sex": "f", "age_group": "45+"]) == #"{"age_group":"45+","sex":"f"}"#)
        #expect(DimensionValues.key(["age_group": "45+", "sex": "f"]) == #"{"age_group":"45+","sex":"f"}"#)
        #expect(DimensionValues.key(["school": "a/b"]) == #"{"school":"a\/b"}"#)
        #expect(DimensionValues.key(["school": #"the "best" \ one"#]) == #"{"school":"the \"best\" \\ one"}"#)
        #expect(DimensionValues.key(["quartier": "Côte-des-Neiges 日本 🚀"]) == #"{"quartier":"Côte-des-Neiges 日本 🚀"}"#)
        #expect(DimensionValues.key(["note": "tab\tline\nbell\u{7}"]) == #"{"note":"tab\tline\nbell\u0007"}"#)
        // Members are ordered by their written text: `"a":` sorts after `"a b":` because
        // `"` (0x22) follows the space (0x20), and `\/` after `0` because `\` follows `0`.
        #expect(DimensionValues.key(["a": "1", "a b": "2"]) == #"{"a b":"2","a":"1"}"#)
        #expect(DimensionValues.key(["a/": "1", "a0": "2"]) == #"{"a0":"2","a\/":"1"}"#)
        #expect(DimensionValues.key(["z-1": "x", "z": "y", "z_2": "w"]) == #"{"z":"y","z-1":"x","z_2":"w"}"#)
    }

    @Test(arguments: [
        "25-44", "45+", "", "café 日本 🚀", "a/b", "quote \" inside", "back\\slash", "tab\there", "line\nbreak", "\u{1}",
        "\u{7F}", "\u{2028}", "\u{FEFF}x",
    ])
    func valuesSpelledAsJSONEncoderSpellsThem(_ text: String) throws {
        #expect(DimensionValues.key(["d": text]) == (try Self.storedToday(["d": text])))
    }

    @Test func everyControlCharacterAsBefore() throws {
        for code in 0..<0x20 {
            let text = "x" + String(UnicodeScalar(UInt8(code))) + "/"
            #expect(DimensionValues.key(["d": text]) == (try Self.storedToday(["d": text])), "U+\(code)")
        }
    }

    /// Several names, given in every order, against the original writer.
    @Test func namesInAnyOrderAsBefore() throws {
        let names = ["age_group", "sex", "a", "a b", "a/", "a0", "é", "z-1", "z_1", "Z"]
        for _ in 0..<200 {
            var values: [String: String] = [:]
            for name in names.shuffled().prefix(Int.random(in: 1...names.count)) {
                values[name] = ["1", "a/b", "\"", "é"].randomElement()!
            }
            #expect(DimensionValues.key(values) == (try Self.storedToday(values)), "\(values)")
        }
    }

    /// What is stored reads back as the values it was written from.
    @Test func keysReadBack() throws {
        let values = ["school": "a/b \"c\" é", "age_group": "25-44"]
        #expect(try DimensionValues.parse(DimensionValues.key(values)) == values)
    }
}
