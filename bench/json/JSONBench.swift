// Micro benchmark of the JSON parser and writer, compiled with the JSON sources:
//   bench/json/run.sh
// Parses and writes a 100,000-row measurement batch (the shape bench.py sends, 13 MB),
// best of several rounds, next to Foundation's JSONSerialization for scale.
import Foundation

func measurementBatch(rows: Int) -> Data {
    var text = #"{"measurements": ["#
    let groups = ["16-24", "25-44", "45+"]
    for index in 0..<rows {
        if index > 0 { text += ", " }
        let partner = "p" + String(index % 200)
        text += #"{"partner": "\#(partner)", "indicator": "ind0\#(index % 8)", "neighborhood": "n\#(index % 97)", "period": "2025-0\#(index % 9 + 1)""#
        if index % 2 == 0 { text += #", "dimensions": {"age_group": "\#(groups[index % 3])"}"# }
        if index % 3 == 0 { text += #", "numerator": \#(index % 50), "denominator": 60"# } else { text += #", "value": \#(index % 500)"# }
        if index % 10 == 0 { text += #", "note": "caf\u00e9 \"quoted\" note""# }
        text += "}"
    }
    return Data((text + "]}").utf8)
}

/// The fastest of `rounds` runs, in milliseconds of this thread's CPU time: on a shared
/// machine, time spent waiting for a core would otherwise swamp the difference measured.
func best(_ rounds: Int, _ body: () throws -> Void) rethrows -> Double {
    func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
    }
    var fastest = Double.infinity
    for _ in 0..<rounds {
        let start = now()
        try body()
        fastest = min(fastest, now() - start)
    }
    return fastest
}

@main
enum JSONBench {
    static func main() throws {
        let batch = measurementBatch(rows: 100_000)
        var parsed = JSONValue.null
        let parseMS = try best(11) { parsed = try JSONValue.parse(batch) }
        var written: [UInt8] = []
        let writeMS = best(11) { written = parsed.jsonBytes }
        precondition(written.count > batch.count / 2)
        let foundationMS = try best(3) { _ = try JSONSerialization.jsonObject(with: batch) }
        print(String(format: "100k rows, %.1f MB, CPU ms: parse %.1f (%.0f MB/s), write %.1f; JSONSerialization parse %.1f",
                     Double(batch.count) / 1e6, parseMS, Double(batch.count) / 1e3 / parseMS, writeMS, foundationMS))
    }
}
