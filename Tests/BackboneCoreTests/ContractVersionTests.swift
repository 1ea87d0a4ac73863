import BackboneCore
import Foundation
import TestSupport
import Testing

/// The contract is versioned with the service: `info.version` is `BackboneVersion.current`.
@Suite("Contract version")
struct ContractVersionTests {
    @Test func openAPIInfoVersionIsTheServersVersion() throws {
        let url = BackboneProcess.packageRoot.appendingPathComponent("openapi.yaml")
        let lines = try String(contentsOf: url, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let info = try #require(lines.firstIndex(of: "info:"))
        // The first `  version:` line of the `info:` block (its members are indented by two).
        let block = lines[(info + 1)...].prefix { $0.isEmpty || $0.hasPrefix(" ") }
        let line = try #require(block.first { $0.hasPrefix("  version:") })
        let version = line.dropFirst("  version:".count).trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
        #expect(version == BackboneVersion.current)
        #expect(BackboneVersion.current.split(separator: ".").count == 3, "a semantic version, MAJOR.MINOR.PATCH")
    }
}
