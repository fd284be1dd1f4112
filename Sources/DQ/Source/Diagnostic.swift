/// A message about the program, located by a span: the one error currency of the library.
public struct Diagnostic: Error, Sendable, Hashable {
  public enum Severity: String, Sendable { case error, warning, note }

  /// What kind of mistake, so callers (exit codes, the REPL) can react without parsing text.
  public enum Kind: Sendable, Hashable {
    /// Lexical or grammatical; `incomplete` when the input simply ended too early.
    case syntax(incomplete: Bool)
    /// Safety, arity, stratification and other static checks.
    case semantic
    /// Raised while evaluating (division by zero, limits, interruption).
    case runtime
    /// Warnings and notes.
    case advice
  }

  public var severity: Severity
  public var kind: Kind
  public var message: String
  public var span: SourceSpan?
  /// A suggestion shown under the caret ("did you mean `met`?").
  public var hint: String?
  /// Related places ("first used here with arity 2").
  public var notes: [Diagnostic]

  public init(
    _ severity: Severity = .error, _ kind: Kind, _ message: String, at span: SourceSpan?,
    hint: String? = nil, notes: [Diagnostic] = []
  ) {
    self.severity = severity
    self.kind = kind
    self.message = message
    self.span = span
    self.hint = hint
    self.notes = notes
  }

  /// True for a syntax error caused only by the input ending (the REPL then asks for more).
  public var isIncompleteInput: Bool { kind == .syntax(incomplete: true) }

  public static func == (a: Diagnostic, b: Diagnostic) -> Bool {
    a.severity == b.severity && a.kind == b.kind && a.message == b.message && a.span == b.span
  }
  public func hash(into h: inout Hasher) { h.combine(message) }
}
