/// Lexical analysis: source bytes to tokens. Never reports; bad input becomes `.error` tokens.
public struct Lexer {
  private let file: SourceFile
  private let bytes: [UInt8]
  private var pos: Int
  private var line: Int
  private var lineStart: Int
  /// A directive (`.decl`, `.help`) may only open a clause.
  private var atClauseStart = true
  private let end: Int

  /// Lexes `file` from byte `start` to `end` (the whole file by default).
  public init(file: SourceFile, start: Int = 0, end: Int? = nil, line: Int? = nil, column: Int = 1) {
    self.file = file
    self.bytes = file.bytes
    // A UTF-8 byte order mark at the start of a file is not text.
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    var pos = start == 0 && file.bytes.starts(with: bom) ? 3 : start
    // A first line starting with `#!` (`#!/usr/bin/env dq`) lets a script be executable: it is
    // skipped up to its line end, which stays, so line numbers are the file's.
    if start == 0, file.firstLine == 1, pos + 1 < file.bytes.count, file.bytes[pos] == 0x23, file.bytes[pos + 1] == 0x21 {
      while pos < file.bytes.count, file.bytes[pos] != 10 { pos += 1 }
    }
    self.pos = pos
    self.end = end ?? file.bytes.count
    self.line = line ?? file.firstLine
    self.lineStart = start - (column - 1)
    if line == nil {
      // The real line of `start` (a directive's argument is lexed on its own, mid-file).
      (self.line, self.lineStart) = file.line(containing: min(start, file.bytes.count))
    }
  }

  /// All tokens, ending with `.endOfInput`.
  public mutating func tokenize() -> [Token] {
    var tokens: [Token] = []
    while true {
      let t = next()
      tokens.append(t)
      if case .endOfInput = t.kind { return tokens }
    }
  }

  // MARK: - Scanning

  private func peek(_ k: Int = 0) -> UInt8 { pos + k < end ? bytes[pos + k] : 0 }

  private mutating func advance() {
    if bytes[pos] == 10 {
      line += 1
      lineStart = pos + 1
    }
    pos += 1
  }

  /// The last column computed, so columns along one long line are counted once, not again
  /// from the line's start for every token.
  private var columnCache = (lineStart: -1, offset: 0, column: 1)

  private mutating func column(of offset: Int, lineStart ls: Int) -> Int {
    var col = 1
    var i = ls
    if columnCache.lineStart == ls, columnCache.offset <= offset {
      col = columnCache.column
      i = columnCache.offset
    }
    defer { columnCache = (ls, offset, col) }
    while i < offset {
      if bytes[i] & 0xC0 != 0x80 { col += 1 }
      i += 1
    }
    // A column counts scalars: continuation bytes are not columns.
    return col
  }

  private mutating func span(from start: Int, line l: Int, lineStart ls: Int) -> SourceSpan {
    SourceSpan(file: file, start: start, end: pos, line: l, column: column(of: start, lineStart: ls))
  }

  /// Skips white space and comments; returns an error token for an unterminated block comment.
  private mutating func skipTrivia() -> Token? {
    while pos < end {
      let c = bytes[pos]
      if c == 32 || c == 9 || c == 10 || c == 13 {
        advance()
      } else if c == UInt8(ascii: "%") {
        while pos < end, bytes[pos] != 10 { pos += 1 }
      } else if c == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
        let start = pos, l = line, ls = lineStart
        advance(); advance()
        var closed = false
        while pos < end {
          if bytes[pos] == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
            advance(); advance()
            closed = true
            break
          }
          advance()
        }
        if !closed {
          let s = SourceSpan(file: file, start: start, end: start + 2, line: l, column: column(of: start, lineStart: ls))
          return Token(.error("Unterminated block comment."), s)
        }
      } else {
        return nil
      }
    }
    return nil
  }

  /// The next token (`.endOfInput` at the end, and again after that).
  public mutating func nextToken() -> Token { next() }

  private mutating func next() -> Token {
    if let bad = skipTrivia() { return bad }
    let start = pos, l = line, ls = lineStart
    func make(_ k: TokenKind) -> Token { Token(k, span(from: start, line: l, lineStart: ls)) }
    guard pos < end else { return make(.endOfInput) }
    let c = bytes[pos]
    let wasClauseStart = atClauseStart
    atClauseStart = false

    if isIdentStart(c) {
      while pos < end, isIdentPart(bytes[pos]) { pos += 1 }
      let name = String(decoding: bytes[start..<pos], as: UTF8.self)
      return make(c == UInt8(ascii: "_") || isUpper(c) ? .variable(name) : .identifier(name))
    }
    if isDigit(c) { return number(start: start, line: l, lineStart: ls) }
    if c == UInt8(ascii: "\"") { return string(start: start, line: l, lineStart: ls) }
    if c >= 0x80 {
      // A non-ASCII character outside a string: consume the whole scalar.
      pos += 1
      while pos < end, bytes[pos] & 0xC0 == 0x80 { pos += 1 }
      let ch = String(decoding: bytes[start..<pos], as: UTF8.self)
      return make(.error("Unexpected character '\(ch)'; non-ASCII text must be inside double quotes."))
    }
    pos += 1
    switch c {
    case UInt8(ascii: "("): return make(.leftParen)
    case UInt8(ascii: ")"): return make(.rightParen)
    case UInt8(ascii: "{"): return make(.leftBrace)
    case UInt8(ascii: "}"): return make(.rightBrace)
    case UInt8(ascii: ","): return make(.comma)
    case UInt8(ascii: "+"): return make(.plus)
    case UInt8(ascii: "-"): return make(.minus)
    case UInt8(ascii: "*"): return make(.star)
    case UInt8(ascii: "/"): return make(.slash)
    case UInt8(ascii: "="):
      // Spellings from Prolog and SQL, which dq writes '=' and '<='.
      if peek() == UInt8(ascii: "=") {
        pos += 1
        return make(.error("'==' is not a dq operator\ncompare with '=', as in 'X = Y'"))
      }
      if peek() == UInt8(ascii: "<") {
        pos += 1
        return make(.error("'=<' is not a dq operator\nwrite '<=', as in 'X <= Y'"))
      }
      return make(.equal)
    case UInt8(ascii: "."):
      if wasClauseStart, pos < end, isLower(bytes[pos]) { return directive(start: start, line: l, lineStart: ls) }
      atClauseStart = true
      return make(.period)
    case UInt8(ascii: "?"):
      if peek() == UInt8(ascii: "-") {
        pos += 1
        return make(.queryStart)
      }
      atClauseStart = true
      return make(.question)
    case UInt8(ascii: ":"):
      if peek() == UInt8(ascii: "-") {
        pos += 1
        return make(.implies)
      }
      return make(.colon)
    case UInt8(ascii: "!"):
      if peek() == UInt8(ascii: "=") {
        pos += 1
        return make(.notEqual)
      }
      return make(.error("Unexpected character '!'; did you mean '!=' or 'not'?"))
    case UInt8(ascii: "<"):
      if peek() == UInt8(ascii: "=") {
        pos += 1
        return make(.lessEqual)
      }
      if peek() == UInt8(ascii: ">") {
        pos += 1
        return make(.error("'<>' is not a dq operator\nwrite '!=', as in 'X != Y'"))
      }
      return make(.less)
    case UInt8(ascii: ">"):
      if peek() == UInt8(ascii: "=") {
        pos += 1
        return make(.greaterEqual)
      }
      return make(.greater)
    case UInt8(ascii: "'"):
      return make(.error("Unexpected character '''; strings use double quotes."))
    case UInt8(ascii: "\\"):
      // psql's `\q` and `\?`, typed at the start of a line, are commands like `.quit` and `.help`.
      if wasClauseStart, peek() == UInt8(ascii: "q") || peek() == UInt8(ascii: "?"),
        pos + 1 >= end || !isIdentPart(bytes[pos + 1])
      {
        return directive(start: start, line: l, lineStart: ls, psql: true)
      }
      if peek() == UInt8(ascii: "+") {
        pos += 1
        return make(.error("Prolog's '\\+' is not dq's negation\nwrite 'not p(X)'"))
      }
      return make(.error("Unexpected character '\\'\ncommands start with '.'; psql's \\q and \\? work too"))
    default:
      // A run of the same stray byte (a file of NULs) is one error token, not millions.
      while pos < end, bytes[pos] == c { pos += 1 }
      let ch = String(decoding: [c], as: UTF8.self)
      return make(.error("Unexpected character '\(ch.unicodeScalars.first.map { $0.value < 32 ? "\\u{\(String($0.value, radix: 16))}" : String($0) } ?? "?")'."))
    }
  }

  /// `.name rest-of-line`: the name and the raw text after it.
  /// With `psql`, psql's `\q` or `\?`: the name keeps its backslash.
  private mutating func directive(start: Int, line l: Int, lineStart ls: Int, psql: Bool = false) -> Token {
    let nameStart = psql ? start : pos
    if psql {
      pos = min(pos + 1, end)
    } else {
      while pos < end, isIdentPart(bytes[pos]) || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
    }
    let name = String(decoding: bytes[nameStart..<pos], as: UTF8.self)
    let argStart = pos
    // The argument runs to the end of the line or to a '%' comment outside double quotes.
    var inString = false
    var argEnd = -1
    while pos < end, bytes[pos] != 10 {
      let c = bytes[pos]
      if c == UInt8(ascii: "\""), pos == argStart || bytes[pos - 1] != UInt8(ascii: "\\") { inString.toggle() }
      if c == UInt8(ascii: "%"), !inString, argEnd < 0 { argEnd = pos }
      pos += 1
    }
    if argEnd < 0 { argEnd = pos }
    while argEnd > argStart, bytes[argEnd - 1] == 32 || bytes[argEnd - 1] == 9 { argEnd -= 1 }
    while argEnd > argStart, bytes[argEnd - 1] == 13 { argEnd -= 1 }
    let arg = String(decoding: bytes[argStart..<argEnd], as: UTF8.self)
    atClauseStart = true
    return Token(.directive(name: name, argument: arg, argumentOffset: argStart), span(from: start, line: l, lineStart: ls))
  }

  /// Integers, decimals (`3.25`) and dates (`2016-08-09`).
  private mutating func number(start: Int, line l: Int, lineStart ls: Int) -> Token {
    while pos < end, isDigit(bytes[pos]) { pos += 1 }
    // A date: exactly four digits, '-', two digits, '-', two digits, not followed by a name part.
    if pos - start == 4, peek() == UInt8(ascii: "-"), isDigit(peek(1)), isDigit(peek(2)), peek(3) == UInt8(ascii: "-"),
      isDigit(peek(4)), isDigit(peek(5)), !isIdentPart(peek(6))
    {
      pos += 6
      let text = String(decoding: bytes[start..<pos], as: UTF8.self)
      let s = span(from: start, line: l, lineStart: ls)
      guard let days = DateCodec.parse(text) else {
        return Token(.error("Invalid date '\(text)'."), s)
      }
      return Token(.date(days), s)
    }
    // More than four digits in date form (`10000-01-01`): a year past 9999, not the arithmetic
    // 10000 - 1 - 1 it would otherwise silently be.
    if pos - start > 4, peek() == UInt8(ascii: "-"), isDigit(peek(1)), isDigit(peek(2)), peek(3) == UInt8(ascii: "-"),
      isDigit(peek(4)), isDigit(peek(5)), !isIdentPart(peek(6))
    {
      pos += 6
      let text = String(decoding: bytes[start..<pos], as: UTF8.self)
      return Token(
        .error(
          "Invalid date '\(text)': a year has at most four digits.\n"
            + "dates run from 0000-01-01 to 9999-12-31; to subtract, put spaces around '-'"),
        span(from: start, line: l, lineStart: ls))
    }
    if peek() == UInt8(ascii: "."), isDigit(peek(1)) {
      pos += 1
      while pos < end, isDigit(bytes[pos]) { pos += 1 }
      if pos < end, isIdentStart(bytes[pos]) {
        while pos < end, isIdentPart(bytes[pos]) || bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        return Token(.error("Malformed number '\(text)'; decimals are written out, like 1500.0 or 0.0025."), span(from: start, line: l, lineStart: ls))
      }
      let text = String(decoding: bytes[start..<pos], as: UTF8.self)
      let s = span(from: start, line: l, lineStart: ls)
      guard let v = Double(text), v.isFinite else { return Token(.error("Decimal '\(text)' is out of range."), s) }
      return Token(.decimal(v), s)
    }
    if pos < end, isIdentStart(bytes[pos]) {
      while pos < end, isIdentPart(bytes[pos]) { pos += 1 }
      let text = String(decoding: bytes[start..<pos], as: UTF8.self)
      return Token(.error("Malformed number '\(text)'."), span(from: start, line: l, lineStart: ls))
    }
    let s = span(from: start, line: l, lineStart: ls)
    guard let v = IntegerLiteral.magnitude(bytes[start..<pos]), v <= IntegerLiteral.largestMagnitude else {
      let text = String(decoding: bytes[start..<pos], as: UTF8.self)
      return Token(.error("Integer literal \(text) does not fit in 64 bits."), s)
    }
    return Token(.integer(v), s)
  }

  private mutating func string(start: Int, line l: Int, lineStart ls: Int) -> Token {
    pos += 1
    var out: [UInt8] = []
    while pos < end {
      let c = bytes[pos]
      if c == UInt8(ascii: "\"") {
        pos += 1
        return Token(.string(String(decoding: out, as: UTF8.self)), span(from: start, line: l, lineStart: ls))
      }
      if c == 10 { break }
      if c == UInt8(ascii: "\\") {
        let e = peek(1)
        switch e {
        case UInt8(ascii: "\""): out.append(e)
        case UInt8(ascii: "\\"): out.append(e)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "t"): out.append(9)
        default:
          let escStart = pos
          pos += e == 0 || e == 10 ? 1 : 2
          let s = SourceSpan(file: file, start: escStart, end: pos, line: l, column: column(of: escStart, lineStart: ls))
          // Skip the rest of the string so the parser can go on.
          while pos < end, bytes[pos] != UInt8(ascii: "\""), bytes[pos] != 10 { pos += 1 }
          if pos < end, bytes[pos] == UInt8(ascii: "\"") { pos += 1 }
          return Token(.error("Unknown escape sequence in string; use \\\" \\\\ \\n or \\t."), s)
        }
        pos += 2
        continue
      }
      out.append(c)
      pos += 1
    }
    let s = SourceSpan(file: file, start: start, end: start + 1, line: l, column: column(of: start, lineStart: ls))
    return Token(.error("Unterminated string."), s)
  }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
@inline(__always) func isUpper(_ c: UInt8) -> Bool { c >= 65 && c <= 90 }
@inline(__always) func isLower(_ c: UInt8) -> Bool { c >= 97 && c <= 122 }
@inline(__always) func isIdentStart(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) || c == 95 }
@inline(__always) func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
