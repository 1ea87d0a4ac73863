import Aggregation
import Testing

@Suite("Partner sets")
struct PartnerSetTests {
    @Test func unionCountAndMembership() {
        var set: PartnerSet = ["library", "school"]
        set.formUnion(["school", "clinic"])
        #expect(set.count == 3)
        #expect(set.contains("clinic") && !set.contains("funder"))
        #expect(Set(set) == ["library", "school", "clinic"])
        let one: PartnerSet = ["solo"]
        #expect(one.first == "solo")
        #expect(PartnerSet().isEmpty && PartnerSet().first == nil)
    }

    @Test func equalSetsAreEqualWhateverTheirHistory() {
        // Many partners make the bit words grow; a set of few compares equal to one built another way.
        let many = PartnerSet((0..<300).map { "partner-\($0)" })
        #expect(many.count == 300)
        var grown = PartnerSet(["partner-1"])
        grown.formUnion(PartnerSet(["partner-299"]))
        let direct: PartnerSet = ["partner-299", "partner-1"]
        #expect(grown == direct)
        #expect(Set([grown, direct]).count == 1)
    }

    @Test func outsideNumbersTranslateToTheSamePartners() {
        // The database numbers partners its own way; sets built from its numbers must equal
        // sets built from the ids, and an unknown number must not pass for nobody.
        let numbering = PartnerNumbering([
            (number: 7, id: "library"), (number: 130, id: "clinic"), (number: 2, id: "school"),
        ])
        #expect(numbering.set([2, 7]) == ["school", "library"])
        #expect(numbering.set([130]) == ["clinic"])
        #expect(numbering.set([]) == PartnerSet())
        #expect(numbering.set([7, 8]) == nil)
        #expect(numbering.set([-1]) == nil)
    }
}
