import JSON
import Testing

@Suite("Objects written through a shape")
struct JSONObjectShapeTests {
    /// Keys whose sorted order differs from the given one, with capitals, digits, `_` and non-ASCII.
    static let keys = ["value", "Zeta", "per_1000", "partners", "é", "a_b", "ab", "1st", "dimensions", "\"quoted\""]

    @Test(arguments: [0, 1, 2, 3])
    func writesTheBytesOfTheEqualObject(seed: Int) {
        let shape = JSONObjectShape(Self.keys)
        let values: [JSONValue?] = Self.keys.indices.map { index in
            switch (index + seed) % 5 {
            case 0: nil
            case 1: .number(Double(index) / 3)
            case 2: .string("s\(index)\n")
            case 3: .object(["b": .null, "a": .array([.bool(true)])])
            default: .null
            }
        }
        var written: [UInt8] = []
        shape.write(values, into: &written)
        var members: [String: JSONValue] = [:]
        for (key, value) in zip(Self.keys, values) where value != nil { members[key] = value }
        #expect(
            String(decoding: written, as: UTF8.self)
                == String(decoding: JSONValue.object(members).jsonBytes, as: UTF8.self))
    }

    @Test func writesMembersInPlaceLeavingOutThoseItSkips() {
        // Every member, none, and every other one (the first left out too).
        for skipped in [{ (_: Int) in false }, { (_: Int) in true }, { (position: Int) in position % 2 == 0 }] {
            var written: [UInt8] = []
            JSONObjectShape(Self.keys).write(into: &written) { position, output in
                guard !skipped(position) else { return false }
                JSONValue.number(Double(position)).write(into: &output)
                return true
            }
            let members = Self.keys.enumerated().filter { !skipped($0.offset) }.map {
                ($0.element, JSONValue.number(Double($0.offset)))
            }
            #expect(written == JSONValue.object(Dictionary(uniqueKeysWithValues: members)).jsonBytes)
        }
    }
}

@Suite("Numbers written into bytes")
struct JSONNumberWriteTests {
    @Test func writesTheSameTextAsJSONNumberText() {
        var numbers: [Double] = [
            0, -0.0, 1, -1, 9, 10, 99, 100, 12_345, -98_765, 0.5, -2.25, 1e15, -1e15, 999_999_999_999_999, 1e20, 0.1,
            1.0 / 3,
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            numbers.append(Double(Int64.random(in: -999_999_999_999_999...999_999_999_999_999, using: &generator)))
            numbers.append(Double.random(in: -1e6...1e6, using: &generator))
        }
        for number in numbers {
            var output: [UInt8] = []
            JSONNumber.write(number, into: &output)
            #expect(String(decoding: output, as: UTF8.self) == JSONNumber.text(number), "\(number)")
        }
    }
}
