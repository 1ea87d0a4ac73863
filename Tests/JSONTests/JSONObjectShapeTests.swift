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
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: JSONValue.object(members).jsonBytes, as: UTF8.self))
    }

    @Test func writesEveryMemberInPlace() {
        var written: [UInt8] = []
        JSONObjectShape(Self.keys).write(into: &written) { position, output in
            JSONValue.number(Double(position)).write(into: &output)
        }
        let members = Dictionary(uniqueKeysWithValues: Self.keys.enumerated().map { ($1, JSONValue.number(Double($0))) })
        #expect(written == JSONValue.object(members).jsonBytes)
    }
}
