/// Tokens: what the lexer produces and the parser consumes.
public struct Token: Sendable, Hashable {
  public var kind: TokenKind
  public var span: SourceSpan

  public init(_ kind: TokenKind, _ span: SourceSpan) {
    self.kind = kind
    self.span = span
  }
}

/// The kinds of token, grouped by comment.
public enum TokenKind: Sendable, Hashable {
  // Names and literals.
  /// A name starting with a lowercase letter: a symbol, relation or keyword (`not`, `mod`, `count`).
  case identifier(String)
  /// A name starting with an uppercase letter or `_`.
  case variable(String)
  /// A double-quoted string, escapes already decoded.
  case string(String)
  /// An unsigned integer literal; the parser applies a leading minus and checks the range.
  case integer(UInt64)
  case decimal(Double)
  /// A date as days since 1970-01-01.
  case date(Int64)

  // Punctuation.
  case leftParen, rightParen, leftBrace, rightBrace, comma, colon
  /// `.` ending a clause.
  case period
  /// `?` ending a query written as `body?`.
  case question
  /// `?-` opening a query.
  case queryStart
  /// `:-` between head and body.
  case implies

  // Operators.
  case equal, notEqual, less, lessEqual, greater, greaterEqual
  case plus, minus, star, slash

  // Directives.
  /// `.name rest of line` at the start of a clause: a declaration or a shell command.
  case directive(name: String, argument: String, argumentOffset: Int)

  // Control.
  case endOfInput
  /// Something the lexer could not read; the parser reports the message. A second line, when
  /// there is one, is a hint shown under the caret.
  case error(String)
}

extension TokenKind {
  /// How the token reads in a message ("Expected ')' at 'foo'").
  public var display: String {
    switch self {
    case .identifier(let s), .variable(let s): return "'\(s)'"
    case .string(let s): return "string \"\(s)\""
    case .integer(let v): return "'\(v)'"
    case .decimal(let v): return "'\(v)'"
    case .date(let d): return "date \(DateCodec.format(days: d))"
    case .leftParen: return "'('"
    case .rightParen: return "')'"
    case .leftBrace: return "'{'"
    case .rightBrace: return "'}'"
    case .comma: return "','"
    case .colon: return "':'"
    case .period: return "'.'"
    case .question: return "'?'"
    case .queryStart: return "'?-'"
    case .implies: return "':-'"
    case .equal: return "'='"
    case .notEqual: return "'!='"
    case .less: return "'<'"
    case .lessEqual: return "'<='"
    case .greater: return "'>'"
    case .greaterEqual: return "'>='"
    case .plus: return "'+'"
    case .minus: return "'-'"
    case .star: return "'*'"
    case .slash: return "'/'"
    case .directive(let name, _, _): return "'.\(name)'"
    case .endOfInput: return "end of input"
    case .error(let m): return m
    }
  }
}
