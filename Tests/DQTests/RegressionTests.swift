/// Bugs the suite found and that have been fixed: each test states the right behaviour, so the
/// bug stays fixed. Crashes are reproduced in a child `dq` process so the suite survives a relapse.
import Foundation
import Testing

@testable import DQ
import DQCheck

@Suite struct RegressionTests {
  /// Runs `text` through the real binary (so a crash only kills the child).
  private func binary(_ text: String, _ extra: [String] = []) throws -> ProcessResult {
    let file = try DQBinary.temporaryFile(text, name: "regression")
    defer { try? FileManager.default.removeItem(atPath: file) }
    // No backtrace on a crash: symbolicating thousands of frames is slow, and the status says enough.
    return try DQBinary.run(["--no-dataset", "--format", "tsv"] + extra + [file], environment: ["SWIFT_BACKTRACE": "enable=no"])
  }

  /// `?- X = 1 + 1 + ... + 1.` with 10 000 terms overflows the stack (SIGSEGV) in the recursive
  /// `Executor.evaluate` (and the AST walks): the term is a 10 000-deep left-leaning tree even though
  /// no parenthesis is nested. It should print 10001, or report a located error.
  @Test func longArithmeticChainDoesNotCrash() throws {
    let text = "?- X = 1" + String(repeating: " + 1", count: 10_000) + ".\n"
    let r = try binary(text)
    let (crashed, status) = (r.crashed, r.status)
    #expect(!crashed, "dq crashed (signal \(status)) on a 10 001-term sum")
    #expect(status == 0 || status == 65)
    if r.status == 0 { #expect(r.stdout == "X\n10001\n") }
  }

  /// The fix for the crash above caps a left-leaning chain at 200 operators and reports it as
  /// "Expression nested too deeply (more than 200 levels)", yet `1 + 1 + ... + 1` has no nesting
  /// the user wrote: a generated sum of 250 numbers is refused with a message that blames
  /// parentheses that are not there. A flat chain should evaluate (or, at least, be refused
  /// for what it is: too long).
  @Test func flatSumIsNotNested() throws {
    // Through the binary: if long chains ever recurse again, only the child crashes.
    let r = try binary("?- X = 1" + String(repeating: " + 1", count: 1_000) + ".\n")
    #expect(!r.crashed)
    if r.status == 0 {
      #expect(r.stdout == "X\n1001\n")
    } else {
      let blamesNesting = r.stderr.contains("nested")
      #expect(!blamesNesting, "the message blames nesting for a flat chain")
    }
  }

  /// A query body of 3 000 atoms crashes: `Executor.run(_:_:)` recurses once per step.
  @Test func longBodyDoesNotCrash() throws {
    let text = "p(1).\n?- p(X)" + String(repeating: ", p(X)", count: 3_000) + ".\n"
    let r = try binary(text)
    let (crashed, status) = (r.crashed, r.status)
    #expect(!crashed, "dq crashed (signal \(status)) on a 3 001-literal query")
    #expect(status == 0 || status == 65)
    if r.status == 0 { #expect(r.stdout == "X\n1\n") }
  }

  /// An aggregate whose braces bind more than ~64 variables writes past `Executor.scratch`
  /// (`emit` copies `localSlots` into a buffer sized only for keys and arities): heap corruption,
  /// then a crash. The same 300 atoms outside an aggregate work.
  @Test func aggregateWithManyLocalVariablesDoesNotCorruptMemory() throws {
    let atoms = (1...300).map { "p(X\($0))" }.joined(separator: ", ")
    let r = try binary("p(1).\n?- N = count : { \(atoms) }.\n")
    let (crashed, status) = (r.crashed, r.status)
    #expect(!crashed, "dq crashed (signal \(status)) on a count over 300 local variables")
    #expect(status == 0)
    #expect(r.stdout == "N\n1\n")
  }

  /// `=` is identity (2 and 2.0 are different values, as in binding), so whether `X = 2.0`
  /// holds never depends on the plan; the order comparisons are numeric (2 >= 2.0 and 2 <= 2.0).
  @Test func equalityWithADecimalDoesNotDependOnPlanOrder() {
    let run = TestDQ.run("p(2).\n?- p(X), X = 2.0.\n?- X = 2.0, p(X).\n?- p(X), X >= 2.0, X <= 2.0.\n?- 2 = 2.0.\n")
    #expect(run.output == "X\n\nX\n\nX\n2\n\nfalse\n")
  }

  /// The same with two atoms: `X = Y` between a bound 2 and a bound 2.0 is false either way.
  @Test func equalityBetweenTwoBoundVariablesCompares() {
    let run = TestDQ.run("p(2).\nq(2.0).\nq(2).\n?- p(X), q(Y), X = Y.\n?- q(Y), p(X), Y = X.\n")
    #expect(run.output == "X\tY\n2\t2\n\nY\tX\n2\t2\n")
  }

  /// `_` in a head is reported with the parser's internal name: "Variable '_#1' in the head of
  /// 'p' is not bound by the body" (and the hint mentions '_#1' too). It should say '_'.
  @Test func anonymousVariableInAHeadIsNamedAsWritten() {
    let run = TestDQ.run("q(1).\np(_) :- q(X).\n")
    #expect(run.status == .staticError)
    #expect(run.errors.allSatisfy { !$0.message.contains("_#") && !($0.hint ?? "").contains("_#") }, "\(run.errors.map(\.message))")
    let sum = TestDQ.run("p(1).\n?- S = sum _ : { p(_) }.\n")
    #expect(sum.errors.allSatisfy { !$0.message.contains("_#") }, "\(sum.errors.map(\.message))")
  }

  /// The span of a parenthesised operand stops before its ')' (the parser returns the inner
  /// term's span), so the underline of `1 / (2 - 2)` leaves the closing parenthesis out.
  @Test func parenthesisedOperandSpanIncludesItsParentheses() {
    let run = TestDQ.run("?- X = 1 / (2 - 2).\n")
    #expect(run.errors.map(\.message) == ["Division by zero"])
    #expect(run.errors.first?.span?.text == "1 / (2 - 2)")
    let left = TestDQ.run("?- X = (2 - 2) / 0.\n")
    #expect(left.errors.first?.span?.text == "(2 - 2) / 0")
  }

  /// Every error is `FILE:LINE:COL: error: ...` with the source line and a caret, but the tuple
  /// limit hit inside one rule run (`Executor.emit` passes no span) and the time limit (checked
  /// between rounds with no span) print as `dq: error: ...` with no location at all. The hint
  /// also says "the program may not terminate" for a plain, finite cartesian product.
  @Test func limitErrorsCarryALocation() {
    let facts = (1...20).map { "p(\($0))." }.joined(separator: " ")
    let product = TestDQ.run(facts + "\n?- p(X), p(Y), p(Z).\n", maxTuples: 1000)
    #expect(product.status == .runtimeError)
    #expect(product.errors.map(\.message) == ["Evaluation stopped after deriving more than 1000 tuples (the tuple limit)"])
    #expect(product.errors.first?.span?.line == 2, "no location for the tuple limit")

    var options = Session.Options()
    options.format = .tsv
    options.maxTuples = 0
    options.timeout = 0.3
    let session = Session(options: options, loadDataset: false)
    var diagnostics: [Diagnostic] = []
    session.capture.onWrite = { _ in }
    session.capture.onReport = { diagnostics.append($0) }
    let status = session.run(SourceFile(name: "t.dq", text: "n(0).\nn(Y) :- n(X), Y = X + 1.\n?- n(X).\n"))
    #expect(status == .runtimeError)
    #expect(diagnostics.first?.message.hasPrefix("Evaluation stopped after") == true)
    #expect(diagnostics.first?.span != nil, "no location for the time limit")
  }

  /// A `%` comment after a dot-command becomes part of its argument:
  /// `.format csv % switch` fails with "Unknown format 'csv % switch'". Comments run to the end
  /// of every line, per the contract's lexical rules.
  @Test func commentAfterADotCommandIsIgnored() {
    let run = TestDQ.run("p(1).\n.format csv % now csv\n?- p(X).\n")
    #expect(run.errors.map(\.message) == [])
    #expect(run.output == "X\r\n1\r\n")
  }

  /// The reason printed for an unreadable file comes from `errno` read after *all* files were
  /// read, so it can belong to another file: for a directory followed by a missing file, dq says
  /// the directory is "No such file or directory".
  @Test func unreadableFileReasonIsItsOwn() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dq-dir-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try DQBinary.run(["--no-dataset", dir.path, "/nonexistent/missing.dq"])
    #expect(r.status == 66)
    #expect(r.stderr.contains("Is a directory"), "\(r.stderr)")
  }

  /// `ExpectationChecker.expectations(in:)` splits the text on the Character "\n", but in Swift
  /// "\r\n" is one Character, so a fixture saved with Windows line endings is read as a single
  /// line: its `% options:` swallow the whole file and nothing is checked.
  @Test func checkerReadsCRLFFixtures() {
    let text = [
      "% options: --no-dataset --format tsv", "p(1).", "?- p(X).", "% expect: X", "% expect: 1", "",
    ].joined(separator: "\r\n")
    #expect(ExpectationChecker.check(name: "crlf.dq", text: text) == [])
    #expect(ExpectationChecker.expectations(in: text).output == ["X", "1"])
  }

  /// A UTF-8 byte order mark (as some Windows editors write) makes the first clause an error whose
  /// message shows an invisible character: "Unexpected character '\u{FEFF}'; non-ASCII text must
  /// be inside double quotes". It should be skipped at the start of a file.
  @Test func byteOrderMarkIsSkipped() {
    let run = TestDQ.run("\u{FEFF}p(1).\n?- p(X).\n")
    #expect(run.errors.map(\.message) == [])
    #expect(run.output == "X\n1\n")
  }

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
