/// The vocabulary the syntax and the engine share: constants, operators, aggregate functions
/// and citations. The parser builds them, the planner copies them into plans, and the engine
/// computes with them; nothing here depends on the syntax tree.

/// A literal constant as written.
public enum Constant: Sendable, Hashable {
  case symbol(String)
  case integer(Int64)
  case decimal(Double)
  /// Days since 1970-01-01.
  case date(Int64)
}

/// `.source "file" "quote"`: the evidence cited by the facts that follow.
public struct Citation: Sendable, Hashable {
  public var file: String
  public var quote: String
  public var span: SourceSpan
}
