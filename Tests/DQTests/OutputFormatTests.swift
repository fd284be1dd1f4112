/// Answer formats: table alignment, CSV (RFC 4180, CRLF), JSON escaping, TSV escaping.
import Testing

@testable import DQ

@Suite struct OutputFormatTests {
  let store = ValueStore()

  private func render(_ format: OutputFormat, _ columns: [String], _ rows: [[Constant]]) -> String {
    format.render(columns: columns, rows: rows.map { $0.map(store.constant) }, store: store)
  }

  // MARK: - Ground queries

  @Test(arguments: OutputFormat.allCases)
  func groundQueriesPrintTrueOrFalse(_ format: OutputFormat) {
    // CSV ends every line with CRLF (RFC 4180).
    let eol = format == .csv ? "\r\n" : "\n"
    #expect(render(format, [], [[]]) == "true" + eol)
    #expect(render(format, [], []) == "false" + eol)
  }

  // MARK: - TSV

  @Test func tsvHeaderAndRows() {
    let out = render(.tsv, ["X", "Y"], [[.symbol("a"), .integer(-3)], [.date(0), .decimal(2.5)]])
    #expect(out == "X\tY\na\t-3\n1970-01-01\t2.5\n")
  }

  @Test func tsvEscapesTabNewlineAndBackslashOnly() {
    let out = render(.tsv, ["S"], [[.symbol("a\tb\nc\\d\"e\rf é")]])
    #expect(out == "S\na\\tb\\nc\\\\d\"e\rf é\n")
  }

  @Test func tsvEmptyAnswers() {
    #expect(render(.tsv, ["X", "Y"], []) == "X\tY\n")
  }

  @Test func tsvEmptySymbol() {
    #expect(render(.tsv, ["X", "Y"], [[.symbol(""), .symbol("")]]) == "X\tY\n\t\n")
  }

  // MARK: - CSV

  @Test func csvUsesCRLF() {
    let out = render(.csv, ["N", "V"], [[.integer(1), .symbol("plain")], [.integer(2), .date(0)]])
    #expect(out == "N,V\r\n1,plain\r\n2,1970-01-01\r\n")
  }

  @Test func csvQuotesFieldsThatNeedIt() {
    let out = render(
      .csv, ["V"],
      [[.symbol("a,b")], [.symbol("say \"hi\"")], [.symbol("two\nlines")], [.symbol("cr\rx")], [.symbol("\"")],
       [.symbol(" spaced ")], [.symbol("")]])
    #expect(
      out == "V\r\n\"a,b\"\r\n\"say \"\"hi\"\"\"\r\n\"two\nlines\"\r\n\"cr\rx\"\r\n\"\"\"\"\r\n spaced \r\n\r\n")
  }

  @Test func csvQuotesAFieldWithCRLF() {
    let out = render(.csv, ["V"], [[.symbol("a\r\nb")]])
    #expect(out == "V\r\n\"a\r\nb\"\r\n")
  }

  @Test func csvHeaderIsQuotedLikeAnyField() {
    // Column names are variables, so they never need quotes; the header is plain.
    #expect(render(.csv, ["A", "B_2"], []) == "A,B_2\r\n")
  }

  // MARK: - JSON

  @Test func jsonRowsAreObjects() {
    let out = render(.json, ["N", "D", "S"], [[.integer(1), .date(0), .symbol("x")], [.decimal(-0.5), .date(1), .symbol("y")]])
    #expect(
      out == """
        [
          {"N": 1, "D": "1970-01-01", "S": "x"},
          {"N": -0.5, "D": "1970-01-02", "S": "y"}
        ]

        """)
  }

  @Test func jsonEmpty() {
    #expect(render(.json, ["X"], []) == "[]\n")
  }

  @Test func jsonEscapes() {
    let out = render(.json, ["S"], [[.symbol("q\" b\\ n\n r\r t\t \u{1} \u{1F} é 中 😀 /")]])
    #expect(out == "[\n  {\"S\": \"q\\\" b\\\\ n\\n r\\r t\\t \\u0001 \\u001f é 中 😀 /\"}\n]\n")
  }

  @Test func jsonBigNumbers() {
    let out = render(.json, ["N"], [[.integer(Int64.min)], [.integer(Int64.max)]])
    #expect(out == "[\n  {\"N\": -9223372036854775808},\n  {\"N\": 9223372036854775807}\n]\n")
  }

  // MARK: - Table

  @Test func tableAlignsNumbersRight() {
    let out = render(
      .table, ["Name", "Pop"], [[.symbol("paris"), .integer(2_161_000)], [.symbol("new york"), .integer(8)]])
    #expect(
      out == """
        ┌──────────┬─────────┐
        │ Name     │ Pop     │
        ├──────────┼─────────┤
        │ paris    │ 2161000 │
        │ new york │       8 │
        └──────────┴─────────┘
        2 rows

        """)
  }

  @Test func tableMixedColumnIsLeftAligned() {
    let out = render(.table, ["V"], [[.integer(100)], [.symbol("x")]])
    #expect(
      out == """
        ┌─────┐
        │ V   │
        ├─────┤
        │ 100 │
        │ x   │
        └─────┘
        2 rows

        """)
  }

  @Test func tableOneRowAndNoRows() {
    #expect(render(.table, ["X"], [[.integer(1)]]).hasSuffix("1 row\n"))
    #expect(
      render(.table, ["Long"], []) == """
        ┌──────┐
        │ Long │
        ├──────┤
        └──────┘
        0 rows

        """)
  }

  @Test func tableEscapesControlCharacters() {
    let out = render(.table, ["S"], [[.symbol("a\tb\nc\u{7}")]])
    #expect(out.contains("│ a\\tb\\nc\\u{7} │"), "\(out)")
  }

  @Test func tableMeasuresWideCharacters() {
    // "中文" takes four columns, "é" one.
    let out = render(.table, ["S"], [[.symbol("中文")], [.symbol("é")], [.symbol("abcde")]])
    #expect(
      out == """
        ┌───────┐
        │ S     │
        ├───────┤
        │ 中文  │
        │ é     │
        │ abcde │
        └───────┘
        3 rows

        """)
  }

  // MARK: - Through a session

  @Test func blocksAreSeparatedByOneEmptyLine() {
    let run = TestDQ.run("p(1). ?- p(X). ?- p(2). ?- p(X), X > 5. ?- p(1).")
    #expect(run.output == "X\n1\n\nfalse\n\nX\n\ntrue\n")
  }

  @Test func formatCommandChangesTheFormatMidScript() {
    let run = TestDQ.run("p(\"a,b\").\n?- p(X).\n.format csv\n?- p(X).\n.format json\n?- p(X).\n.format table\n?- p(X).\n")
    #expect(run.errors.isEmpty, "\(run.errorSummary)")
    let expected =
      "X\na,b\n" + "\r\n" + "X\r\n\"a,b\"\r\n" + "\n" + "[\n  {\"X\": \"a,b\"}\n]\n" + "\n"
      + "┌─────┐\n│ X   │\n├─────┤\n│ a,b │\n└─────┘\n1 row\n"
    #expect(run.output == expected)
  }
}
