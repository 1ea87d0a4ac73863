/// The keys of many objects written alike (a report's rows), sorted once: each object is
/// written from its values in the keys' given order, with the same bytes `JSONValue`
/// writes for the equal object, without a dictionary per object or sorting its keys.
public struct JSONObjectShape: Sendable {
    /// The keys' positions in the given order, taken in sorted order.
    private let sorted: [Int]
    /// Each key quoted, with its colon, by its position in the given order.
    private let names: [[UInt8]]

    /// A shape with these keys (distinct), in the order values will be given.
    public init(_ keys: [String]) {
        precondition(Set(keys).count == keys.count, "an object's keys are distinct")
        sorted = keys.indices.sorted { keys[$0] < keys[$1] }
        names = keys.map { key in
            var name: [UInt8] = []
            JSONValue.writeString(key, into: &name)
            name.append(UInt8(ascii: ":"))
            return name
        }
    }

    /// Writes an object whose `values` follow the keys' order; a `nil` leaves its member out.
    public func write(_ values: [JSONValue?], into output: inout [UInt8]) {
        precondition(values.count == names.count, "one value for each key")
        output.append(UInt8(ascii: "{"))
        var first = true
        for position in sorted {
            guard let value = values[position] else { continue }
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            output.append(contentsOf: names[position])
            value.write(into: &output)
        }
        output.append(UInt8(ascii: "}"))
    }

    /// Writes an object member by member: `writeValue(position, &output)` writes the value of
    /// the key at `position` in the given order (a large array written in place, a row
    /// written from its cell), or returns false having written nothing to leave it out.
    public func write(into output: inout [UInt8], _ writeValue: (Int, inout [UInt8]) -> Bool) {
        output.append(UInt8(ascii: "{"))
        var first = true
        for position in sorted {
            let start = output.count
            if !first { output.append(UInt8(ascii: ",")) }
            output.append(contentsOf: names[position])
            if writeValue(position, &output) {
                first = false
            } else {
                output.removeSubrange(start...)
            }
        }
        output.append(UInt8(ascii: "}"))
    }
}
