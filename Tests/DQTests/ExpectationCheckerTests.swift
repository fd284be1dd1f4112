/// The golden-file checker itself: it must notice every kind of mismatch, or the golden test proves nothing.
import Testing

@testable import DQ
import DQCheck

@Suite struct ExpectationCheckerTests {
  private func check(_ lines: [String]) -> [String] {
    ExpectationChecker.check(name: "t.dq", text: lines.joined(separator: "\n") + "\n")
  }

  @Test func passingFile() {
    #expect(
      check([
        "% options: --no-dataset --format tsv", "p(1).", "?- p(X).", "% expect: X", "% expect: 1", "?- p(2).",
        "% expect:", "% expect: false",
      ]) == [])
  }

  @Test func readsOptions() {
    let e = ExpectationChecker.expectations(
      in: "% options: --no-dataset --format csv --max-tuples 7 --timeout 2.5 --no-warnings\n% skip: later\n")
    #expect(!e.loadDataset)
    #expect(e.options.format == .csv)
    #expect(e.options.maxTuples == 7)
    #expect(e.options.timeout == 2.5)
    #expect(!e.options.warnings)
    #expect(e.skip == "later")
    #expect(e.optionProblems.isEmpty)
  }

  @Test func badOptionsAreProblems() {
    let e = ExpectationChecker.expectations(in: "% options: --format yaml --frobnicate\n")
    #expect(e.optionProblems == ["bad --format 'yaml'", "unknown option '--frobnicate'"])
  }

  @Test func wrongOutputIsReported() {
    let problems = check(["% options: --no-dataset --format tsv", "p(1).", "?- p(X).", "% expect: X", "% expect: 2"])
    #expect(problems.first == "standard output differs (- expected, + actual):")
    #expect(problems.contains("  - 2"))
    #expect(problems.contains("  + 1"))
  }

  @Test func missingAndExtraOutputLinesAreReported() {
    #expect(!check(["% options: --no-dataset --format tsv", "p(1).", "?- p(X).", "% expect: X"]).isEmpty)
    #expect(
      !check(["% options: --no-dataset --format tsv", "p(1).", "?- p(X).", "% expect: X", "% expect: 1", "% expect: 1"])
        .isEmpty)
  }

  @Test func errorsMustMatchLineAndMessage() {
    let ok = check(["% options: --no-dataset", "p(X). % expect error: Variable 'X' in the head of 'p' is not bound by the body"])
    #expect(ok == [])
    let wrongLine = check(["% options: --no-dataset", "p(X).", "% expect error: Variable 'X' in the head of 'p' is not bound by the body"])
    #expect(wrongLine.contains { $0.hasPrefix("expected error on line 3:") })
    #expect(wrongLine.contains("unexpected error on line 2: 'Variable 'X' in the head of 'p' is not bound by the body'"))
    let elsewhere = check(["% options: --no-dataset", "p(X).", "% expect error line 2: Variable 'X' in the head of 'p' is not bound by the body"])
    #expect(elsewhere == [])
    let wrongText = check(["% options: --no-dataset", "p(X). % expect error: Something else"])
    #expect(wrongText.contains { $0.contains("got 'Variable 'X'") })
  }

  @Test func exitStatusIsImplied() {
    // An expected runtime error implies 70; a file with an unexpected error fails on status too.
    #expect(check(["% options: --no-dataset --format tsv", "?- X = 1 / 0. % expect runtime error: Division by zero"]) == [])
    let unexpected = check(["% options: --no-dataset --format tsv", "?- X = 1 / 0.", "% expect: X"])
    #expect(unexpected.contains("exit status 70, expected 0"))
  }

  @Test func theExitKindComesFromTheExpectation() {
    // The error is there with its message, but a runtime error exits 70, not the 65 that
    // `% expect error:` promises; and the other way round.
    let runtime = check(["% options: --no-dataset --format tsv", "?- X = 1 / 0. % expect error: Division by zero"])
    #expect(runtime == ["exit status 70, expected 65"])
    let staticError = check([
      "% options: --no-dataset", "p(X). % expect runtime error: Variable 'X' in the head of 'p' is not bound by the body",
    ])
    #expect(staticError == ["exit status 65, expected 70"])
    // `% expect exit: N` overrides both.
    #expect(check(["% options: --no-dataset", ".format xml", "% expect error line 2: Unknown format 'xml'", "% expect exit: 64"]) == [])
  }

  @Test func warningsAreChecked() {
    #expect(
      check([
        "% options: --no-dataset --format tsv",
        "?- q(X). % expect warning: Relation 'q' has no facts and no rules, so it is empty", "% expect: X",
      ]) == [])
    let unexpected = check(["% options: --no-dataset --format tsv", "?- q(X).", "% expect: X"])
    #expect(unexpected == ["unexpected warning on line 2: 'Relation 'q' has no facts and no rules, so it is empty'"])
  }

  @Test func fileWithoutExpectationsFails() {
    #expect(check(["% options: --no-dataset", "p(1)."]) == ["no '% expect' lines: nothing is checked"])
  }

  @Test func skippedFilesAreNotRun() {
    #expect(check(["% skip: not yet", "this is not dq at all ("]) == [])
  }

  @Test func percentInsideAStringIsNotAComment() {
    #expect(
      check(["% options: --no-dataset --format tsv", "p(\"100% % expect: nonsense\").", "?- p(X).", "% expect: X", "% expect: 100% % expect: nonsense"])
        == [])
  }
}
