extension RuleExpression {
    /// Reads an expression (docs/quality.md): terms and numbers joined by `+` and `-`, each
    /// optionally multiplied by numbers. A term is an indicator code with optional filters
    /// (`enrolled[age_group=16-24, sex=f]`; a value with leading or trailing spaces or any of
    /// `,]["=\` is written in double quotes, `\"` and `\\` escaped). Codes may contain and end
    /// with `-`, so `a-b` is one code: subtraction takes a space before its `-` (`a - b`, `a -b`).
    public static func parse(_ text: String) throws(RuleSyntaxError) -> RuleExpression {
        var parser = RuleExpressionParser(Array(text.unicodeScalars))
        return try parser.expression()
    }
}

/// A recursive-descent reader over the expression's characters (Unicode code points, as
/// JSON Schema's `maxLength` counts them); positions are 1-based.
private struct RuleExpressionParser {
    private let characters: [Unicode.Scalar]
    private var index = 0

    init(_ characters: [Unicode.Scalar]) {
        self.characters = characters
    }

    private var position: Int { index + 1 }
    private var current: Unicode.Scalar? { index < characters.count ? characters[index] : nil }

    mutating func expression() throws(RuleSyntaxError) -> RuleExpression {
        guard characters.count <= RuleExpression.maximumLength else {
            throw RuleSyntaxError(
                "is longer than \(RuleExpression.maximumLength) characters", at: RuleExpression.maximumLength + 1)
        }
        skipSpaces()
        guard current != nil else { throw RuleSyntaxError("is empty", at: 1) }
        var terms: [RuleExpression.Term] = []
        var constant = 0.0
        var sign = 1.0
        if let first = current, first == "+" || first == "-" {
            sign = first == "-" ? -1 : 1
            index += 1
        }
        while true {
            let (coefficient, term) = try item()
            if var term {
                guard terms.count < RuleExpression.maximumTerms else {
                    throw RuleSyntaxError("has more than \(RuleExpression.maximumTerms) terms", at: term.position)
                }
                term.coefficient = sign * coefficient
                terms.append(term)
            } else {
                constant += sign * coefficient
                guard abs(constant) < RuleExpression.largestNumber else {
                    throw RuleSyntaxError("adds up to a number too large", at: position)
                }
            }
            skipSpaces()
            guard let next = current else { break }
            switch next {
            case "+", "-":
                sign = next == "-" ? -1 : 1
                index += 1
            default:
                throw unexpected(next, after: "a term")
            }
        }
        return RuleExpression(terms: terms, constant: constant)
    }

    /// Numbers and at most one term joined by `*`: the product's number and its term, if any.
    private mutating func item() throws(RuleSyntaxError) -> (Double, RuleExpression.Term?) {
        var coefficient = 1.0
        var term: RuleExpression.Term?
        while true {
            skipSpaces()
            guard let next = current else {
                throw RuleSyntaxError("ends where an indicator or a number was expected", at: position)
            }
            let start = position
            if next == "." || Self.isCodeCharacter(next) {
                let word = readWord()
                if word.allSatisfy({ $0 == "." || ("0"..."9").contains($0) }) {
                    coefficient *= try number(word, at: start)
                    guard abs(coefficient) < RuleExpression.largestNumber else {
                        throw RuleSyntaxError("multiplies to a number too large", at: start)
                    }
                } else {
                    guard term == nil else {
                        throw RuleSyntaxError(
                            "multiplies two indicators (\(term!.indicator) * \(word)); only a number can multiply an indicator",
                            at: start)
                    }
                    guard Self.isCode(word) else {
                        throw RuleSyntaxError("\(word) is neither a number nor an indicator code", at: start)
                    }
                    term = RuleExpression.Term(indicator: word, filters: try filters(), position: start)
                }
            } else {
                throw unexpected(next, after: nil)
            }
            skipSpaces()
            guard current == "*" else { return (coefficient, term) }
            index += 1
        }
    }

    /// `[name=value, …]` after a code, if there is one.
    private mutating func filters() throws(RuleSyntaxError) -> [RuleExpression.Term.Filter] {
        skipSpaces()
        guard current == "[" else { return [] }
        let opening = position
        index += 1
        var filters: [RuleExpression.Term.Filter] = []
        while true {
            skipSpaces()
            let namePosition = position
            let name = current.map(Self.isCodeCharacter) == true ? readWord() : ""
            guard Self.isCode(name) else {
                guard current != nil else { throw RuleSyntaxError("has a [ that is never closed", at: opening) }
                throw RuleSyntaxError("expected a dimension name", at: namePosition)
            }
            guard !filters.contains(where: { $0.dimension == name }) else {
                throw RuleSyntaxError("filters dimension \(name) twice", at: namePosition)
            }
            skipSpaces()
            guard current == "=" else {
                guard current != nil else { throw RuleSyntaxError("has a [ that is never closed", at: opening) }
                throw RuleSyntaxError("expected = after dimension \(name)", at: position)
            }
            index += 1
            skipSpaces()
            let valuePosition = position
            let value = try filterValue(opening: opening)
            filters.append(
                .init(dimension: name, value: value, dimensionPosition: namePosition, valuePosition: valuePosition))
            skipSpaces()
            switch current {
            case ",": index += 1
            case "]":
                index += 1
                return filters
            case nil: throw RuleSyntaxError("has a [ that is never closed", at: opening)
            case let other?: throw RuleSyntaxError("expected , or ] but found \(other)", at: position)
            }
        }
    }

    /// A bare value (up to `,` or `]`, surrounding spaces dropped) or a quoted one.
    private mutating func filterValue(opening: Int) throws(RuleSyntaxError) -> String {
        let start = position
        var value = ""
        if current == "\"" {
            index += 1
            while let next = current, next != "\"" {
                if next == "\\" {
                    index += 1
                    guard let escaped = current, escaped == "\"" || escaped == "\\" else {
                        throw RuleSyntaxError("only \\\" and \\\\ may be escaped in a quoted value", at: position - 1)
                    }
                    value.unicodeScalars.append(escaped)
                } else {
                    value.unicodeScalars.append(next)
                }
                index += 1
            }
            guard current == "\"" else { throw RuleSyntaxError("has a quote that is never closed", at: start) }
            index += 1
        } else {
            while let next = current, !RuleExpression.isReservedInValue(next) {
                value.unicodeScalars.append(next)
                index += 1
            }
            while value.unicodeScalars.last?.properties.isWhitespace == true { value.unicodeScalars.removeLast() }
            if let next = current, next != "," && next != "]" {
                throw RuleSyntaxError("\(next) must be inside a quoted value (\"…\")", at: position)
            }
        }
        guard !value.isEmpty else {
            guard current != nil else { throw RuleSyntaxError("has a [ that is never closed", at: opening) }
            throw RuleSyntaxError("expected a dimension value", at: start)
        }
        return value
    }

    private func number(_ word: String, at start: Int) throws(RuleSyntaxError) -> Double {
        let parts = word.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty }), word.count <= 30, let value = Double(word) else {
            throw RuleSyntaxError("\(word) is not a number (write 0.5, 12, 1000)", at: start)
        }
        return value
    }

    /// A run of code characters, `_`, `-` and `.`, as long as it goes: a code may hold and end
    /// with `-`, so `a-b` and `a-` are codes and subtraction takes a space before its `-`. A
    /// number (a run with a `.`) ends before a `-` (`0.5-a` is 0.5 minus a).
    private mutating func readWord() -> String {
        var word = ""
        while let next = current, next == "." || next == "_" || next == "-" || Self.isCodeCharacter(next) {
            if next == "-" && word.contains(".") { break }
            word.unicodeScalars.append(next)
            index += 1
        }
        return word
    }

    private mutating func skipSpaces() {
        while current?.properties.isWhitespace == true { index += 1 }
    }

    private func unexpected(_ character: Unicode.Scalar, after: String?) -> RuleSyntaxError {
        let message: String =
            switch character {
            case "/": "divides; only + and - combine terms, and only a number can multiply one"
            case "(", ")": "has parentheses, which rules do not use"
            case "[", "]": "has a \(character) that belongs to no indicator"
            case "*": "has a * without a number or indicator before it"
            default:
                if let after {
                    "expected + or - after \(after), found \(character)"
                } else {
                    "expected an indicator or a number, found \(character)"
                }
            }
        return RuleSyntaxError(message, at: position)
    }

    /// Lowercase ASCII letters and digits: how a code or dimension name begins.
    private static func isCodeCharacter(_ character: Unicode.Scalar) -> Bool {
        character.isASCII && (("a"..."z").contains(character) || ("0"..."9").contains(character))
    }

    /// A registry slug: `[a-z0-9][a-z0-9_-]{0,63}`.
    private static func isCode(_ word: String) -> Bool {
        guard let first = word.unicodeScalars.first, isCodeCharacter(first), word.unicodeScalars.count <= 64 else {
            return false
        }
        return word.unicodeScalars.allSatisfy { isCodeCharacter($0) || $0 == "_" || $0 == "-" }
    }
}
