// Micro benchmark of the JSON parser and writer, compiled with the JSON sources:
//   bench/json/run.sh
// Parses and writes a 100,000-row measurement batch (the shape bench.py sends, ~10 MB)
// and a report-like document, best of several rounds.
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

func best(_ rounds: Int, _ body: () throws -> Void) rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return fastest
}

@main
enum JSONBench {
    static func main() throws {
        let batch = measurementBatch(rows: 100_000)
        var parsed = JSONValue.null
        let parseMS = try best(7) { parsed = try JSONValue.parse(batch) }
        var written: [UInt8] = []
        let writeMS = best(7) { written = parsed.jsonBytes }
        precondition(written.count > batch.count / 2)
        let foundationMS = try best(3) { _ = try JSONSerialization.jsonObject(with: batch) }
        print(String(format: "100k rows, %.1f MB: parse %.1f ms (%.0f MB/s), write %.1f ms; JSONSerialization parse %.1f ms",
                     Double(batch.count) / 1e6, parseMS, Double(batch.count) / 1e3 / parseMS, writeMS, foundationMS))
    }
}
