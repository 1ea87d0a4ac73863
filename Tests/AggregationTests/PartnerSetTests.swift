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
}
