/// Open engine bugs: each test states the right behaviour and fails until the bug is fixed.
/// (Bugs found earlier and fixed since live on in RegressionTests.swift.)
import Foundation
import Testing

@testable import DQ

@Suite struct KnownBugTests {
  /// Now that `=` is identity, 1 and 1.0 are two values that the order ranks as equal, so the
  /// order of answers, and which one `min`/`max` returns, depend on the order the facts were
  /// written: a set of facts should give one output. (Ranking 1 before 1.0 when sorting
  /// answers and choosing a min or max would settle it; `<=` and `>=` can stay numeric.)
  @Test func answersDoNotDependOnFactOrder() {
    let a = TestDQ.run("p(1.0).\np(1).\n?- p(X).\n?- M = min X : { p(X) }.\n?- M = max X : { p(X) }.\n")
    let b = TestDQ.run("p(1).\np(1.0).\n?- p(X).\n?- M = min X : { p(X) }.\n?- M = max X : { p(X) }.\n")
    #expect(a.output == b.output)
  }

  /// `sum` switches to decimals at the first decimal it meets, so over {9223372036854775807, 1,
  /// 0.5} it answers 9223372036854776000.0 when 0.5 was written first, and fails with "Integer
  /// overflow in 'sum'" when it was written last. The result should not depend on fact order.
  @Test func sumDoesNotDependOnFactOrder() {
    let a = TestDQ.run("p(0.5).\np(9223372036854775807).\np(1).\n?- S = sum X : { p(X) }.\n")
    let b = TestDQ.run("p(9223372036854775807).\np(1).\np(0.5).\n?- S = sum X : { p(X) }.\n")
    #expect(a.status == b.status)
    #expect(a.output == b.output)
    #expect(a.errors.map(\.message) == b.errors.map(\.message))
  }

  /// The contract's own example `b :- not g(_).` warns "Relation 'g' has no facts and no rules, so
  /// it is empty" with "hint: did you mean 'b'?": for a one-letter name every other one-letter
  /// relation is one edit away, so the hint names an unrelated relation (here the very head of
  /// the rule). A suggestion should share something with the name it replaces.
  @Test func noDidYouMeanForUnrelatedShortNames() {
    let run = TestDQ.run("b :- not g(_).\n?- b.\n")
    #expect(run.warnings.map(\.message) == ["Relation 'g' has no facts and no rules, so it is empty"])
    #expect(run.warnings.first?.hint == nil, "hint: \(run.warnings.first?.hint ?? "")")
    #expect(Suggest.closest(to: "q", in: ["p", "r"]) == nil)
  }
}
