/// Warnings about empty relations: when they appear, their "did you mean" hint, and that they
/// never change the status or the answers.
import Testing

@testable import DQ

@Suite struct WarningTests {
  @Test func typoGetsADidYouMean() {
    let run = TestDQ.run("parent(alice, bob).\n?- parnet(X, Y).\n")
    #expect(run.status == .ok)
    #expect(run.output == "X\tY\n")
    #expect(run.warnings.map(\.message) == ["Relation 'parnet' has no facts and no rules, so it is empty"])
    #expect(run.warnings.first?.hint == "did you mean 'parent'?")
    #expect(run.warnings.first?.span?.text == "parnet")
    #expect(run.warnings.first?.kind == .advice)
  }

  @Test func warningsDoNotChangeAnswersOrStatus() {
    let text = "p(1).\n?- p(X), not q(X).\n"
    let loud = TestDQ.run(text, warnings: true)
    let quiet = TestDQ.run(text, warnings: false)
    #expect(loud.output == quiet.output)
    #expect(loud.status == quiet.status)
    #expect(loud.warnings.count == 1)
    #expect(quiet.diagnostics.isEmpty)
  }

  @Test func oneWarningPerName() {
    let run = TestDQ.run("?- q(X).\n?- q(X), r(X).\n")
    #expect(run.warnings.filter { $0.message.contains("'q'") }.count == 1, "\(run.warnings.map(\.message))")
  }

  @Test func definedRelationsDoNotWarn() {
    let run = TestDQ.run("e(1, 2).\ntc(X, Y) :- e(X, Y).\n?- tc(X, Y), not e(Y, X).\nz :- 1 = 1.\n?- z.\n")
    #expect(run.warnings.isEmpty, "\(run.warnings.map(\.message))")
  }

  @Test func suggestionDistance() {
    #expect(Suggest.distance("parnet", "parent") == 1)  // a transposition is one edit
    #expect(Suggest.distance("egde", "edge") == 1)
    #expect(Suggest.distance("", "abc") == 3)
    #expect(Suggest.distance("kitten", "sitting") == 3)
    #expect(Suggest.closest(to: "parnet", in: ["parent", "person", "part"]) == "parent")
    #expect(Suggest.closest(to: "ancestor", in: ["parent"]) == nil)
  }
}
