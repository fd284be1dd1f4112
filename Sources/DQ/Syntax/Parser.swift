/// Recursive-descent parser: tokens to statements, recovering at the next `.` after an error.
public struct Parser {
  /// Tokens are read on demand: `window[head]` is the current one, a few more are read ahead.
  private var lexer: Lexer
  private var window: [Token] = []
  private var head = 0
  /// The token consumed last.
  private var previous: Token?
  /// Runs of simple ground facts become `.facts` batches (see `parse(_:batchingFacts:)`).
  private var batchingFacts = false
  private var anonymousCount = 0
  /// The atom whose arguments are being read (`not(p(X))` gets an error naming dq's spelling).
  private var atomName: String?
  /// Parentheses, aggregates and signs open around the current point.
  private var nesting = 0
  /// Depth of the tree being built: nesting plus operators chained to the left.
  private var depth = 0
  private let file: SourceFile
  /// Every error found, in source order.
  public private(set) var diagnostics: [Diagnostic] = []

  /// Deepest nesting of parentheses and aggregates accepted before reporting instead of recursing.
  public static let maximumDepth = 200
  /// Deepest expression tree (a chain `1 + 1 + ...` nests one level per operator).
  public static let maximumTreeDepth = 1000

  private struct ParseError: Error {}

  public init(file: SourceFile) {
    self.lexer = Lexer(file: file)
    self.file = file
    fill(2)
  }

  /// Parses a whole file; check `diagnostics` for errors. With `batchingFacts`, runs of facts
  /// whose arguments are all constants come back as `.facts` batches, which load fast.
  public static func parse(_ file: SourceFile, batchingFacts: Bool = false) -> (statements: [Statement], diagnostics: [Diagnostic]) {
    var p = Parser(file: file)
    p.batchingFacts = batchingFacts
    let s = p.parse()
    return (s, p.diagnostics)
  }

  /// Reads ahead until `n` tokens from the current one are buffered (or the input ends).
  private mutating func fill(_ n: Int) {
    while window.count - head < n {
      if let last = window.last, case .endOfInput = last.kind { return }
      window.append(lexer.nextToken())
    }
  }

  // MARK: - Statements

  /// program -> statement* EOF
  public mutating func parse() -> [Statement] {
    var out: [Statement] = []
    while !isAtEnd {
      if batchingFacts, let (name, values, span) = simpleFact() {
        if case .facts(var batch)? = out.last, batch.name == name, batch.arity == values.count {
          out.removeLast()
          batch.values += values
          batch.count += 1
          out.append(.facts(batch))
        } else {
          out.append(.facts(FactBatch(name: name, arity: values.count, values: values, count: 1, span: span)))
        }
        continue
      }
      do {
        if let s = try statement() { out.append(s) }
      } catch {
        synchronize()
      }
    }
    return out
  }

  /// A fact whose arguments are all literal constants, read without building its tree:
  /// `name(c1, ..., cn).` (a number may have a leading '-'). Nil, consuming nothing, otherwise.
  private mutating func simpleFact() -> (String, [Constant], SourceSpan)? {
    guard case .identifier(let name) = peek.kind, name != "not", case .leftParen = peekNext.kind else { return nil }
    var values: [Constant] = []
    var k = head + 2
    func token(_ i: Int) -> Token? {
      if i >= window.count { fill(i - head + 1) }
      return i < window.count ? window[i] : nil
    }
    while true {
      guard var t = token(k) else { return nil }
      var negative = false
      if case .minus = t.kind {
        negative = true
        k += 1
        guard let n = token(k) else { return nil }
        t = n
      }
      switch t.kind {
      case .identifier(let s) where !negative: values.append(.symbol(s))
      case .string(let s) where !negative: values.append(.symbol(s))
      case .integer(let m):
        guard let v = IntegerLiteral.value(magnitude: m, negative: negative) else { return nil }
        values.append(.integer(v))
      case .decimal(let d): values.append(.decimal(negative ? -d : d))
      case .date(let d) where !negative: values.append(.date(d))
      default: return nil
      }
      guard let separator = token(k + 1) else { return nil }
      if case .comma = separator.kind {
        k += 2
        continue
      }
      guard case .rightParen = separator.kind, let end = token(k + 2), case .period = end.kind else { return nil }
      let span = window[head].span.to(end.span)
      // Consume the whole fact.
      let consumed = k + 3 - head
      for _ in 0..<consumed { advance() }
      return (name, values, span)
    }
  }

  /// statement -> directive | "?-" body ( "." | "?" ) | literals ( ":-" body "." | "." | "?" )
  private mutating func statement() throws(ParseError) -> Statement? {
    let startToken = peek
    if case .directive(let name, let argument, let offset) = startToken.kind {
      advance()
      return try directive(name: name, argument: argument, offset: offset, span: startToken.span)
    }
    if match(.queryStart) {
      let body = try literals()
      let end = try expectPeriod(after: "query", orQuestionMark: true)
      return .query(Query(body: body, span: startToken.span.to(end)))
    }
    let first = try literals()
    if check(.implies) {
      let implies = advance()
      let head = try headAtom(first, before: implies)
      let body = try literals()
      let end = try expectPeriod(after: "rule")
      return .rule(Rule(head: head, body: body, span: startToken.span.to(end)))
    }
    if check(.question) {
      let end = advance()
      return .query(Query(body: first, span: startToken.span.to(end.span)))
    }
    if check(.period) {
      let end = advance()
      let head = try headAtom(first, before: end)
      let rule = Rule(head: head, body: [], span: startToken.span.to(end.span))
      return head.variables.isEmpty ? .fact(rule) : .rule(rule)
    }
    if first.count == 1, case .positive(let a) = first[0], a.arguments.isEmpty, case .variable = peek.kind {
      throw error(at: peek, "Expected '(' before the arguments of '\(a.name)'")
    }
    _ = try expectPeriod(after: "clause")
    return nil
  }

  /// The `.` ending a clause (or a query's `?`); a clause whose next token starts a new line
  /// most likely just lacks its `.`, so that is reported at the end of the line, where it belongs.
  private mutating func expectPeriod(after what: String, orQuestionMark: Bool = false) throws(ParseError) -> SourceSpan {
    if check(.period) || (orQuestionMark && check(.question)) { return advance().span }
    if let last = previous, !isAtEnd, peek.span.line > last.span.line {
      let previous = last.span
      let col = previous.column + previous.text.unicodeScalars.count
      let at = SourceSpan(file: file, start: previous.end, end: previous.end, line: previous.line, column: col)
      report(
        Diagnostic(
          .error, .syntax(incomplete: false), "Missing '.' at the end of the \(what)", at: at,
          hint: "every clause ends with '.'; the next line was read as part of this one"))
      throw ParseError()
    }
    throw error(at: peek, "Expected '.' at the end of the \(what)")
  }

  /// A head must be one positive atom.
  private mutating func headAtom(_ literals: [Literal], before token: Token) throws(ParseError) -> Atom {
    guard literals.count == 1, case .positive(let atom) = literals[0] else {
      let span = literals.count == 1 ? literals[0].span : literals[0].span.to(literals[literals.count - 1].span)
      report(
        Diagnostic(
          .error, .syntax(incomplete: false),
          "The head of a clause must be a single atom such as 'p(X)'", at: span,
          hint: token.kind == .period ? "to ask a question, write '?- ...' or end it with '?'" : nil))
      throw ParseError()
    }
    return atom
  }

  /// `.decl`, `.source`, or a command for the shell.
  private mutating func directive(name: String, argument: String, offset: Int, span: SourceSpan) throws(ParseError)
    -> Statement
  {
    switch name {
    case "decl":
      var sub = Parser(file: file, slice: offset, end: offset + argument.utf8.count, span: span)
      // The argument's errors are reported whether or not it parses.
      defer { diagnostics += sub.diagnostics }
      return .declaration(try sub.declarationBody(span: span))
    case "source":
      var sub = Parser(file: file, slice: offset, end: offset + argument.utf8.count, span: span)
      defer { diagnostics += sub.diagnostics }
      return .citation(try sub.citationBody(span: span), span)
    default:
      return .command(name: name, argument: argument.trimmingSpaces, span: span)
    }
  }

  /// Parses the bytes `start..<end` of a file (a command's argument) as statements, so their
  /// errors point where they stand in the file.
  public static func parse(_ file: SourceFile, from start: Int, to end: Int) -> (statements: [Statement], diagnostics: [Diagnostic]) {
    var p = Parser(file: file, slice: start, end: end, span: file.span(from: start, to: end))
    let s = p.parse()
    return (s, p.diagnostics)
  }

  /// Parses the bytes `start..<end` of a file (a command's argument) as one query, so its
  /// errors point where it stands in the file.
  /// query_argument -> "?-"? body ( "." | "?" )? EOF
  public static func parseQuery(_ file: SourceFile, from start: Int, to end: Int) -> (query: Query?, diagnostics: [Diagnostic]) {
    let whole = file.span(from: start, to: end)
    var p = Parser(file: file, slice: start, end: end, span: whole)
    do throws(ParseError) {
      let first = p.peek
      _ = p.match(.queryStart)
      let body = try p.literals()
      if !(p.match(.period) || p.match(.question)), !p.isAtEnd {
        throw p.error(at: p.peek, "Expected the end of the query")
      }
      guard p.isAtEnd else { throw p.error(at: p.peek, "Expected the end of the query") }
      let last = p.previous?.span ?? first.span
      return (Query(body: body, span: first.span.to(last)), p.diagnostics)
    } catch {
      return (nil, p.diagnostics)
    }
  }

  private init(file: SourceFile, slice start: Int, end: Int, span: SourceSpan) {
    self.lexer = Lexer(file: file, start: start, end: end)
    self.file = file
    fill(2)
  }

  /// decl -> IDENT "(" ( name ( "," name )* )? ")" STRING? "."?
  private mutating func declarationBody(span: SourceSpan) throws(ParseError) -> Declaration {
    guard case .identifier(let name) = peek.kind else {
      throw error(at: peek, "Expected a relation name after '.decl'")
    }
    advance()
    var columns: [String] = []
    if match(.leftParen), !match(.rightParen) {
      repeat {
        switch peek.kind {
        case .identifier(let c), .variable(let c):
          columns.append(c)
          advance()
        default: throw error(at: peek, "Expected a column name")
        }
      } while match(.comma)
      _ = try expect(.rightParen, "Expected ')' after the column names")
    }
    var description = ""
    if case .string(let d) = peek.kind {
      description = d
      advance()
    }
    _ = match(.period)
    guard isAtEnd else { throw error(at: peek, "Expected the end of the line after the declaration") }
    return Declaration(name: name, columns: columns, description: description, span: span)
  }

  /// source -> ( STRING STRING )? "."?
  private mutating func citationBody(span: SourceSpan) throws(ParseError) -> Citation? {
    if isAtEnd || check(.period) { return nil }
    var strings: [String] = []
    while case .string(let s) = peek.kind {
      strings.append(s)
      advance()
    }
    _ = match(.period)
    guard strings.count == 2, isAtEnd else {
      throw error(at: peek, "Expected '.source \"FILE\" \"QUOTE\"'")
    }
    return Citation(file: strings[0], quote: strings[1], span: span)
  }

  // MARK: - Literals

  /// Most literals one body may have (evaluation nests one loop per literal).
  public static let maximumLiterals = 500

  /// literals -> literal ( "," literal )*
  private mutating func literals() throws(ParseError) -> [Literal] {
    var out = [try literal()]
    while match(.comma) {
      out.append(try literal())
      if out.count > Parser.maximumLiterals {
        report(
          Diagnostic(
            .error, .syntax(incomplete: false), "A body may have at most \(Parser.maximumLiterals) literals",
            at: out[out.count - 1].span, hint: "split it into rules that each join a few relations"))
        throw ParseError()
      }
    }
    return out
  }

  /// literal -> "not" atom | atom | term compare ( aggregate | term )
  private mutating func literal() throws(ParseError) -> Literal {
    if case .identifier(let name) = peek.kind {
      if name == "not", case .identifier = peekNext.kind {
        let notToken = advance()
        let a = try atom()
        return .negative(a, notToken.span.to(a.span))
      }
      switch peekNext.kind {
      case .leftParen, .comma, .period, .question, .implies, .rightBrace, .endOfInput:
        return .positive(try atom())
      default: break
      }
    }
    if case .variable(let v) = peek.kind, peekNext.kind == .leftParen {
      throw error(at: peek, "Relation names start with a lowercase letter; '\(v)' is a variable")
    }
    let left = try term()
    guard let op = comparisonOperator(peek.kind) else {
      if case .identifier(let name) = peek.kind, name == "not" {
        throw error(at: peek, "Expected ',' before 'not'")
      }
      throw error(at: peek, "Expected a comparison operator (= != < <= > >=) after the term")
    }
    advance()
    if op == .equal, let g = try aggregateIfPresent(result: left) { return .aggregate(g) }
    let right = try term()
    return .comparison(op, left, right, left.span.to(right.span))
  }

  private func comparisonOperator(_ k: TokenKind) -> ComparisonOperator? {
    switch k {
    case .equal: return .equal
    case .notEqual: return .notEqual
    case .less: return .less
    case .lessEqual: return .lessEqual
    case .greater: return .greater
    case .greaterEqual: return .greaterEqual
    default: return nil
    }
  }

  /// aggregate -> ( "count" | ( "sum" | "min" | "max" ) term ) ":" "{" literals "}"
  private mutating func aggregateIfPresent(result: Term) throws(ParseError) -> Aggregate? {
    guard case .identifier(let name) = peek.kind, let function = AggregateFunction(rawValue: name) else { return nil }
    switch (function, peekNext.kind) {
    case (.count, .colon), (.count, .leftBrace): break
    case (.sum, _), (.min, _), (.max, _):
      switch peekNext.kind {
      case .variable, .integer, .decimal, .leftParen, .minus, .identifier, .string, .date: break
      default: return nil
      }
    default: return nil
    }
    advance()
    try enter()
    defer { leave() }
    var value: Term?
    if function != .count { value = try term() }
    _ = try expect(.colon, "Expected ':' before the body of '\(name)'")
    _ = try expect(.leftBrace, "Expected '{' to open the body of '\(name)'")
    let body = try literals()
    let close = try expect(.rightBrace, "Expected '}' to close the body of '\(name)'")
    return Aggregate(result: result, function: function, value: value, body: body, span: result.span.to(close.span))
  }

  /// atom -> IDENT ( "(" ( term ( "," term )* )? ")" )?
  private mutating func atom() throws(ParseError) -> Atom {
    guard case .identifier(let name) = peek.kind else {
      if case .variable(let v) = peek.kind {
        throw error(at: peek, "Expected a relation name; '\(v)' starts with an uppercase letter, so it is a variable")
      }
      throw error(at: peek, "Expected a relation name")
    }
    let nameToken = advance()
    var args: [Term] = []
    var end = nameToken.span
    if match(.leftParen) {
      let outer = atomName
      atomName = name
      defer { atomName = outer }
      if !check(.rightParen) {
        repeat { args.append(try term()) } while match(.comma)
      }
      end = try expect(.rightParen, "Expected ')' after the arguments of '\(name)'").span
    }
    return Atom(name: name, arguments: args, span: nameToken.span.to(end), nameSpan: nameToken.span)
  }

  // MARK: - Terms

  /// term -> product ( ( "+" | "-" ) product )*
  private mutating func term() throws(ParseError) -> Term {
    try enter()
    let entered = depth
    defer {
      depth = entered
      leave()
    }
    var left = try product()
    while true {
      let op: ArithmeticOperator
      switch peek.kind {
      case .plus: op = .add
      case .minus: op = .subtract
      default: return left
      }
      // Each operator of a chain nests the tree one level deeper.
      try enterChain()
      advance()
      let right = try product()
      left = .binary(op, left, right, left.span.to(right.span))
    }
  }

  /// product -> unary ( ( "*" | "/" | "mod" ) unary )*
  private mutating func product() throws(ParseError) -> Term {
    let entered = depth
    defer { depth = entered }
    var left = try unary()
    while true {
      let op: ArithmeticOperator
      switch peek.kind {
      case .star: op = .multiply
      case .slash: op = .divide
      case .identifier("mod"): op = .modulo
      default: return left
      }
      try enterChain()
      advance()
      let right = try unary()
      left = .binary(op, left, right, left.span.to(right.span))
    }
  }

  /// unary -> "-" unary | primary
  private mutating func unary() throws(ParseError) -> Term {
    guard check(.minus) else { return try primary(negated: false) }
    let minus = advance()
    try enter()
    defer { leave() }
    // A minus directly before a number is part of the literal: -9223372036854775808 fits.
    switch peek.kind {
    case .integer, .decimal:
      let t = try primary(negated: true)
      return relocate(t, from: minus.span)
    default:
      let operand = try unary()
      return .negate(operand, minus.span.to(operand.span))
    }
  }

  private func relocate(_ t: Term, from start: SourceSpan) -> Term {
    if case .constant(let c, let s) = t { return .constant(c, start.to(s)) }
    return t
  }

  /// primary -> VARIABLE | IDENT | STRING | INTEGER | DECIMAL | DATE | "(" term ")"
  private mutating func primary(negated: Bool) throws(ParseError) -> Term {
    let t = peek
    switch t.kind {
    case .variable(let name):
      advance()
      if name == "_" {
        anonymousCount += 1
        return .variable("_#\(anonymousCount)", t.span)
      }
      return .variable(name, t.span)
    case .identifier(let name):
      advance()
      if check(.leftParen) {
        // Negation and aggregates as Prolog and SQL write them: say how dq writes them.
        if atomName == "not" {
          report(
            Diagnostic(
              .error, .syntax(incomplete: false), "'not' takes an atom without parentheses around it", at: t.span,
              hint: "write 'not \(name)(...)', as in 'not p(X)'"))
          throw ParseError()
        }
        if AggregateFunction(rawValue: name) != nil || atomName.map({ AggregateFunction(rawValue: $0) != nil || $0 == "aggregate_all" }) == true {
          report(
            Diagnostic(
              .error, .syntax(incomplete: false), "A relation cannot be used as an argument; dq writes aggregates with braces",
              at: t.span, hint: "write 'N = count : { p(X) }' (or sum V, min V, max V)"))
          throw ParseError()
        }
        throw error(at: t, "A relation cannot be used as an argument; '\(name)(...)' is not a term")
      }
      return .constant(.symbol(name), t.span)
    case .string(let s):
      advance()
      return .constant(.symbol(s), t.span)
    case .integer(let magnitude):
      advance()
      // The lexer refuses magnitudes past Int64.min's, so a negated literal always fits.
      guard let v = IntegerLiteral.value(magnitude: magnitude, negative: negated) else {
        report(Diagnostic(.error, .syntax(incomplete: false), "Integer literal \(magnitude) does not fit in 64 bits", at: t.span))
        throw ParseError()
      }
      return .constant(.integer(v), t.span)
    case .decimal(let d):
      advance()
      return .constant(.decimal(negated ? -d : d), t.span)
    case .date(let d):
      advance()
      return .constant(.date(d), t.span)
    case .leftParen:
      let open = advance()
      let inner = try term()
      let close = try expect(.rightParen, "Expected ')' to close the parenthesis")
      return inner.withSpan(open.span.to(close.span))
    default:
      throw error(at: t, "Expected a term (a variable, constant or expression)")
    }
  }

  // MARK: - Helpers

  private var peek: Token { window[head] }
  private var peekNext: Token { head + 1 < window.count ? window[head + 1] : window[window.count - 1] }
  private var isAtEnd: Bool { if case .endOfInput = peek.kind { return true } else { return false } }

  private func check(_ k: TokenKind) -> Bool { peek.kind == k }

  @discardableResult
  private mutating func advance() -> Token {
    let t = window[head]
    if case .endOfInput = t.kind { return t }
    head += 1
    previous = t
    if head >= 256 {
      window.removeFirst(head)
      head = 0
    }
    fill(2)
    return t
  }

  private mutating func match(_ k: TokenKind) -> Bool {
    guard check(k) else { return false }
    advance()
    return true
  }

  private mutating func expect(_ k: TokenKind, _ message: String) throws(ParseError) -> Token {
    if check(k) { return advance() }
    throw error(at: peek, message)
  }

  private mutating func enter() throws(ParseError) {
    nesting += 1
    depth += 1
    // The outermost term is one level but no parenthesis: exactly `maximumDepth` are accepted.
    if nesting > Parser.maximumDepth + 1 {
      report(Diagnostic(.error, .syntax(incomplete: false), "Expression nested too deeply (more than \(Parser.maximumDepth) levels)", at: peek.span))
      throw ParseError()
    }
    try checkTreeDepth()
  }

  private mutating func leave() {
    nesting -= 1
    depth -= 1
  }

  private mutating func enterChain() throws(ParseError) {
    depth += 1
    try checkTreeDepth()
  }

  /// The outermost term is one level of `depth` but no operator: a chain of exactly
  /// `maximumTreeDepth` operators is accepted, one more is not.
  private mutating func checkTreeDepth() throws(ParseError) {
    if depth > Parser.maximumTreeDepth + 1 {
      report(
        Diagnostic(
          .error, .syntax(incomplete: false), "Expression too long (more than \(Parser.maximumTreeDepth) operators)",
          at: peek.span, hint: "split it into several steps, e.g. 'Y = X1 + X2, Z = Y + X3'"))
      throw ParseError()
    }
  }

  private mutating func report(_ d: Diagnostic) { diagnostics.append(d) }

  /// Records an error at `token` and returns the error to throw.
  private mutating func error(at token: Token, _ message: String) -> ParseError {
    switch token.kind {
    case .error(let text):
      let incomplete = text.hasPrefix("Unterminated block comment")
      // A second line is a hint.
      let parts = text.split(separator: "\n", maxSplits: 1)
      let m = parts.first.map(String.init) ?? text
      report(
        Diagnostic(
          .error, .syntax(incomplete: incomplete), m.hasSuffix(".") ? String(m.dropLast()) : m, at: token.span,
          hint: parts.count > 1 ? String(parts[1]) : nil))
    case .endOfInput:
      // Point just after the last token, not at the (possibly blank) line where the input ends.
      var span = token.span
      if let last = self.previous {
        let previous = last.span
        let col = previous.column + previous.text.unicodeScalars.count
        span = SourceSpan(file: file, start: previous.end, end: previous.end, line: previous.line + previous.text.filter { $0 == "\n" }.count, column: col)
      }
      report(Diagnostic(.error, .syntax(incomplete: true), "\(message), found end of input", at: span))
    default:
      let found = message.contains(token.kind.display) ? "" : ", found \(token.kind.display)"
      report(Diagnostic(.error, .syntax(incomplete: false), message + found, at: token.span))
    }
    return ParseError()
  }

  /// Panic mode: skip to just after the next clause terminator or to the next directive.
  private mutating func synchronize() {
    while !isAtEnd {
      switch peek.kind {
      case .period, .question:
        advance()
        return
      case .directive: return
      default: advance()
      }
    }
  }
}

extension String {
  var trimmingSpaces: String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
    while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
    return String(s)
  }
}
