import DataQuality
import Testing

@Suite struct RuleExpressionTests {
    @Test func readsTermsCoefficientsFiltersAndNumbers() throws {
        let expression = try RuleExpression.parse("enrolled[age_group=16-24, sex = \"f, m\"] - 0.5 * enrolled + 3 * 2")
        #expect(
            expression
                == RuleExpression(
                    terms: [
                        .init(
                            indicator: "enrolled",
                            filters: [
                                .init(dimension: "sex", value: "f, m"), .init(dimension: "age_group", value: "16-24"),
                            ]),
                        .init(coefficient: -0.5, indicator: "enrolled"),
                    ], constant: 6))
        #expect(expression.terms.map(\.position) == [1, 49])
        #expect(expression.terms[0].filters.map(\.valuePosition) == [20, 33])
        #expect(expression.indicators == ["enrolled"])
    }

    @Test func numbersMultiplyTermsOnEitherSide() throws {
        let before = try RuleExpression.parse("0.5 * enrolled")
        let after = try RuleExpression.parse("enrolled*0.5")
        #expect(before == after)
        #expect(before.terms[0].coefficient == 0.5)
        #expect(try RuleExpression.parse("-2 * a * 3").terms[0].coefficient == -6)
        #expect(try RuleExpression.parse("120") == RuleExpression(terms: [], constant: 120))
    }

    @Test func codesMayHoldDashesSoSubtractionTakesSpaces() throws {
        #expect(try RuleExpression.parse("a-b").terms.map(\.indicator) == ["a-b"])
        #expect(try RuleExpression.parse("a - b").terms.map(\.coefficient) == [1, -1])
        #expect(try RuleExpression.parse("2024-cohort").terms.map(\.indicator) == ["2024-cohort"])
        #expect(try RuleExpression.parse("a -b").terms.map(\.indicator) == ["a", "b"])
        #expect(try RuleExpression.parse("a- - b-").terms.map(\.indicator) == ["a-", "b-"])
        #expect(throws: RuleSyntaxError("expected + or - after a term, found b", at: 4)) {
            try RuleExpression.parse("a- b")
        }
        #expect(try RuleExpression.parse("2-a") == RuleExpression(terms: [.init(indicator: "2-a")]))
        #expect(
            try RuleExpression.parse("0.5-a")
                == RuleExpression(terms: [.init(coefficient: -1, indicator: "a")], constant: 0.5))
    }

    @Test(arguments: [
        "completed",
        "enrolled[age_group=16-24] - 0.5 * enrolled",
        "-a + 2 * b[x=1,y=\"two words\"] - 0.001 * c - 7.25",
        "a[v=\"q\\\"uote\\\\d\"]",
        "a[sex=not stated, note=\" padded \"] -b",
        "0.1 * a + 0.00001 * b + 123456789012 * c",
        "5",
        "0 * a - 0",
    ])
    func canonicalSpellingReadsBackTheSame(_ text: String) throws {
        let expression = try RuleExpression.parse(text)
        let canonical = expression.description
        #expect(try RuleExpression.parse(canonical) == expression, "\(canonical)")
        #expect(try RuleExpression.parse(canonical).description == canonical)
    }

    @Test func canonicalSpelling() throws {
        #expect(try RuleExpression.parse("3+enrolled*0.5-  completed").description == "0.5 * enrolled - completed + 3")
        #expect(try RuleExpression.parse("a[z=1,b=\" x\"]").description == "a[b=\" x\", z=1]")
        #expect(try RuleExpression.parse("a[sex = not stated ]").description == "a[sex=not stated]")
        #expect(RuleExpression.spelled(0.00001) == "0.00001")
        #expect(RuleExpression.spelled(1e20) == "100000000000000000000")
        #expect(RuleExpression.spelled(-2.5) == "-2.5")
        #expect(RuleExpression.spelled(130) == "130")
    }

    @Test(arguments: [
        ("", 1, "is empty"),
        ("   ", 1, "is empty"),
        ("a * b", 5, "multiplies two indicators"),
        ("a / 2", 3, "divides"),
        ("(a + b)", 1, "parentheses"),
        ("a[x=1", 2, "never closed"),
        ("a[x=1, y", 2, "never closed"),
        ("a]", 2, "belongs to no indicator"),
        ("a b", 3, "expected + or -"),
        ("a +", 4, "ends where"),
        ("a + + b", 5, "expected an indicator"),
        ("A", 1, "expected an indicator or a number, found A"),
        ("1.2.3", 1, "not a number"),
        ("a[=1]", 3, "expected a dimension name"),
        ("a[x 1]", 5, "expected = after dimension x"),
        ("a[x=]", 5, "expected a dimension value"),
        ("a[x=1, x=2]", 8, "filters dimension x twice"),
        ("a[x=\"1]", 5, "quote that is never closed"),
        ("a[x=\"\\n\"]", 6, "may be escaped"),
        ("a[x=1 \"]", 7, "quoted value"),
        ("* a", 1, "without a number"),
        ("a.b", 1, "neither a number nor an indicator code"),
        ("1000000000000000 * a", 1, "too large"),
    ])
    func refusesWithThePosition(_ text: String, _ position: Int, _ words: String) {
        let error = #expect(throws: RuleSyntaxError.self) { try RuleExpression.parse(text) }
        #expect(error?.position == position, "\(error?.description ?? "")")
        #expect(error?.message.contains(words) == true, "\(error?.description ?? "")")
    }

    @Test func positionsCountCodePointsAsMaxLengthDoes() throws {
        let composed = #expect(throws: RuleSyntaxError.self) { try RuleExpression.parse("a[x=\"\u{E9}\"] + B") }
        #expect(composed?.position == 12)
        let decomposed = #expect(throws: RuleSyntaxError.self) { try RuleExpression.parse("a[x=\"e\u{301}\"] + B") }
        #expect(decomposed?.position == 13)
        #expect(try RuleExpression.parse("a[x=\u{E9}t\u{E9}]").terms[0].filters[0].value == "\u{E9}t\u{E9}")
    }

    @Test func randomExpressionsReadBackFromTheirCanonicalSpelling() throws {
        var generator = SystemRandomNumberGenerator()
        func word(_ alphabet: String, _ lengths: ClosedRange<Int>) -> String {
            String(
                (0..<Int.random(in: lengths, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }
            )
        }
        // A code with a letter first: an all-digit code reads as a number (docs/quality.md).
        func code() -> String { word("abz", 1...1) + word("az09_-", 0...6) }
        let numbers: [Double] = [0, 1, 2, 0.5, 0.1, 0.00001, 3.25, 123_456.789, 1e14, 0.1 + 0.2]
        func number() -> Double { numbers.randomElement(using: &generator)! * (Bool.random() ? 1 : -1) }
        for _ in 0..<500 {
            let terms = (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                let dimensions = Set((0..<Int.random(in: 0...2, using: &generator)).map { _ in code() })
                return RuleExpression.Term(
                    coefficient: number(), indicator: code(),
                    filters: dimensions.map { .init(dimension: $0, value: word("ab 9-+,[]=\"\\\u{E9}*/", 1...6)) })
            }
            let expression = RuleExpression(terms: terms, constant: Bool.random() ? number() : 0)
            let text = expression.description
            #expect(try RuleExpression.parse(text) == expression, "\(text)")
        }
    }

    @Test func boundsLengthAndTerms() {
        let long = String(repeating: "a + ", count: 250) + "abc"
        #expect(throws: RuleSyntaxError("is longer than 1000 characters", at: 1001)) { try RuleExpression.parse(long) }
        let many = (1...51).map { "i\($0)" }.joined(separator: "+")
        let position = many.count - 2
        #expect(throws: RuleSyntaxError("has more than 50 terms", at: position)) { try RuleExpression.parse(many) }
    }
}
