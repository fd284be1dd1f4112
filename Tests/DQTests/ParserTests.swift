/// The parser: statement shapes, terms, recovery, the printer round trip and the depth limit.
import Testing

@testable import DQ

@Suite struct ParserTests {
  private func statements(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Statement] {
    let (s, d) = TestDQ.parse(text)
    #expect(d.isEmpty, "\(d.map(\.message))", sourceLocation: sourceLocation)
    return s
  }

  private func errors(_ text: String) -> [String] {
    TestDQ.parse(text).diagnostics.map { "\($0.span?.line ?? 0):\($0.span?.column ?? 0): \($0.message)" }
  }

  /// The term of `?- X = term.`.
  private func term(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Term? {
    guard case .query(let q) = statements("?- X = \(text).", sourceLocation: sourceLocation).first,
      case .comparison(.equal, _, let t, _) = q.body.first
    else {
      Issue.record("no term in \(text)", sourceLocation: sourceLocation)
      return nil
    }
    return t
  }

  // MARK: - Statement shapes

  @Test func factRuleAndQuery() {
    let s = statements("p(a, 1). q(X) :- p(X, _). ?- q(Y). raining. p(X, Y)?")
    #expect(s.count == 5)
    guard case .fact(let fact) = s[0] else { return #expect(Bool(false), "\(s[0])") }
    #expect(fact.head.name == "p")
    #expect(fact.head.arity == 2)
    #expect(fact.body.isEmpty)
    guard case .rule(let rule) = s[1] else { return #expect(Bool(false), "\(s[1])") }
    #expect(rule.head.name == "q")
    #expect(rule.body.count == 1)
    guard case .query(let query) = s[2] else { return #expect(Bool(false), "\(s[2])") }
    #expect(query.shownVariables == ["Y"])
    guard case .fact(let zero) = s[3] else { return #expect(Bool(false), "\(s[3])") }
    #expect(zero.head.arity == 0)
    guard case .query(let question) = s[4] else { return #expect(Bool(false), "\(s[4])") }
    #expect(question.shownVariables == ["X", "Y"])
  }

  @Test func queryFormsAreTheSame() {
    let a = statements("?- p(X), not q(X).")
    let b = statements("p(X), not q(X)?")
    #expect(a.map(\.description) == b.map(\.description))
  }

  @Test func factWithVariablesIsARule() {
    // The resolver then reports the unbound variable; the parser keeps the shape.
    guard case .rule(let r) = statements("p(X).").first else { return #expect(Bool(false)) }
    #expect(r.body.isEmpty)
  }

  @Test func ruleWithoutPositiveAtom() {
    let s = statements("c(1) :- 0 = 1. b :- not g(_).")
    guard case .rule(let c) = s[0], case .rule(let b) = s[1] else { return #expect(Bool(false), "\(s)") }
    guard case .comparison(.equal, _, _, _) = c.body[0] else { return #expect(Bool(false)) }
    guard case .negative(let g, _) = b.body[0] else { return #expect(Bool(false)) }
    #expect(g.name == "g")
    #expect(b.head.arity == 0)
  }

  @Test func anonymousVariablesAreRenamedApart() {
    guard case .query(let q) = statements("?- p(_, _), q(_).").first else { return #expect(Bool(false)) }
    let names = q.body.flatMap(\.variables)
    #expect(names.count == 3)
    #expect(Set(names).count == 3)
    #expect(names.allSatisfy { $0.hasPrefix("_") })
    #expect(q.shownVariables.isEmpty)
  }

  @Test func hiddenVariablesAreNotShown() {
    guard case .query(let q) = statements("?- p(_A, B, _, C), B = _A.").first else { return #expect(Bool(false)) }
    #expect(q.shownVariables == ["B", "C"])
  }

  @Test func aggregateShapes() {
    guard case .query(let q) = statements("?- N = count : { p(_) }, S = sum V * 2 : { q(V) }, M = max V : { q(V) }.").first
    else { return #expect(Bool(false)) }
    guard case .aggregate(let count) = q.body[0], case .aggregate(let sum) = q.body[1],
      case .aggregate(let max) = q.body[2]
    else { return #expect(Bool(false), "\(q.body)") }
    #expect(count.function == .count)
    #expect(count.value == nil)
    #expect(sum.function == .sum)
    #expect(sum.value?.description == "V * 2")
    #expect(max.function == .max)
    #expect(q.shownVariables == ["N", "S", "M"])
  }

  @Test func aggregateNeedsAColon() {
    #expect(errors("?- N = count { p(_) }.") == ["1:14: Expected ':' before the body of 'count', found '{'"])
  }

  @Test func symbolNamedLikeAnAggregate() {
    // `X = count` with no braces is a comparison with the symbol `count`.
    guard case .query(let q) = statements("?- p(X), X = count.").first,
      case .comparison(.equal, _, .constant(.symbol("count"), _), _) = q.body[1]
    else { return #expect(Bool(false)) }
  }

  @Test func quotedAndBareSymbolsAreEqual() {
    let a = statements("p(putin).")
    let b = statements("p(\"putin\").")
    guard case .fact(let x) = a[0], case .fact(let y) = b[0],
      case .constant(let cx, _) = x.head.arguments[0], case .constant(let cy, _) = y.head.arguments[0]
    else { return #expect(Bool(false)) }
    #expect(cx == cy)
    #expect(cx == .symbol("putin"))
  }

  // MARK: - Terms

  @Test func precedenceAndAssociativity() {
    #expect(term("1 + 2 * 3")?.description == "1 + 2 * 3")
    guard case .binary(.add, _, .binary(.multiply, _, _, _), _) = term("1 + 2 * 3") else {
      return #expect(Bool(false))
    }
    guard case .binary(.subtract, .binary(.subtract, _, _, _), .constant(.integer(2), _), _) = term("10 - 3 - 2") else {
      return #expect(Bool(false))
    }
    guard case .binary(.multiply, .binary(.add, _, _, _), _, _) = term("(1 + 2) * 3") else {
      return #expect(Bool(false))
    }
    guard case .binary(.modulo, _, _, _) = term("7 mod 3") else { return #expect(Bool(false)) }
    guard case .binary(.add, _, .binary(.modulo, _, _, _), _) = term("1 + 7 mod 3") else {
      return #expect(Bool(false))
    }
  }

  @Test func negativeLiterals() {
    guard case .constant(.integer(-7), let span) = term("-7") else { return #expect(Bool(false)) }
    #expect(span.text == "-7")
    guard case .constant(.integer(Int64.min), _) = term("-9223372036854775808") else {
      return #expect(Bool(false))
    }
    guard case .constant(.decimal(-2.5), _) = term("-2.5") else { return #expect(Bool(false)) }
    guard case .negate(.variable("Y", _), _) = term("-Y") else { return #expect(Bool(false)) }
    guard case .binary(.subtract, _, .constant(.integer(-3), _), _) = term("10 - -3") else {
      return #expect(Bool(false))
    }
    guard case .negate(.binary(.add, _, _, _), _) = term("-(1 + 2)") else { return #expect(Bool(false)) }
  }

  @Test func termSpans() {
    guard let t = term("1 + Y * 2") else { return }
    #expect(t.span.text == "1 + Y * 2")
    #expect(t.span.column == 8)
    guard case .query(let q) = statements("?- p(X),\n   X < 3.").first else { return #expect(Bool(false)) }
    #expect(q.body[1].span.line == 2)
    #expect(q.body[1].span.column == 4)
    #expect(q.body[1].span.text == "X < 3")
  }

  @Test func dateAndDecimalConstants() {
    guard case .constant(.date(let d), _) = term("2016-08-09") else { return #expect(Bool(false)) }
    #expect(DateCodec.format(days: d) == "2016-08-09")
    guard case .binary(.subtract, .binary(.subtract, _, _, _), _, _) = term("2016-8-9") else {
      return #expect(Bool(false))
    }
    guard case .constant(.decimal(3.25), _) = term("3.25") else { return #expect(Bool(false)) }
  }

  // MARK: - Errors and recovery

  @Test func recoveryReportsEveryClause() {
    let text = """
      p(a
      q(b).
      r(c) :- .
      ok(1).
      s(X) :- t(X) u(X).
      ?- ok(X)
      """
    #expect(
      errors(text) == [
        "2:1: Expected ')' after the arguments of 'p', found 'q'",
        "3:9: Expected a term (a variable, constant or expression), found '.'",
        "5:14: Expected '.' at the end of the rule, found 'u'",
        "6:9: Expected '.' at the end of the query, found end of input",
      ])
    // The good clause between the bad ones is still parsed.
    let (s, _) = TestDQ.parse(text)
    #expect(s.map(\.description).contains("ok(1)."))
  }

  @Test func lexicalErrorsAreReportedByTheParser() {
    #expect(errors("p(\"abc).") == ["1:3: Unterminated string"])
    #expect(errors("p(2016-02-30).") == ["1:3: Invalid date '2016-02-30'"])
    #expect(errors("p(99999999999999999999).") == ["1:3: Integer literal 99999999999999999999 does not fit in 64 bits"])
    #expect(errors("p(9223372036854775808).") == ["1:3: Integer literal 9223372036854775808 does not fit in 64 bits"])
    #expect(errors("p(-9223372036854775808).").isEmpty)
  }

  @Test func headMustBeAnAtom() {
    #expect(errors("p(X), q(X) :- r(X).") == ["1:1: The head of a clause must be a single atom such as 'p(X)'"])
    #expect(errors("X = 1 :- r(X).") == ["1:1: The head of a clause must be a single atom such as 'p(X)'"])
    let d = TestDQ.parse("p(X), q(X).").diagnostics
    #expect(d.first?.hint == "to ask a question, write '?- ...' or end it with '?'")
  }

  @Test func variableUsedAsRelation() {
    #expect(errors("?- P(X).") == ["1:4: Relation names start with a lowercase letter; 'P' is a variable"])
  }

  @Test func incompleteInputIsMarked() {
    for text in ["p(1", "?- p(X), ", "p(X) :- q(X)", "/* open"] {
      let d = TestDQ.parse(text).diagnostics
      #expect(d.count == 1, "\(text)")
      #expect(d.first?.isIncompleteInput == true, "\(text): \(d.map(\.message))")
    }
    for text in ["p(1]).", "p(1) q."] {
      #expect(TestDQ.parse(text).diagnostics.first?.isIncompleteInput == false, "\(text)")
    }
  }

  @Test func endOfInputErrorPointsAfterTheLastToken() {
    let d = TestDQ.parse("p(1, 2).\n?- p(X\n\n").diagnostics
    #expect(d.count == 1)
    #expect(d.first?.span?.line == 2)
    #expect(d.first?.span?.column == 7)
  }

  // MARK: - Depth limit

  @Test func nestingWithinTheLimitParses() {
    let depth = Parser.maximumDepth / 2
    let text = "?- X = " + String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth) + "."
    #expect(errors(text).isEmpty)
  }

  @Test func deepNestingIsAnErrorNotACrash() {
    for depth in [Parser.maximumDepth + 1, 1000, 5000] {
      let text = "?- X = " + String(repeating: "(", count: depth) + "1" + String(repeating: ")", count: depth) + ".\np(1."
      let messages = TestDQ.parse(text).diagnostics.map(\.message)
      #expect(messages.first == "Expression nested too deeply (more than \(Parser.maximumDepth) levels)", "\(depth)")
      // Recovery goes on to the next clause.
      #expect(messages.count == 2, "\(messages)")
    }
    let minus = "?- X = " + String(repeating: "- ", count: 1000) + "1."
    #expect(TestDQ.parse(minus).diagnostics.map(\.message).first?.hasPrefix("Expression nested too deeply") == true)
  }

  @Test func deeplyNestedAggregatesAreAnErrorNotACrash() {
    var body = "p(X)"
    for i in 0..<400 { body = "N\(i) = count : { \(body) }" }
    let d = TestDQ.parse("?- \(body).").diagnostics
    #expect(d.first?.message.hasPrefix("Expression nested too deeply") == true, "\(d.map(\.message))")
  }

  // MARK: - Printer round trip

  static let roundTripPrograms = [
    "parent(alice, bob). ancestor(X, Y) :- parent(X, Y). ancestor(X, Z) :- parent(X, Y), ancestor(Y, Z). ?- ancestor(alice, W).",
    "p(\"Hello, World\", \"a\\\"b\\\\c\\nd\\te\", \"not\", \"mod\", \"Upper\", \"\", \"with space\", \"é\").",
    "n(-9223372036854775808). n(9223372036854775807). n(-3). n(3.25). n(-0.5). n(2016-08-09). n(0001-01-01).",
    "?- X = 1 + 2 * 3, Y = (1 + 2) * 3, Z = 10 - (3 - 2), W = 10 - 3 - 2, V = -X, U = -(X + 1), T = X mod 2 * 3.",
    "?- X = 2 * (3 mod 4), Y = X / (2 * 3), Z = --X, W = 1 - -2, A = -2 * -3.",
    // Found by Scripts/fuzz: the negation of an unsigned number literal keeps its parentheses.
    "?- X = - -0, Y = -(5), Z = -(0.5), W = 1 - -(2), V = - - 3, U = --0.0.",
    "deg(X, N) :- node(X), N = count : { e(X, _) }. t(S) :- S = sum V : { w(_, V) }.",
    "?- M = min V : { p(V), not q(V, _) }, N = max V + 1 : { p(V) }, 1 = count : { r(_, _) }.",
    "b :- not g(_). raining. c(1) :- 0 = 1. ?- raining, not b, _Hidden = 3.",
    "?- p(X), X != a, X < 2016-01-01, X <= 3, X > -1, X >= 0.5, X = \"b c\".",
  ]

  @Test(arguments: roundTripPrograms)
  func printedProgramParsesToTheSameTree(_ source: String) {
    let (first, d1) = TestDQ.parse(source)
    #expect(d1.isEmpty, "\(d1.map(\.message))")
    let printed = first.map(\.description).joined(separator: "\n")
    let (second, d2) = TestDQ.parse(printed)
    #expect(d2.isEmpty, "reparsing\n\(printed)\n: \(d2.map(\.message))")
    #expect(second.map(\.description) == first.map(\.description))
    #expect(second.count == first.count)
    // Printing is a fixpoint after one round, and the trees agree apart from spans.
    #expect(second.map(Shape.of) == first.map(Shape.of), "\(printed)")
  }
}

/// A statement's tree with spans and anonymous-variable numbering removed, for structural equality.
indirect enum Shape: Equatable {
  case node(String, [Shape])

  static func of(_ s: Statement) -> Shape {
    switch s {
    case .fact(let r): return .node("fact", [of(r)])
    case .rule(let r): return .node("rule", [of(r)])
    case .query(let q): return .node("query", q.body.map(of))
    default: return .node(s.description, [])
    }
  }

  static func of(_ r: Rule) -> Shape { .node("clause", [of(r.head)] + r.body.map(of)) }

  static func of(_ a: Atom) -> Shape { .node("atom " + a.name, a.arguments.map(of)) }

  static func of(_ l: Literal) -> Shape {
    switch l {
    case .positive(let a): return of(a)
    case .negative(let a, _): return .node("not", [of(a)])
    case .comparison(let op, let x, let y, _): return .node(op.rawValue, [of(x), of(y)])
    case .aggregate(let g):
      return .node(g.function.rawValue, [of(g.result), g.value.map(of) ?? .node("-", [])] + g.body.map(of))
    }
  }

  static func of(_ t: Term) -> Shape {
    switch t {
    case .variable(let v, _): return .node(v.hasPrefix("_#") ? "_" : "var " + v, [])
    case .constant(.symbol(let s), _): return .node("symbol " + s, [])
    case .constant(.integer(let i), _): return .node("integer \(i)", [])
    case .constant(.decimal(let d), _): return .node("decimal \(d.bitPattern)", [])
    case .constant(.date(let d), _): return .node("date \(d)", [])
    case .binary(let op, let x, let y, _): return .node(op.rawValue, [of(x), of(y)])
    case .negate(let x, _): return .node("neg", [of(x)])
    }
  }
}
