import Foundation
import Postgres
import TestSupport
import Testing

@Suite("COPY FROM STDIN")
struct CopyTests {
    @Test func copiesHundredThousandRows() throws {
        let connection = try TestDatabase.connect()
        let table = TestDatabase.uniqueName("copied")
        try connection.execute("CREATE TEMP TABLE \(table) (id bigint PRIMARY KEY, label text, value double precision)")
        let loaded = try connection.copy(into: table, columns: ["id", "label", "value"]) { writer in
            for id in 0..<100_000 {
                try writer.append([String(id), "row \(id)", id % 7 == 0 ? nil : String(Double(id) / 4)])
            }
        }
        #expect(loaded == 100_000)
        let summary = try connection.query("SELECT count(*), count(value), sum(id) FROM \(identifier: table)")
        let (rows, nonNull, idSum) = try summary[0].decode((Int, Int, Int).self)
        #expect(rows == 100_000)
        #expect(nonNull == 100_000 - 14_286)
        #expect(idSum == 99_999 * 100_000 / 2)
    }

    @Test func specialCharactersSurviveCopy() throws {
        let connection = try TestDatabase.connect()
        let table = TestDatabase.uniqueName("copied")
        try connection.execute("CREATE TEMP TABLE \(table) (id int, label text)")
        let labels = ["tab\there", "new\nline", "back\\slash", "\\N", "crlf\r\n", "ünïcødé"]
        try connection.copy(into: table, columns: ["id", "label"]) { writer in
            for (id, label) in labels.enumerated() { try writer.append([String(id), label]) }
        }
        let rows = try connection.query("SELECT label FROM \(identifier: table) ORDER BY id")
        #expect(try rows.map { try $0.decode(String.self, at: 0) } == labels)
    }

    struct Abort: Error {}

    @Test func failedCopyLoadsNothingAndLeavesConnectionUsable() throws {
        let connection = try TestDatabase.connect()
        let table = TestDatabase.uniqueName("copied")
        try connection.execute("CREATE TEMP TABLE \(table) (id int PRIMARY KEY)")
        #expect(throws: Abort.self) {
            try connection.copy(into: table, columns: ["id"]) { writer in
                try writer.append(["1"])
                throw Abort()
            }
        }
        let duplicate = #expect(throws: PostgresError.self) {
            try connection.copy(into: table, columns: ["id"]) { writer in
                try writer.append(["1"])
                try writer.append(["1"])
            }
        }
        #expect(duplicate?.isUniqueViolation == true)
        #expect(try connection.query("SELECT count(*) FROM \(identifier: table)")[0].decode(Int.self, at: 0) == 0)
    }
}
