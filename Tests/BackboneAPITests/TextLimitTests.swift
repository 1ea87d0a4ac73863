import Testing

@testable import BackboneAPI

@Suite("Text limits")
struct TextLimitTests {
    /// `maxLength` counts code points, as JSON Schema does, not grapheme clusters: "R" with
    /// a skin-tone modifier is one Swift `Character` but two characters for the contract.
    @Test func maxLengthCountsCodePoints() {
        let atLimit = String(repeating: "*", count: 198) + "R\u{1F3FB}"
        let overLimit = atLimit + "\u{8A}"
        var reader = FieldReader(["at": .string(atLimit), "over": .string(overLimit)])
        #expect(reader.string("at", maxLength: 200) == atLimit)
        #expect(reader.string("over", maxLength: 200) == nil)
        #expect(reader.issues.map(\.code) == ["too-long"])
    }
}
