/// Answer formats: table alignment, CSV (RFC 4180, CRLF), JSON escaping, TSV escaping.
import Testing

@testable import DQ

@Suite struct OutputFormatTests {
  let store = ValueStore()

  private func render(_ format: OutputFormat, _ columns: [String], _ rows: [[Constant]]) -> String {
    format.render(columns: columns, rows: rows.map { $0.map(store.constant) }, store: store)
  }

  // MARK: - Ground queries

  @Test(arguments: [OutputFormat.table, .tsv, .line])
  func groundQueriesPrintTrueOrFalse(_ format: OutputFormat) {
    #expect(render(format, [], [[]]) == "true\n")
    #expect(render(format, [], []) == "false\n")
  }

  @Test func groundQueriesHaveAHeaderInCSVAndMarkdown() {
    // CSV ends every line with CRLF (RFC 4180); a program reading CSV expects a header.
    #expect(render(.csv, [], [[]]) == "answer\r\ntrue\r\n")
    #expect(render(.csv, [], []) == "answer\r\nfalse\r\n")
    #expect(OutputFormat.csv.render(columns: [], rows: [], store: store, layout: .init(headers: false)) == "false\r\n")
    #expect(render(.markdown, [], [[]]) == "| answer |\n|--------|\n| true   |\n")
  }

  @Test func groundQueriesAreJSONBooleans() {
    #expect(render(.json, [], [[]]) == "[\n  {\"columns\": [], \"answer\": true}\n]\n")
    #expect(render(.jsonl, [], []) == "{\"columns\": [], \"answer\": false}\n")
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
          {"columns": ["N", "D", "S"], "rows": [
            {"N": 1, "D": "1970-01-01", "S": "x"},
            {"N": -0.5, "D": "1970-01-02", "S": "y"}
          ]}
        ]

        """)
  }

  @Test func jsonEmpty() {
    #expect(render(.json, ["X"], []) == "[\n  {\"columns\": [\"X\"], \"rows\": []}\n]\n")
  }

  @Test func jsonEscapes() {
    let out = render(.json, ["S"], [[.symbol("q\" b\\ n\n r\r t\t \u{1} \u{1F} é 中 😀 /")]])
    #expect(out.contains("\n    {\"S\": \"q\\\" b\\\\ n\\n r\\r t\\t \\u0001 \\u001f é 中 😀 /\"}\n"))
  }

  @Test func jsonBigNumbers() {
    let out = render(.json, ["N"], [[.integer(Int64.min)], [.integer(Int64.max)]])
    #expect(out.contains("\n    {\"N\": -9223372036854775808},\n    {\"N\": 9223372036854775807}\n"))
  }

  @Test func jsonLinesIsOneObjectPerAnswer() {
    let out = render(.jsonl, ["N", "S"], [[.integer(1), .symbol("a")], [.integer(2), .symbol("b\nc")]])
    #expect(out == "{\"columns\": [\"N\", \"S\"], \"rows\": [{\"N\": 1, \"S\": \"a\"}, {\"N\": 2, \"S\": \"b\\nc\"}]}\n")
  }

  @Test func jsonNamesTheAnswer() {
    var layout = OutputFormat.Layout()
    layout.title = ("query", "?- p(X).")
    let out = OutputFormat.jsonl.render(columns: ["X"], rows: [], store: store, layout: layout)
    #expect(out == "{\"query\": \"?- p(X).\", \"columns\": [\"X\"], \"rows\": []}\n")
  }

  // MARK: - Markdown and line mode

  @Test func markdownIsAPipeTable() {
    let out = render(.markdown, ["N", "S"], [[.integer(5), .symbol("a|b")], [.integer(10), .symbol("c\nd")]])
    #expect(out == "| N   | S    |\n|----:|------|\n|   5 | a\\|b |\n|  10 | c\\nd |\n")
  }

  @Test func lineModeIsOneColumnPerLine() {
    let out = render(.line, ["N", "Name"], [[.integer(1), .symbol("a")], [.integer(2), .symbol("b\tc")]])
    #expect(out == "   N = 1\nName = a\n\n   N = 2\nName = b\\tc\n")
  }

  // MARK: - Headers, width and maxrows

  @Test func headersOffLeavesOutTheColumnNames() {
    let off = OutputFormat.Layout(headers: false)
    #expect(OutputFormat.tsv.render(columns: ["X"], rows: [store.constant(.integer(1))].map { [$0] }, store: store, layout: off) == "1\n")
    #expect(OutputFormat.csv.render(columns: ["X"], rows: [], store: store, layout: off) == "")
    let table = OutputFormat.table.render(columns: ["Long"], rows: [[store.constant(.integer(1))]], store: store, layout: off)
    #expect(table == "┌───┐\n│ 1 │\n└───┘\n1 row\n")
  }

  @Test func aWidthCutsTheWidestCellsWithAnEllipsis() {
    let rows: [[Constant]] = [[.symbol("short"), .symbol(String(repeating: "x", count: 50))]]
    let out = OutputFormat.table.render(
      columns: ["A", "B"], rows: rows.map { $0.map(store.constant) }, store: store, layout: .init(width: 30))
    let lines = out.split(separator: "\n")
    #expect(lines.dropLast().allSatisfy { TableText.width(String($0)) == 30 }, "\(out)")
    #expect(out.contains("│ short │ " + String(repeating: "x", count: 17) + "… │"), "\(out)")
    // Without a width nothing is cut.
    #expect(!render(.table, ["A", "B"], rows).contains("…"))
  }

  @Test func aTableThatFitsIsNotChanged() {
    let rows: [[Constant]] = [[.symbol("a"), .integer(1)]]
    #expect(
      OutputFormat.table.render(columns: ["A", "B"], rows: rows.map { $0.map(store.constant) }, store: store, layout: .init(width: 80))
        == render(.table, ["A", "B"], rows))
  }

  @Test func fittingNarrowsTheWidestColumnFirst() {
    // 1 + 13 + 43 + 8 = 65 columns: the 40-wide column gives up the 25 too many.
    #expect(TextTable.fitted([10, 40, 5], into: 40) == [10, 15, 5])
    #expect(TextTable.fitted([30, 30], into: 41) == [17, 17])
    // Many columns: no column goes below the minimum, even if the table stays too wide.
    #expect(TextTable.fitted([20, 20, 20], into: 10) == [4, 4, 4])
    #expect(TableText.truncated("abcdef", to: 4) == "abc…")
    #expect(TableText.truncated("中文字", to: 4) == "中…")
  }

  @Test func maxRowsCutsFormatsForPeopleOnly() {
    let rows: [[Constant]] = (0..<12_345).map { [.integer(Int64($0))] }
    let values = rows.map { $0.map(store.constant) }
    let cut = OutputFormat.table.render(columns: ["N"], rows: values, store: store, layout: .init(maxRows: 3))
    #expect(cut.hasSuffix("└───┘\n… 12,342 more rows (use .maxrows 0 or .output FILE)\n12345 rows\n"), "\(cut)")
    #expect(cut.split(separator: "\n").count == 3 + 4 + 2)
    let line = OutputFormat.line.render(columns: ["N"], rows: values, store: store, layout: .init(maxRows: 2))
    #expect(line == "N = 0\n\nN = 1\n\n… 12,343 more rows (use .maxrows 0 or .output FILE)\n")
    let tsv = OutputFormat.tsv.render(columns: ["N"], rows: values, store: store, layout: .init(maxRows: 3))
    #expect(tsv.split(separator: "\n").count == 12_346)
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
      "X\na,b\n" + "\r\n" + "X\r\n\"a,b\"\r\n" + "\n" + "[\n  {\"query\": \"?- p(X).\", \"columns\": [\"X\"], \"rows\": [\n    {\"X\": \"a,b\"}\n  ]}\n]\n" + "\n"
      + "┌─────┐\n│ X   │\n├─────┤\n│ a,b │\n└─────┘\n1 row\n"
    #expect(run.output == expected)
  }
}
