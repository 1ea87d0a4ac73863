import Testing
import UTCTime

@testable import HTTPServer

#if canImport(Glibc)
import Glibc
#endif

@Suite("Request ids and log timestamps")
struct RequestLogTests {
    @Test func requestIDsAreThirtyTwoHexDigitsAndNeverRepeat() {
        let ids = (0..<100_000).map { _ in HTTPRequest.newRequestID() }
        let hex = Set("0123456789abcdef".utf8)
        #expect(ids.allSatisfy { $0.utf8.count == 32 && $0.utf8.allSatisfy(hex.contains) })
        #expect(Set(ids).count == ids.count)
    }

    @Test func timestampDatesAgreeWithGmtime() {
        var mismatches: [Int] = []
        // Every day from 1970 to 2300, leap days and century years included.
        for day in 0..<120_000 {
            var seconds = time_t(day * 86_400)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            let date = UTCTimestamp.civilDate(daysSinceEpoch: day)
            if date != (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday)) { mismatches.append(day) }
        }
        #expect(mismatches.isEmpty, "first days that differ: \(mismatches.prefix(5))")
    }
}

@Suite("Encoded NUL in a path")
struct EncodedNULTests {
    @Test(arguments: [
        ("/a%00b", true), ("/%%00", true), ("/%0%00", true), ("/%0", false), ("/a%000", true), ("/a%0a0", false),
        ("/plain", false),
    ])
    func found(path: String, contains: Bool) {
        #expect(Responder.containsEncodedNUL(path) == contains)
    }
}
