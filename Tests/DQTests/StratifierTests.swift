/// The stratifier: strata in dependency order, recursion flags, and cycles through not/aggregates.
import Testing

@testable import DQ

@Suite struct StratifierTests {
  private func strata(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Stratifier.Stratum] {
    switch Stratifier.stratify(rules: TestDQ.rules(text, sourceLocation: sourceLocation)) {
    case .success(let s): return s
    case .failure(let e):
      Issue.record("unexpected: \(e.diagnostics.map(\.message))", sourceLocation: sourceLocation)
      return []
    }
  }

  private func cycleErrors(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [Diagnostic] {
    switch Stratifier.stratify(rules: TestDQ.rules(text, sourceLocation: sourceLocation)) {
    case .success:
      Issue.record("expected a stratification error", sourceLocation: sourceLocation)
      return []
    case .failure(let e): return e.diagnostics
    }
  }

  /// The index of the stratum holding `name`.
  private func position(_ name: String, in s: [Stratifier.Stratum]) -> Int? {
    s.firstIndex { $0.relations.contains(name) }
  }

  @Test func dependenciesComeFirst() {
    let s = strata("d(X) :- c(X). c(X) :- b(X). b(X) :- a(X). a(1).")
    let order = ["a", "b", "c", "d"].map { position($0, in: s) }
    #expect(order.allSatisfy { $0 != nil }, "\(s.map(\.relations))")
    #expect(order.compactMap { $0 } == order.compactMap { $0 }.sorted())
    #expect(Set(order.compactMap { $0 }).count == 4)
  }

  @Test func negatedAndAggregatedRelationsComeFirst() {
    let s = strata("p(X) :- q(X), not r(X). r(X) :- s(X). t(N) :- N = count : { p(_) }.")
    guard let p = position("p", in: s), let r = position("r", in: s), let t = position("t", in: s),
      let sIndex = position("s", in: s)
    else { return #expect(Bool(false), "\(s.map(\.relations))") }
    #expect(sIndex < r)
    #expect(r < p)
    #expect(p < t)
  }

  @Test func recursionFlags() {
    let s = strata(
      """
      e(1, 2).
      tc(X, Y) :- e(X, Y).
      tc(X, Z) :- tc(X, Y), e(Y, Z).
      even(X) :- zero(X).
      even(Y) :- odd(X), succ(X, Y).
      odd(Y) :- even(X), succ(X, Y).
      plain(X) :- e(X, _).
      """)
    let tc = s.first { $0.relations.contains("tc") }
    #expect(tc?.relations == ["tc"])
    #expect(tc?.recursive == true)
    let mutual = s.first { $0.relations.contains("even") }
    #expect(Set(mutual?.relations ?? []) == ["even", "odd"])
    #expect(mutual?.recursive == true)
    #expect(s.first { $0.relations.contains("plain") }?.recursive == false)
    #expect(s.first { $0.relations.contains("e") }?.recursive == false)
  }

  @Test func positiveCyclesAreOneStratum() {
    let s = strata("a(X) :- b(X). b(X) :- c(X). c(X) :- a(X). c(1).")
    let abc = s.first { $0.relations.contains("a") }
    #expect(Set(abc?.relations ?? []) == ["a", "b", "c"])
    #expect(abc?.recursive == true)
  }

  @Test func negationOfALowerRecursiveStratum() {
    let s = strata(
      "reach(X, Y) :- e(X, Y). reach(X, Z) :- reach(X, Y), e(Y, Z). un(X, Y) :- n(X), n(Y), not reach(X, Y).")
    guard let reach = position("reach", in: s), let un = position("un", in: s) else { return #expect(Bool(false)) }
    #expect(reach < un)
    #expect(s[un].recursive == false)
  }

  @Test func extraRelationsGetStrata() {
    guard case .success(let s) = Stratifier.stratify(rules: [], relations: ["lonely"]) else {
      return #expect(Bool(false))
    }
    #expect(s.map(\.relations) == [["lonely"]])
  }

  // MARK: - Cycles through not and aggregates

  @Test func selfNegation() {
    let d = cycleErrors("p(X) :- q(X), not p(X).")
    #expect(d.map(\.message) == ["Relation 'p' depends on itself through 'not' or an aggregate"])
    #expect(d.first?.span?.text == "not p(X)")
    #expect(d.first?.kind == .semantic)
    #expect(
      d.first?.hint
        == "negation and aggregates need their relation complete first, so it cannot be part of the same recursion")
  }

  @Test func twoRelationCycleNamesBoth() {
    let d = cycleErrors("p(X) :- q(X), not r(X). r(X) :- p(X).")
    #expect(d.map(\.message) == ["Relations p -> r -> p depend on each other through 'not' or an aggregate"])
    #expect(d.first?.span?.text == "not r(X)")
  }

  @Test func longCycleNamesEveryRelation() {
    let d = cycleErrors("a(X) :- q(X), b(X). b(X) :- q(X), c(X). c(X) :- q(X), not a(X).")
    #expect(d.map(\.message) == ["Relations c -> a -> b -> c depend on each other through 'not' or an aggregate"])
  }

  @Test func cycleThroughAnAggregate() {
    let d = cycleErrors("p(N) :- N = count : { p(_) }.")
    #expect(d.map(\.message) == ["Relation 'p' depends on itself through 'not' or an aggregate"])
    #expect(d.first?.span?.text == "p(_)")
    let d2 = cycleErrors("size(N) :- N = count : { q(_) }. q(X) :- p(X), size(X).")
    #expect(d2.map(\.message) == ["Relations size -> q -> size depend on each other through 'not' or an aggregate"])
  }

  @Test func negationInsideAnAggregateBodyIsNegative() {
    let d = cycleErrors("p(N) :- q(N), N = count : { q(X), not p(X) }.")
    #expect(d.count == 1)
  }

  @Test func independentCyclesAreEachReported() {
    let d = cycleErrors("p(X) :- q(X), not p(X). r(X) :- q(X), not s(X). s(X) :- r(X).")
    #expect(d.count == 2, "\(d.map(\.message))")
  }

  @Test func oneCycleOneError() {
    // Two negative edges on the same cycle still make one error.
    let d = cycleErrors("p(X) :- q(X), not r(X). r(X) :- q(X), not p(X).")
    #expect(d.count == 1, "\(d.map(\.message))")
  }

  @Test func largeChainDoesNotRecurseDeeply() {
    // Tarjan's algorithm without recursion: a 20 000-relation chain is fine.
    var text = "r0(1).\n"
    for i in 1...20_000 { text += "r\(i)(X) :- r\(i - 1)(X).\n" }
    let s = strata(text)
    #expect(s.count == 20_001)
    #expect(position("r0", in: s) == 0)
    #expect(position("r20000", in: s) == 20_000)
  }
}
