/// The lexer: token kinds, spans (line and column), dates versus arithmetic, and error tokens.
import Testing

@testable import DQ

@Suite struct LexerTests {
  @Test func lineContainingAnOffset() {
    let f = SourceFile(name: "t", text: "ab\ncd\n\nef", firstLine: 5)
    let want = [(5, 0), (5, 0), (5, 0), (6, 3), (6, 3), (6, 3), (7, 6), (8, 7), (8, 7), (8, 7)]
    for (offset, (line, start)) in want.enumerated() {
      let got = f.line(containing: offset)
      #expect(got.line == line && got.start == start, "offset \(offset)")
    }
  }

  @Test func directiveArgumentsKeepTheirLines() {
    // A `.decl` far down a file is lexed on its own; its errors point at its own line.
    var text = String(repeating: "a(1).\n", count: 500)
    text += ".decl b(x, )\n"
    let (_, errors) = Parser.parse(SourceFile(name: "t.dq", text: text))
    #expect(errors.first?.span?.line == 501)
  }

  @Test func psqlCommandsOnlyOpenAClause() {
    // `\q` and `\?` at the start of a clause are commands named with their backslash; `\qx`
    // and a `\q` inside a clause are errors; the printer gives back `\q`.
    let (statements, errors) = Parser.parse(SourceFile(name: "t", text: "\\q\n\\? load\np(1).\n"))
    #expect(errors.isEmpty)
    #expect(statements.count == 3)
    if case .command(let name, let argument, _) = statements[1] {
      #expect(name == "\\?" && argument == "load")
    } else {
      Issue.record("\\? is not a command: \(statements[1])")
    }
    #expect("\(statements[0])" == "\\q")
    for text in ["\\qx\n", "p(X) :- \\q.\n"] {
      let (_, bad) = Parser.parse(SourceFile(name: "t", text: text))
      #expect(bad.first?.message.hasPrefix("Unexpected character '\\'") == true, "\(text)")
    }
  }

  @Test func clauseTokens() {
    #expect(
      TestDQ.kinds("anc(X, _y) :- par(X, \"Bob\"), not q(_).") == [
        .identifier("anc"), .leftParen, .variable("X"), .comma, .variable("_y"), .rightParen, .implies,
        .identifier("par"), .leftParen, .variable("X"), .comma, .string("Bob"), .rightParen, .comma,
        .identifier("not"), .identifier("q"), .leftParen, .variable("_"), .rightParen, .period, .endOfInput,
      ])
  }

  @Test func punctuationAndOperators() {
    #expect(
      TestDQ.kinds("?- ? : :- = != < <= > >= + - * / { } mod") == [
        .queryStart, .question, .colon, .implies, .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual,
        .plus, .minus, .star, .slash, .leftBrace, .rightBrace, .identifier("mod"), .endOfInput,
      ])
  }

  @Test func variablesAndSymbols() {
    #expect(
      TestDQ.kinds("Abc abc _ _x x_1 X9 a9Z") == [
        .variable("Abc"), .identifier("abc"), .variable("_"), .variable("_x"), .identifier("x_1"), .variable("X9"),
        .identifier("a9Z"), .endOfInput,
      ])
  }

  @Test func commentsAreSkipped() {
    let text = """
      % a line comment p(1).
      p /* block
      comment */ (1) % trailing
      /**/.
      """
    #expect(TestDQ.kinds(text) == [.identifier("p"), .leftParen, .integer(1), .rightParen, .period, .endOfInput])
  }

  // MARK: - Spans

  @Test func spansCarryLineAndColumn() {
    let tokens = TestDQ.tokens("p(a).\n  q(Bc,\n\t\"s\").")
    let located = tokens.map { "\($0.span.line):\($0.span.column):\($0.span.text)" }
    #expect(
      located == [
        "1:1:p", "1:2:(", "1:3:a", "1:4:)", "1:5:.", "2:3:q", "2:4:(", "2:5:Bc", "2:7:,", "3:2:\"s\"", "3:5:)",
        "3:6:.", "3:7:",
      ])
  }

  @Test func columnsCountUnicodeScalars() {
    // "é" is two bytes and "中" three, but each is one column.
    let tokens = TestDQ.tokens("p(\"é中\", X).")
    let x = tokens.first { $0.kind == .variable("X") }
    #expect(x?.span.column == 9)
    #expect(x?.span.start == 11)
  }

  @Test func endOfInputSpanIsAtTheEnd() {
    let tokens = TestDQ.tokens("p.\n\n")
    #expect(tokens.last?.kind == .endOfInput)
    #expect(tokens.last?.span.line == 3)
    #expect(tokens.last?.span.column == 1)
    #expect(tokens.last?.span.start == 4)
  }

  @Test func crlfLineEndings() {
    let tokens = TestDQ.tokens("p(1).\r\nq(2).\r\n")
    let q = tokens.first { $0.kind == .identifier("q") }
    #expect(q?.span.line == 2)
    #expect(q?.span.column == 1)
  }

  // MARK: - Numbers and dates

  @Test func datesOnlyInTheFullForm() {
    #expect(TestDQ.kinds("2016-08-09") == [.date(DateCodec.parse("2016-08-09")!), .endOfInput])
    #expect(
      TestDQ.kinds("2016-8-9") == [.integer(2016), .minus, .integer(8), .minus, .integer(9), .endOfInput])
    #expect(
      TestDQ.kinds("2016 - 08 - 09") == [.integer(2016), .minus, .integer(8), .minus, .integer(9), .endOfInput])
    #expect(
      TestDQ.kinds("16-08-09") == [.integer(16), .minus, .integer(8), .minus, .integer(9), .endOfInput])
    #expect(TestDQ.kinds("X-1") == [.variable("X"), .minus, .integer(1), .endOfInput])
    #expect(
      TestDQ.kinds("2016-08-09-1") == [.date(DateCodec.parse("2016-08-09")!), .minus, .integer(1), .endOfInput])
  }

  @Test func dateValues() {
    #expect(TestDQ.kinds("1970-01-01").first == .date(0))
    #expect(TestDQ.kinds("1970-01-02").first == .date(1))
    #expect(TestDQ.kinds("1969-12-31").first == .date(-1))
    #expect(TestDQ.kinds("2000-02-29").first == .date(11016))
  }

  @Test func invalidDatesAreErrorTokens() {
    for text in ["2016-02-30", "2015-02-29", "2016-13-01", "2016-00-10", "2016-04-31", "1900-02-29"] {
      let t = TestDQ.tokens(text)[0]
      #expect(t.kind == .error("Invalid date '\(text)'."), "\(text)")
      #expect(t.span.text == text)
    }
    #expect(TestDQ.kinds("2000-02-29").first == .date(DateCodec.days(year: 2000, month: 2, day: 29)))
  }

  @Test func decimals() {
    #expect(TestDQ.kinds("3.25") == [.decimal(3.25), .endOfInput])
    #expect(TestDQ.kinds("0.5.") == [.decimal(0.5), .period, .endOfInput])
    // A period not followed by a digit ends the clause.
    #expect(TestDQ.kinds("p(3).") == [.identifier("p"), .leftParen, .integer(3), .rightParen, .period, .endOfInput])
    #expect(TestDQ.kinds("3.") == [.integer(3), .period, .endOfInput])
    #expect(TestDQ.kinds("-1.5") == [.minus, .decimal(1.5), .endOfInput])
  }

  @Test func integerLimits() {
    #expect(TestDQ.kinds("9223372036854775807").first == .integer(9_223_372_036_854_775_807))
    // One more still lexes: the parser accepts it only after a minus sign.
    #expect(TestDQ.kinds("9223372036854775808").first == .integer(9_223_372_036_854_775_808))
    let t = TestDQ.tokens("9223372036854775809")[0]
    #expect(t.kind == .error("Integer literal 9223372036854775809 does not fit in 64 bits."))
    #expect(t.span.text == "9223372036854775809")
    #expect(
      TestDQ.kinds("99999999999999999999999").first
        == .error("Integer literal 99999999999999999999999 does not fit in 64 bits."))
  }

  @Test func malformedNumber() {
    let t = TestDQ.tokens("12abc")[0]
    #expect(t.kind == .error("Malformed number '12abc'."))
    #expect(t.span.text == "12abc")
  }

  // MARK: - Strings

  @Test func stringEscapes() {
    #expect(TestDQ.kinds(#""a\"b\\c\nd\te""#).first == .string("a\"b\\c\nd\te"))
    #expect(TestDQ.kinds(#""""#).first == .string(""))
    #expect(TestDQ.kinds("\"héllo wörld 中\"").first == .string("héllo wörld 中"))
    #expect(TestDQ.kinds("\"50% off\"").first == .string("50% off"))
  }

  @Test func stringSpanIncludesQuotes() {
    let t = TestDQ.tokens(#"  "a\nb" x"#)[0]
    #expect(t.span.text == #""a\nb""#)
    #expect(t.span.column == 3)
  }

  @Test func unknownEscapeIsAnErrorAtTheEscape() {
    let tokens = TestDQ.tokens(#"p("ab\qcd", x)."#)
    let error = tokens[2]
    #expect(error.kind == .error(#"Unknown escape sequence in string; use \" \\ \n or \t."#))
    #expect(error.span.text == #"\q"#)
    #expect(error.span.column == 6)
    // The rest of the string is skipped, so lexing goes on after it.
    #expect(tokens[3].kind == .comma)
    #expect(tokens[4].kind == .identifier("x"))
  }

  @Test func unterminatedString() {
    let tokens = TestDQ.tokens("p(\"abc).\nq(1).")
    #expect(tokens[2].kind == .error("Unterminated string."))
    #expect(tokens[2].span.column == 3)
    #expect(tokens[2].span.line == 1)
    // The next line lexes normally.
    #expect(tokens.contains { $0.kind == .identifier("q") && $0.span.line == 2 })
  }

  // MARK: - Errors

  @Test func unexpectedCharacters() {
    #expect(TestDQ.kinds("'a'").first == .error("Unexpected character '''; strings use double quotes."))
    #expect(TestDQ.kinds("!").first == .error("Unexpected character '!'; did you mean '!=' or 'not'?"))
    #expect(TestDQ.kinds("@").first == .error("Unexpected character '@'."))
    #expect(TestDQ.kinds("\u{1}").first == .error("Unexpected character '\\u{1}'."))
    let t = TestDQ.tokens("p(é).")[2]
    #expect(t.kind == .error("Unexpected character 'é'; non-ASCII text must be inside double quotes."))
    #expect(t.span.text == "é")
  }

  @Test func unterminatedBlockComment() {
    let tokens = TestDQ.tokens("p(1).\n  /* open\n p(2).")
    let error = tokens.first { if case .error = $0.kind { return true } else { return false } }
    #expect(error?.kind == .error("Unterminated block comment."))
    #expect(error?.span.line == 2)
    #expect(error?.span.column == 3)
    #expect(error?.span.text == "/*")
  }

  // MARK: - Directives

  @Test func directiveOnlyAtClauseStart() {
    let kinds = TestDQ.kinds(".format csv\np(1). .mode tsv\n")
    #expect(kinds.count == 8)
    guard case .directive(let name, let argument, _) = kinds[0] else {
      Issue.record("expected a directive, got \(kinds[0])")
      return
    }
    #expect(name == "format")
    #expect(argument == " csv")
    guard case .directive(let name2, let argument2, _) = kinds[6] else {
      Issue.record("expected a directive, got \(kinds[6])")
      return
    }
    #expect(name2 == "mode")
    #expect(argument2 == " tsv")
  }

  @Test func periodInsideAClauseIsNotADirective() {
    // `p(1) .q` cannot start a directive: the period ends the clause first.
    #expect(
      TestDQ.kinds("p(X) :- q(X).") == [
        .identifier("p"), .leftParen, .variable("X"), .rightParen, .implies, .identifier("q"), .leftParen,
        .variable("X"), .rightParen, .period, .endOfInput,
      ])
  }
}
