/// One side of a validation rule: a linear combination of indicator terms plus a constant
/// (`enrolled[age_group=16-24] - 0.5 * enrolled + 3`), as docs/quality.md defines it.
///
/// Parsed by `parse(_:)`; `description` is its canonical spelling (terms in the order
/// written, filters by dimension name, the constant last), which parses back to an equal
/// expression.
public struct RuleExpression: Sendable, Hashable, CustomStringConvertible {
    /// A coefficient times an indicator's value in the cell, optionally filtered by dimension values.
    public struct Term: Sendable, Hashable {
        /// `dimension=value`: only rows whose dimension has that value.
        public struct Filter: Sendable, Hashable {
            public var dimension: String
            public var value: String
            /// Where the dimension's name and the value begin in the text parsed (1-based characters;
            /// 0 when built in code). Not part of equality.
            public var dimensionPosition: Int
            public var valuePosition: Int

            public init(dimension: String, value: String, dimensionPosition: Int = 0, valuePosition: Int = 0) {
                self.dimension = dimension
                self.value = value
                self.dimensionPosition = dimensionPosition
                self.valuePosition = valuePosition
            }

            public static func == (lhs: Filter, rhs: Filter) -> Bool {
                lhs.dimension == rhs.dimension && lhs.value == rhs.value
            }

            public func hash(into hasher: inout Hasher) {
                hasher.combine(dimension)
                hasher.combine(value)
            }
        }

        public var coefficient: Double
        public var indicator: String
        /// Sorted by dimension name; a dimension appears at most once.
        public var filters: [Filter]
        /// Where the indicator's code begins in the text parsed (1-based; 0 when built in code).
        /// Not part of equality.
        public var position: Int

        public init(coefficient: Double = 1, indicator: String, filters: [Filter] = [], position: Int = 0) {
            self.coefficient = coefficient
            self.indicator = indicator
            self.filters = filters.sorted { $0.dimension < $1.dimension }
            self.position = position
        }

        public static func == (lhs: Term, rhs: Term) -> Bool {
            lhs.coefficient == rhs.coefficient && lhs.indicator == rhs.indicator && lhs.filters == rhs.filters
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(coefficient)
            hasher.combine(indicator)
            hasher.combine(filters)
        }

        /// `enrolled[age_group=16-24]`, without the coefficient.
        public var reference: String {
            guard !filters.isEmpty else { return indicator }
            let inside = filters.map { "\($0.dimension)=\(Self.spelled($0.value))" }
            return indicator + "[" + inside.joined(separator: ", ") + "]"
        }

        /// A value bare when it reads back as itself, else quoted with `\"` and `\\` escaped.
        static func spelled(_ value: String) -> String {
            let plain =
                !value.isEmpty && value.unicodeScalars.first?.properties.isWhitespace == false
                && value.unicodeScalars.last?.properties.isWhitespace == false
                && !value.unicodeScalars.contains(where: RuleExpression.isReservedInValue)
            if plain { return value }
            var quoted = "\""
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { quoted.append("\\") }
                quoted.unicodeScalars.append(character)
            }
            return quoted + "\""
        }
    }

    /// The most characters (Unicode code points) an expression may have.
    public static let maximumLength = 1_000
    /// The most terms an expression may have.
    public static let maximumTerms = 50
    /// Numbers (and products of numbers) must be smaller than this in magnitude.
    public static let largestNumber = 1e15

    public var terms: [Term]
    public var constant: Double

    public init(terms: [Term], constant: Double = 0) {
        self.terms = terms
        self.constant = constant
    }

    /// The indicators the expression reads.
    public var indicators: Set<String> { Set(terms.map(\.indicator)) }

    public var description: String {
        var text = ""
        for term in terms {
            let magnitude = abs(term.coefficient)
            let factor = magnitude == 1 ? "" : Self.spelled(magnitude) + " * "
            if text.isEmpty {
                text = (term.coefficient < 0 ? "-" : "") + factor + term.reference
            } else {
                text += (term.coefficient < 0 ? " - " : " + ") + factor + term.reference
            }
        }
        if text.isEmpty { return Self.spelled(constant) }
        if constant != 0 { text += (constant < 0 ? " - " : " + ") + Self.spelled(abs(constant)) }
        return text
    }

    /// A number in plain decimal notation (`130`, `0.5`, `0.00001`), the shortest that reads
    /// back as the same `Double`: what the parser accepts and what messages show.
    public static func spelled(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
        let shortest = "\(number)"
        guard let exponentIndex = shortest.firstIndex(where: { $0 == "e" || $0 == "E" }),
            let exponent = Int(shortest[shortest.index(after: exponentIndex)...])
        else { return shortest }
        var mantissa = String(shortest[..<exponentIndex])
        let negative = mantissa.hasPrefix("-")
        if negative { mantissa.removeFirst() }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(parts[0])
        let digits = whole + (parts.count > 1 ? String(parts[1]) : "")
        let point = whole.count + exponent
        var plain: String
        if point <= 0 {
            plain = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            plain = digits + String(repeating: "0", count: point - digits.count)
        } else {
            plain = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
        }
        if plain.contains(".") {
            while plain.hasSuffix("0") { plain.removeLast() }
            if plain.hasSuffix(".") { plain.removeLast() }
        }
        return (negative ? "-" : "") + plain
    }

    /// Characters a bare filter value cannot hold.
    static func isReservedInValue(_ character: Unicode.Scalar) -> Bool {
        character == "," || character == "]" || character == "[" || character == "=" || character == "\""
            || character == "\\"
    }
}
