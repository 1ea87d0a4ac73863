import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Values round-trip through PostgreSQL")
struct TypeRoundTripTests {
    let connection: Connection

    init() throws {
        connection = try TestDatabase.connect()
    }

    /// Sends `value` as a parameter cast to `type` and reads it back.
    func roundTrip<T: PostgresEncodable & PostgresDecodable>(_ value: T, as type: String) throws -> T {
        let rows = try connection.query("SELECT \(value)::\(Query(unsafeSQL: type))")
        return try rows[0].decode(T.self, at: 0)
    }

    @Test func text() throws {
        #expect(try roundTrip("northside", as: "text") == "northside")
        #expect(try roundTrip("", as: "text") == "")
    }

    @Test func integers() throws {
        #expect(try roundTrip(Int.max, as: "bigint") == Int.max)
        #expect(try roundTrip(Int.min, as: "bigint") == Int.min)
        #expect(try roundTrip(Int32(-42), as: "integer") == -42)
    }

    @Test func doubles() throws {
        for value in [0.1, -1234.5678, 1e-300, Double.greatestFiniteMagnitude, 0.0] {
            #expect(try roundTrip(value, as: "double precision") == value)
        }
        #expect(try roundTrip(Double.infinity, as: "double precision") == .infinity)
        #expect(try roundTrip(Double.nan, as: "double precision").isNaN)
    }

    /// Numbers are read in place from libpq's text; what PostgreSQL writes reads back exactly,
    /// and text that is not a whole number of the type is an error, never a part of it.
    @Test func numbersReadInPlaceAgreeWithTheirText() throws {
        for value in [-Double.infinity, -0.0, Double.leastNonzeroMagnitude, 123_456_789.123_456_78, 1e15, -2.5e-7] {
            #expect(try roundTrip(value, as: "double precision") == value)
        }
        #expect(try roundTrip(Int64.min + 1, as: "bigint") == Int64.min + 1)
        #expect(try roundTrip(Int32.max, as: "integer") == Int32.max)
        for text in ["12", "-12", "1.5", "1e3", "", " 1", "1 ", "12abc", "0x10", "99999999999999999999", "-", "+"] {
            let row = try connection.query("SELECT \(text)::text")[0]
            #expect((try? row.decode(Int.self, at: 0)) == Int(text), "Int from \(text.debugDescription)")
            #expect((try? row.decode(Int32.self, at: 0)) == Int32(text), "Int32 from \(text.debugDescription)")
            let double = try? row.decode(Double.self, at: 0)
            #expect(
                double
                    == (["12", "-12", "1.5", "1e3", "0x10", "99999999999999999999"].contains(text)
                        ? Double(text) : nil),
                "Double from \(text.debugDescription)")
        }
        let nothing = try connection.query("SELECT NULL::float8, NULL::bigint")[0]
        #expect(try nothing.decode((Double?, Int?).self) == (nil, nil))
        #expect(throws: PostgresError.self) { try nothing.decode(Double.self, at: 0) }
    }

    @Test func numeric() throws {
        let value = Decimal(string: "12345678901234567890.0123456789")!
        #expect(try roundTrip(value, as: "numeric") == value)
    }

    @Test func booleans() throws {
        #expect(try roundTrip(true, as: "boolean") == true)
        #expect(try roundTrip(false, as: "boolean") == false)
    }

    @Test func dates() throws {
        #expect(try roundTrip("2024-02-29", as: "date") == "2024-02-29")
    }

    @Test func timestamps() throws {
        let instant = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let back = try roundTrip(instant, as: "timestamptz")
        #expect(abs(back.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000_001)
        let offset = try connection.query("SELECT '2026-01-01 12:00:00+05:30'::timestamptz")
        #expect(try offset[0].decode(Date.self, at: 0) == Date(timeIntervalSince1970: 1_767_249_000))
    }

    @Test func jsonb() throws {
        let document = JSONText(#"{"age_group": "25-44", "note": "quote \" and \\ backslash"}"#)
        let back = try roundTrip(document, as: "jsonb")
        let decoded = try JSONSerialization.jsonObject(with: Data(back.text.utf8)) as? [String: String]
        #expect(decoded == ["age_group": "25-44", "note": "quote \" and \\ backslash"])
    }

    @Test func arrays() throws {
        let texts = ["plain", "with space", "comma,inside", "quote\"inside", "back\\slash", "{braces}", "NULL", ""]
        #expect(try roundTrip(texts, as: "text[]") == texts)
        #expect(try roundTrip([1, -2, 3], as: "bigint[]") == [1, -2, 3])
        #expect(try roundTrip([Int](), as: "integer[]") == [])
        #expect(try roundTrip([Int.min, 0, Int.max], as: "bigint[]") == [Int.min, 0, Int.max])
        let integersWithNull = try connection.query("SELECT ARRAY[4, NULL, 6]::integer[]")
        #expect(try integersWithNull[0].decode([Int?].self, at: 0) == [4, nil, 6])
        #expect(throws: PostgresError.self) { try integersWithNull[0].decode([Int].self, at: 0) }
        #expect(try roundTrip([1.5, 2.25], as: "double precision[]") == [1.5, 2.25])
        let withNull: [String?] = ["a", nil, "c"]
        let rows = try connection.query("SELECT \(withNull)::text[]")
        #expect(try rows[0].decode([String?].self, at: 0) == withNull)
    }

    @Test func nullsBecomeNil() throws {
        let none: String? = nil
        let rows = try connection.query("SELECT \(none)::text, NULL::bigint, NULL::date, 7")
        let (text, number, date, seven) = try rows[0].decode((String?, Int?, String?, Int).self)
        #expect(text == nil && number == nil && date == nil && seven == 7)
    }

    @Test func nullIntoNonOptionalIsAnErrorNotACrash() throws {
        let rows = try connection.query("SELECT NULL::text")
        #expect(throws: PostgresError.self) { try rows[0].decode(String.self, at: 0) }
        let words = try connection.query("SELECT 'seven'")
        let error = #expect(throws: PostgresError.self) { try words[0].decode(Int.self, at: 0) }
        #expect(error?.kind == .decoding)
    }

    @Test(arguments: [
        "O'Brien's \"quoted\" text",
        #"back\slash \\ and \n not a newline"#,
        "unicode: naïve café 北京 🚀 עברית",
        "'; DROP TABLE api_keys; --",
        "$1 $2 placeholder-looking",
        "line\nbreak\ttab\r\n",
    ])
    func hostileStringsComeBackVerbatim(_ value: String) throws {
        #expect(try roundTrip(value, as: "text") == value)
        let table = TestDatabase.uniqueName("verbatim")
        try connection.execute("CREATE TEMP TABLE \(table) (value text)")
        try connection.query("INSERT INTO \(identifier: table) (value) VALUES (\(value))")
        let rows = try connection.query("SELECT value FROM \(identifier: table) WHERE value = \(value)")
        #expect(rows.count == 1)
        #expect(try rows[0].decode(String.self, at: 0) == value)
    }

    @Test func nulCharacterIsRefusedBeforeReachingTheServer() throws {
        let error = #expect(throws: PostgresError.self) { try connection.query("SELECT \("a\u{0}b")::text") }
        #expect(error?.kind == .unstorableText)
    }

    @Test func decodesByColumnName() throws {
        let rows = try connection.query("SELECT 1 AS one, 'two' AS two")
        #expect(try rows[0].decode(String.self, column: "two") == "two")
        #expect(rows.columns == ["one", "two"])
    }
}
