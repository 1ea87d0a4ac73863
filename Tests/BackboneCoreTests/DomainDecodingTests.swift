import BackboneCore
import DomainModel
import Testing

@Suite("Stored dimension values")
struct StoredDimensionValuesTests {
    @Test func keysAreCompactWithSortedNames() {
        #expect(DimensionValues.key([:]) == "")
        #expect(DimensionValues.key(["sex": "f", "age_group": "25-44"]) == #"{"age_group":"25-44","sex":"f"}"#)
    }

    @Test func readsWhatIsStored() throws {
        #expect(try DimensionValues.parse(#"{"age_group": "25-44"}"#) == ["age_group": "25-44"])
        #expect(try DimensionValues.parse(#"{"age_group":"25-44"}"#) == ["age_group": "25-44"])
        #expect(try DimensionValues.parse("{}") == [:])
        #expect(try DimensionValues.parse("") == [:])
    }

    @Test(arguments: ["not json", "[]", #"{"age_group": 25}"#, #"{"age_group": null}"#, #"{"a": "b""#])
    func textThatIsNotAnObjectOfStringsIsAnError(_ text: String) {
        #expect(throws: DomainError.self) { try DimensionValues.parse(text) }
    }
}
