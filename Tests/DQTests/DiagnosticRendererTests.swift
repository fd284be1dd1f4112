/// The diagnostic renderer: exact text of the location line, source line, caret underline, hints and notes.
import Testing

@testable import DQ

@Suite struct DiagnosticRendererTests {
  let renderer = DiagnosticRenderer(color: false)

  /// A span over the `occurrence`-th occurrence of `needle` in the file (found in bytes, so CRLF counts right).
  private func span(_ needle: String, in file: SourceFile, occurrence: Int = 1) -> SourceSpan {
    let bytes = file.bytes, pattern = Array(needle.utf8)
    var seen = 0
    var start = 0
    for i in 0...(bytes.count - pattern.count) where Array(bytes[i..<(i + pattern.count)]) == pattern {
      seen += 1
      if seen == occurrence {
        start = i
        break
      }
    }
    let line = bytes[..<start].filter { $0 == 10 }.count + 1
    let lineStart = (bytes[..<start].lastIndex(of: 10) ?? -1) + 1
    let column = String(decoding: bytes[lineStart..<start], as: UTF8.self).unicodeScalars.count + 1
    return SourceSpan(file: file, start: start, end: start + pattern.count, line: line, column: column)
  }

  @Test func errorWithUnderline() {
    let file = SourceFile(name: "demo.dq", text: "p(1).\n?- p(X), Y = 10 / X.\n")
    let d = Diagnostic(.error, .runtime, "Division by zero", at: span("10 / X", in: file))
    #expect(
      renderer.render(d) == """
        demo.dq:2:14: error: Division by zero
        ?- p(X), Y = 10 / X.
                     ^~~~~~

        """)
  }

  @Test func singleCharacterSpanIsACaret() {
    let file = SourceFile(name: "a.dq", text: "p(X) :- q(Y).")
    let d = Diagnostic(.error, .semantic, "Variable 'X' in the head of 'p' is not bound by the body", at: span("X", in: file))
    #expect(
      renderer.render(d) == """
        a.dq:1:3: error: Variable 'X' in the head of 'p' is not bound by the body
        p(X) :- q(Y).
          ^

        """)
  }

  @Test func emptySpanStillGetsACaret() {
    let file = SourceFile(name: "a.dq", text: "?- p(X")
    let s = SourceSpan(file: file, start: 6, end: 6, line: 1, column: 7)
    let d = Diagnostic(.error, .syntax(incomplete: true), "Expected ')', found end of input", at: s)
    #expect(
      renderer.render(d) == """
        a.dq:1:7: error: Expected ')', found end of input
        ?- p(X
              ^

        """)
  }

  @Test func hintAndNotes() {
    let file = SourceFile(name: "b.dq", text: "p(1).\nq(X) :- p(X, X).")
    let note = Diagnostic(.note, .advice, "'p' first appears here", at: span("p", in: file))
    let d = Diagnostic(
      .error, .semantic, "Relation 'p' is used with 2 arguments here but has 1", at: span("p(X, X)", in: file),
      hint: "'p' takes 1 argument", notes: [note])
    #expect(
      renderer.render(d) == """
        b.dq:2:9: error: Relation 'p' is used with 2 arguments here but has 1
        q(X) :- p(X, X).
                ^~~~~~~
        hint: 'p' takes 1 argument
        b.dq:1:1: note: 'p' first appears here
        p(1).
        ^

        """)
  }

  @Test func warning() {
    let file = SourceFile(name: "<command line>", text: "?- parnet(X).")
    let d = Diagnostic(
      .warning, .advice, "Relation 'parnet' has no facts and no rules, so it is empty", at: span("parnet", in: file),
      hint: "did you mean 'parent'?")
    #expect(
      renderer.render(d) == """
        <command line>:1:4: warning: Relation 'parnet' has no facts and no rules, so it is empty
        ?- parnet(X).
           ^~~~~~
        hint: did you mean 'parent'?

        """)
  }

  @Test func withoutASpan() {
    let d = Diagnostic(.error, .runtime, "Interrupted", at: nil)
    #expect(renderer.render(d) == "dq: error: Interrupted\n")
  }

  @Test func tabsAreKeptSoTheCaretLinesUp() {
    let file = SourceFile(name: "t.dq", text: "\tp(X) :-\t q(Y).")
    let d = Diagnostic(.error, .semantic, "m", at: span("Y", in: file))
    #expect(renderer.render(d) == "t.dq:1:13: error: m\n\tp(X) :-\t q(Y).\n\t       \t   ^\n")
  }

  @Test func columnsCountScalarsNotBytes() {
    let file = SourceFile(name: "u.dq", text: "p(\"é\", 1 / 0).")
    let d = Diagnostic(.error, .runtime, "Division by zero", at: span("1 / 0", in: file))
    #expect(renderer.render(d) == "u.dq:1:8: error: Division by zero\np(\"é\", 1 / 0).\n       ^~~~~\n")
  }

  @Test func multiLineSpanIsCutAtTheEndOfTheLine() {
    let file = SourceFile(name: "m.dq", text: "p(X) :- q(X),\n  r(X).")
    let start = span("q(X)", in: file)
    let end = span("r(X)", in: file)
    let d = Diagnostic(.error, .semantic, "m", at: start.to(end))
    #expect(renderer.render(d) == "m.dq:1:9: error: m\np(X) :- q(X),\n        ^~~~~\n")
  }

  @Test func crlfSourceLinesLoseTheCarriageReturn() {
    let file = SourceFile(name: "w.dq", text: "p(1).\r\nq(X) :- r(Y).\r\n")
    let d = Diagnostic(.error, .semantic, "m", at: span("X", in: file))
    #expect(renderer.render(d) == "w.dq:2:3: error: m\nq(X) :- r(Y).\n  ^\n")
  }

  @Test func batchEndsWithACount() {
    let file = SourceFile(name: "c.dq", text: "a. b.")
    let one = Diagnostic(.error, .syntax(incomplete: false), "first", at: span("a", in: file))
    let two = Diagnostic(.error, .syntax(incomplete: false), "second", at: span("b", in: file))
    let warning = Diagnostic(.warning, .advice, "careful", at: span("b", in: file))
    #expect(
      renderer.render(all: [one, warning, two]) == """
        c.dq:1:1: error: first
        a. b.
        ^
        c.dq:1:4: warning: careful
        a. b.
           ^
        c.dq:1:4: error: second
        a. b.
           ^
        2 errors

        """)
    #expect(!renderer.render(all: [one, warning]).contains("errors"))
  }

  @Test func colourIsOptIn() {
    let file = SourceFile(name: "c.dq", text: "a.")
    let d = Diagnostic(.error, .semantic, "m", at: span("a", in: file), hint: "h")
    let coloured = DiagnosticRenderer(color: true).render(d)
    #expect(coloured.contains("\u{1B}[1;31merror\u{1B}[0m"))
    #expect(coloured.contains("\u{1B}[1;32m^\u{1B}[0m"))
    #expect(!renderer.render(d).contains("\u{1B}"))
  }

  @Test func realDiagnosticsRenderAsTheContractSays() {
    // FILE:LINE:COL: error: MESSAGE, then the source line, then a caret.
    let run = TestDQ.run("p(1).\n?- p(X), Y = X - 1, Z = X / Y.\n", name: "r.dq")
    #expect(run.status == .runtimeError)
    #expect(
      run.diagnostics.map(renderer.render) == [
        """
        r.dq:2:25: error: Division by zero
        ?- p(X), Y = X - 1, Z = X / Y.
                                ^~~~~

        """
      ])
  }
}
