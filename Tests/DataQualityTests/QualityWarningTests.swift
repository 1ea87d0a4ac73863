import DataQuality
import Testing

@Suite struct QualityWarningTests {
    @Test func codesAreTheContractsSpelling() {
        #expect(QualityWarning.Code.allCases.map(\.rawValue) == ["rule-violated", "outlier"])
    }
}
