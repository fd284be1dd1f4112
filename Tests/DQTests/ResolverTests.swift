/// The resolver: safety of variables, one arity per name, and the hints that go with them.
import Testing

@testable import DQ

@Suite struct ResolverTests {
  /// Resolves every statement of `text` in a fresh schema.
  private func resolve(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> Resolver {
    let (statements, syntax) = TestDQ.parse(text)
    #expect(syntax.isEmpty, "\(syntax.map(\.message))", sourceLocation: sourceLocation)
    var r = Resolver(schema: Schema())
    for s in statements { r.resolve(s) }
    return r
  }

  private func errors(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    resolve(text, sourceLocation: sourceLocation).diagnostics.map {
      "\($0.span?.line ?? 0):\($0.span?.column ?? 0): \($0.message)"
    }
  }

  // MARK: - Safe programs

  @Test(arguments: [
    "p(X) :- q(X).",
    "p(X, Y) :- q(X), r(X, Y), not s(Y).",
    "p(X) :- q(Y), X = Y + 1.",
    "p(X) :- X = Y * 2, Y = Z + 1, q(Z).",
    "p(Z) :- q(X), Y = X + 1, Z = Y * 2, Z > 3.",
    "p(X) :- X = 3.",
    "c(1) :- 0 = 1.",
    "b :- not g(_).",
    "p(X) :- q(X), not r(X, _).",
    "p(X, N) :- q(X), N = count : { r(X, _) }.",
    "p(N) :- N = count : { r(X, Y) }.",
    "p(X, M) :- q(X), M = min V : { r(X, V), V > 0 }.",
    "p(N, M) :- N = count : { r(X, _) }, M = count : { s(X) }.",
    "?- q(X), 1 = count : { r(X, _) }.",
    "?- q(_Hidden), _Hidden > 1.",
    "p(X) :- q(X, _), r(_, X).",
  ])
  func safeClausesHaveNoErrors(_ text: String) {
    #expect(errors(text).isEmpty)
  }

  // MARK: - Unsafe variables

  @Test func unboundHeadVariable() {
    let r = resolve("p(X, Y) :- q(X).")
    #expect(r.diagnostics.count == 1)
    let d = r.diagnostics[0]
    #expect(d.message == "Variable 'Y' in the head of 'p' is not bound by the body")
    #expect(d.span?.text == "Y")
    #expect(d.span?.column == 6)
    #expect(d.hint == "add a positive atom that mentions 'Y' to the body")
    #expect(d.kind == .semantic)
    #expect(d.severity == .error)
  }

  @Test func factWithAVariable() {
    let d = resolve("p(a, X).").diagnostics
    #expect(d.map(\.message) == ["Variable 'X' in the head of 'p' is not bound by the body"])
    #expect(d.first?.hint == "a fact cannot contain variables; to ask a question, write '?- p(a, X).'")
  }

  @Test func headVariableInAnExpression() {
    let d = resolve("p(X + 1) :- q(Y).").diagnostics
    #expect(d.map(\.message) == ["Variable 'X' in the head of 'p' is not bound by the body"])
    #expect(d.first?.span?.text == "X")
  }

  @Test func unboundUnderNot() {
    let d = resolve("p(X) :- q(X), not r(X, Y).").diagnostics
    #expect(d.map(\.message) == ["Variable 'Y' under 'not' is not bound by a positive atom"])
    #expect(d.first?.span?.text == "Y")
    #expect(
      d.first?.hint == "'Y' appears only under 'not'; bind it with a positive atom, or write '_' if any value will do")
  }

  @Test func unboundInComparison() {
    #expect(errors("p(X) :- q(X), Y > X.") == ["1:15: Variable 'Y' in a comparison is not bound"])
    #expect(errors("p(X) :- q(X), X != Y.") == ["1:20: Variable 'Y' in a comparison is not bound"])
    let d = resolve("p(X) :- q(X), Y < Z.").diagnostics
    #expect(d.map(\.message) == ["Variable 'Y' in a comparison is not bound", "Variable 'Z' in a comparison is not bound"])
    #expect(d.first?.hint == "a comparison cannot bind 'Y'; bind it with a positive atom first")
  }

  @Test func equalityDoesNotSolveBackwards() {
    let e = errors("p(X) :- q(Y), Y = X + 1.")
    #expect(e.contains("1:19: Variable 'X' in a comparison is not bound"), "\(e)")
    #expect(e.contains("1:3: Variable 'X' in the head of 'p' is not bound by the body"), "\(e)")
  }

  @Test func equalityBetweenTwoUnboundVariables() {
    let e = errors("?- X = Y.")
    #expect(e == ["1:4: Variable 'X' in a comparison is not bound", "1:8: Variable 'Y' in a comparison is not bound"])
  }

  @Test func expressionInsideAnAtomIsNotSolved() {
    let d = resolve("p(X) :- q(X), r(Y + 1).").diagnostics
    #expect(d.map(\.message).contains("Variable 'Y' in an expression is not bound"), "\(d.map(\.message))")
    #expect(d.first?.hint == "an expression inside an atom is compared, not solved; bind 'Y' with another atom")
  }

  @Test func queriesAreCheckedToo() {
    #expect(errors("?- p(X), not q(Y).") == ["1:16: Variable 'Y' under 'not' is not bound by a positive atom"])
    #expect(errors("?- X > 1.") == ["1:4: Variable 'X' in a comparison is not bound"])
  }

  // MARK: - Aggregates

  @Test func groupingVariableMustBeBoundOutside() {
    let d = resolve("deg(X, N) :- N = count : { e(X, _) }.").diagnostics
    #expect(d.map(\.message) == ["Variable 'X' groups the count but is not bound outside it"])
    #expect(d.first?.span?.text == "N = count : { e(X, _) }")
  }

  @Test func aggregatedValueMustBeBoundInside() {
    let d = resolve("?- S = sum V : { p(X) }.").diagnostics.map(\.message)
    #expect(d.contains("Variable 'V' of the sum is not bound inside its braces"), "\(d)")
  }

  @Test func unsafeInsideAnAggregate() {
    let d = resolve("?- N = count : { p(X), Y > X }.").diagnostics.map(\.message)
    #expect(d == ["Variable 'Y' in a comparison is not bound"])
  }

  // MARK: - Arity

  @Test func oneNameTwoArities() {
    let r = resolve("p(1).\nq(X) :- p(X, X).")
    #expect(r.diagnostics.count == 1)
    let d = r.diagnostics[0]
    #expect(d.message == "Relation 'p' is used with 2 arguments here but has 1")
    #expect(d.span?.line == 2)
    #expect(d.span?.text == "p(X, X)")
    #expect(d.hint == "'p' takes 1 argument")
    #expect(d.notes.map(\.message) == ["'p' first appears here"])
    #expect(d.notes.first?.span?.line == 1)
    #expect(d.notes.first?.severity == .note)
  }

  @Test func arityInNegationsAggregatesAndQueries() {
    #expect(
      errors("p(1). q(1) :- not p(1, 2).")
        == ["1:19: Relation 'p' is used with 2 arguments here but has 1"])
    #expect(
      errors("p(1). ?- N = count : { p(_, _) }.")
        == ["1:24: Relation 'p' is used with 2 arguments here but has 1"])
    #expect(errors("p(1). ?- p.") == ["1:10: Relation 'p' is used with 0 arguments here but has 1"])
  }

  @Test func schemaRecordsArities() {
    let r = resolve("p(1, 2). q(X) :- p(X, _), not r(X).")
    #expect(r.schema["p"]?.arity == 2)
    #expect(r.schema["q"]?.arity == 1)
    #expect(r.schema["r"]?.arity == 1)
    #expect(r.schema["s"] == nil)
  }

  @Test func schemaCarriesOverBetweenResolvers() {
    let first = resolve("p(1, 2).")
    var second = Resolver(schema: first.schema)
    for s in TestDQ.parse("?- p(X).").statements { second.resolve(s) }
    #expect(second.diagnostics.map(\.message) == ["Relation 'p' is used with 1 argument here but has 2"])
  }
}
