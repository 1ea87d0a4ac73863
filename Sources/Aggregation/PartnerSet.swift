import Foundation

/// The distinct partners behind a number, as bits over partner numbers.
///
/// Reports union the partner sets of thousands of rollup cells; with partners as
/// strings in a `Set` the hashing cost most of a report's time. Each partner id gets a
/// small number once per process (`PartnerNumbers`), and a union is then a few word ORs.
public struct PartnerSet: Hashable, Sendable, Sequence, ExpressibleByArrayLiteral, CustomStringConvertible {
    private var words: [UInt64] = []

    public init() {}

    public init(arrayLiteral ids: String...) {
        self.init(ids)
    }

    public init(_ ids: some Sequence<String>) {
        for number in PartnerNumbers.numbers(for: ids) { insert(number: number) }
    }

    mutating func insert(number: Int) {
        let word = number >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        words[word] |= 1 << UInt64(number & 63)
    }

    public mutating func insert(_ id: String) {
        insert(number: PartnerNumbers.numbers(for: [id])[0])
    }

    public mutating func formUnion(_ other: PartnerSet) {
        if other.words.count > words.count {
            words.append(contentsOf: repeatElement(0, count: other.words.count - words.count))
        }
        for index in other.words.indices { words[index] |= other.words[index] }
    }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The partner with the lowest number, for a set of one.
    public var first: String? { numbers.first.map(PartnerNumbers.id(of:)) }

    public func contains(_ id: String) -> Bool {
        guard let number = PartnerNumbers.existingNumber(for: id) else { return false }
        let word = number >> 6
        return word < words.count && words[word] & (1 << UInt64(number & 63)) != 0
    }

    private var numbers: [Int] {
        var result: [Int] = []
        for (index, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                result.append(index * 64 + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
        }
        return result
    }

    /// The partner ids, in the order they were first seen by this process.
    public func makeIterator() -> [String].Iterator {
        numbers.map(PartnerNumbers.id(of:)).makeIterator()
    }

    public var description: String { "[" + map { $0 }.sorted().joined(separator: ", ") + "]" }

    /// Equal sets are equal however many trailing empty words they carry.
    public static func == (lhs: PartnerSet, rhs: PartnerSet) -> Bool {
        lhs.trimmed == rhs.trimmed
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(trimmed)
    }

    private var trimmed: ArraySlice<UInt64> {
        words[..<(words.lastIndex { $0 != 0 }.map { $0 + 1 } ?? 0)]
    }
}

/// Partner sets from the partner numbers another system keeps (the database's
/// `partners.number`): each of its numbers is translated once, so reading a cell's
/// partners is a table lookup per number rather than a string per partner.
public struct PartnerNumbering: Sendable {
    /// This process's number for each outside number; -1 where none is known.
    private var processNumbers: [Int] = []

    /// `partners` pairs each outside number with its partner id.
    public init(_ partners: some Sequence<(number: Int, id: String)>) {
        let partners = Array(partners)
        let numbers = PartnerNumbers.numbers(for: partners.map(\.id))
        for (partner, processNumber) in zip(partners, numbers) where partner.number >= 0 {
            if partner.number >= processNumbers.count {
                processNumbers.append(contentsOf: repeatElement(-1, count: partner.number - processNumbers.count + 1))
            }
            processNumbers[partner.number] = processNumber
        }
    }

    /// The set of the partners with these outside numbers; nil if one of them is unknown.
    public func set(_ numbers: [Int]) -> PartnerSet? {
        var set = PartnerSet()
        for number in numbers {
            guard number >= 0, number < processNumbers.count, processNumbers[number] >= 0 else { return nil }
            set.insert(number: processNumbers[number])
        }
        return set
    }
}

/// Numbers partner ids 0, 1, 2… in the order this process first meets them.
enum PartnerNumbers {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var numbersByID: [String: Int] = [:]
    nonisolated(unsafe) private static var ids: [String] = []

    static func numbers(for partnerIDs: some Sequence<String>) -> [Int] {
        lock.withLock {
            partnerIDs.map { id in
                if let number = numbersByID[id] { return number }
                ids.append(id)
                numbersByID[id] = ids.count - 1
                return ids.count - 1
            }
        }
    }

    static func existingNumber(for id: String) -> Int? {
        lock.withLock { numbersByID[id] }
    }

    static func id(of number: Int) -> String {
        lock.withLock { ids[number] }
    }
}
