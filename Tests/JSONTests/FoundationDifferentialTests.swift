import Foundation
import JSON
import Testing

/// The parser and writer against Foundation's `JSONSerialization` on random documents:
/// valid ones read the same; mutated bytes never crash and are either refused or read as
/// Foundation reads them; what the writer writes reads back as the value written.
@Suite("JSON against Foundation")
struct FoundationDifferentialTests {
    /// A seeded generator, so a failure names a seed that reproduces it.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let alphabet: [String] = [
        "a", "Z", "0", " ", "/", "\\", "\"", "\n", "\t", "\u{1}", "\u{7F}", "é", "日", "🚀", "\u{2028}", "\u{FEFF}", "-",
        "_",
    ]

    /// Member names leave out U+FEFF: Foundation drops it (see `same`), so `""` and
    /// `"\u{FEFF}"` would be one name to it and two to us.
    static func randomString(_ random: inout Generator, name: Bool = false) -> String {
        let alphabet = name ? Self.alphabet.filter { $0 != "\u{FEFF}" } : Self.alphabet
        return (0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
    }

    static func randomNumber(_ random: inout Generator) -> Double {
        switch Int.random(in: 0..<4, using: &random) {
        case 0: return Double(Int.random(in: -1000...1000, using: &random))
        case 1: return Double(Int.random(in: -9_007_199_254_740_991...9_007_199_254_740_991, using: &random))
        case 2: return Double.random(in: -1e6...1e6, using: &random)
        default:
            return Double.random(in: -1...1, using: &random)
                * pow(10, Double(Int.random(in: -300...15, using: &random)))
        }
    }

    static func randomValue(_ random: inout Generator, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth > 4 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2, 3: return .number(randomNumber(&random))
        case 4: return .string(randomString(&random))
        case 5:
            return .array(
                (0..<Int.random(in: 0...5, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &random) {
                members[randomString(&random, name: true)] = randomValue(&random, depth: depth + 1)
            }
            return .object(members)
        }
    }

    /// Foundation's reading as a `JSONValue`, numbers as doubles (as JSON defines them).
    static func foundation(_ object: Any) -> JSONValue? {
        switch object {
        case is NSNull: return .null
        case let number as NSNumber:
            // Foundation reads true and false as NSNumbers of C type `c` (char).
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            return .number(number.doubleValue)
        case let text as String: return .string(text)
        case let array as [Any]:
            let elements = array.compactMap(foundation)
            return elements.count == array.count ? .array(elements) : nil
        case let dictionary as [String: Any]:
            let members = dictionary.compactMapValues(foundation)
            return members.count == dictionary.count ? .object(members) : nil
        default: return nil
        }
    }

    /// Equal, but for two known faults of Foundation's reading on Linux (ours is checked
    /// against the literal in `JSONParserTests`): it drops a U+FEFF that begins a string
    /// or follows an escape in one, and reads some numbers of 16 or more significant
    /// digits a few ulps away from the correctly rounded double.
    static func same(_ ours: JSONValue, _ theirs: JSONValue) -> Bool {
        func withoutBOM(_ text: String) -> String { String(text.unicodeScalars.filter { $0 != "\u{FEFF}" }) }
        switch (ours, theirs) {
        case (.number(let a), .number(let b)): return a == b || abs(a - b) <= abs(a) * 1e-14
        case (.string(let a), .string(let b)): return withoutBOM(a) == withoutBOM(b)
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
        case (.object(let a), .object(let b)):
            let theirs = Dictionary(b.map { (withoutBOM($0.key), $0.value) }, uniquingKeysWith: { first, _ in first })
            return a.count == theirs.count
                && a.allSatisfy { member in theirs[withoutBOM(member.key)].map { same(member.value, $0) } ?? false }
        default: return ours == theirs
        }
    }

    static func foundationReading(_ data: Data) -> JSONValue? {
        (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])).flatMap(foundation)
    }

    @Test(arguments: 0..<8)
    func randomDocumentsReadAsFoundationReadsThem(seed: UInt64) throws {
        var random = Generator(state: seed)
        for _ in 0..<250 {
            let value = Self.randomValue(&random)
            let bytes = Data(value.jsonBytes)
            let ours = try JSONValue.parse(bytes)
            #expect(ours == value, "writer round trip, seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
            #expect(
                Self.foundationReading(bytes).map { Self.same(ours, $0) } == true,
                "seed \(seed): \(String(decoding: bytes, as: UTF8.self))")
            // Foundation's own spelling (other escapes, other number text) reads the same too.
            if case .array = value,
                let object = try? JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed])
            {
                let theirs = try JSONSerialization.data(withJSONObject: object, options: [.fragmentsAllowed])
                let again = try JSONValue.parse(theirs)
                #expect(
                    Self.foundationReading(theirs).map { Self.same(again, $0) } == true,
                    "seed \(seed): \(String(decoding: theirs, as: UTF8.self))")
            }
        }
    }

    /// Random byte flips, insertions and deletions: never a crash; refused, or the same value Foundation reads.
    @Test(arguments: 0..<8)
    func mutatedDocumentsAreRefusedOrReadAsFoundationReadsThem(seed: UInt64) throws {
        var random = Generator(state: seed &+ 1000)
        let interesting: [UInt8] =
            Array("{}[]\",:\\-+.eE0123456789 tfnu".utf8) + [
                0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF,
            ]
        var accepted = 0
        for _ in 0..<1500 {
            var bytes = Self.randomValue(&random).jsonBytes
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0...bytes.count, using: &random)
                let byte =
                    Bool.random(using: &random)
                    ? interesting.randomElement(using: &random)! : UInt8.random(in: 0...255, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0 where index < bytes.count: bytes[index] = byte
                case 1 where index < bytes.count: bytes.remove(at: index)
                default: bytes.insert(byte, at: index)
                }
            }
            let data = Data(bytes)
            guard let ours = try? JSONValue.parse(data) else { continue }
            accepted += 1
            let theirs = Self.foundationReading(data)
            #expect(
                theirs.map { Self.same(ours, $0) } == true,
                "seed \(seed): \(String(decoding: bytes, as: UTF8.self).debugDescription)")
        }
        #expect(accepted > 0)
    }
}
