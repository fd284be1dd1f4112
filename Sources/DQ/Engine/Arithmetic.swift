/// Arithmetic and comparison on encoded values: overflow-checked, with located errors.
enum Arithmetic {
  static func apply(_ op: ArithmeticOperator, _ a: Value, _ b: Value, store: ValueStore, span: SourceSpan?) throws(EvaluationError) -> Value {
    // Fast path: two small integers.
    if let x = ValueStore.smallInteger(a), let y = ValueStore.smallInteger(b) {
      return store.integer(try integer(op, x, y, span))
    }
    switch (store.decode(a), store.decode(b)) {
    case (.integer(let x), .integer(let y)):
      return store.integer(try integer(op, x, y, span))
    case (.integer(let x), .decimal(let y)):
      return store.decimal(try decimal(op, Double(x), y, span))
    case (.decimal(let x), .integer(let y)):
      return store.decimal(try decimal(op, x, Double(y), span))
    case (.decimal(let x), .decimal(let y)):
      return store.decimal(try decimal(op, x, y, span))
    case (.date(let d), .integer(let n)) where op == .add || op == .subtract:
      let (r, o) = op == .add ? d.addingReportingOverflow(n) : d.subtractingReportingOverflow(n)
      guard !o, r >= DateCodec.minDay, r <= DateCodec.maxDay else {
        throw EvaluationError(.runtime, "Date arithmetic goes outside the years 0000-9999", at: span)
      }
      return store.date(r)
    case (.integer(let n), .date(let d)) where op == .add:
      let (r, o) = d.addingReportingOverflow(n)
      guard !o, r >= DateCodec.minDay, r <= DateCodec.maxDay else {
        throw EvaluationError(.runtime, "Date arithmetic goes outside the years 0000-9999", at: span)
      }
      return store.date(r)
    case (.date(let x), .date(let y)) where op == .subtract:
      return store.integer(x - y)
    case (let l, let r):
      throw EvaluationError(
        .runtime, "Cannot apply '\(op.rawValue)' to \(describe(l)) and \(describe(r))", at: span,
        hint: "arithmetic works on numbers; dates take '+'/'-' of a number of days, and 'date - date' gives days")
    }
  }

  static func negate(_ a: Value, store: ValueStore, span: SourceSpan?) throws(EvaluationError) -> Value {
    switch store.decode(a) {
    case .integer(let x):
      let (r, o) = Int64(0).subtractingReportingOverflow(x)
      if o { throw EvaluationError(.runtime, "Integer overflow in '-'", at: span) }
      return store.integer(r)
    case .decimal(let d): return store.decimal(-d)
    case let other: throw EvaluationError(.runtime, "Cannot negate \(describe(other))", at: span)
    }
  }

  static func describe(_ c: Constant) -> String {
    switch c {
    case .symbol(let s): return "the symbol \(SymbolSyntax.quoteIfNeeded(s))"
    case .integer(let i): return "the integer \(i)"
    case .decimal(let d): return "the decimal \(DecimalSyntax.format(d))"
    case .date(let d): return "the date \(DateCodec.format(days: d))"
    }
  }

  private static func integer(_ op: ArithmeticOperator, _ x: Int64, _ y: Int64, _ span: SourceSpan?) throws(EvaluationError) -> Int64 {
    let r: (partialValue: Int64, overflow: Bool)
    switch op {
    case .add: r = x.addingReportingOverflow(y)
    case .subtract: r = x.subtractingReportingOverflow(y)
    case .multiply: r = x.multipliedReportingOverflow(by: y)
    case .divide:
      if y == 0 { throw EvaluationError(.runtime, "Division by zero", at: span) }
      r = x.dividedReportingOverflow(by: y)
    case .modulo:
      if y == 0 { throw EvaluationError(.runtime, "Division by zero in 'mod'", at: span) }
      if y == -1 { return 0 }
      // Floored: the result takes the sign of the divisor, as in Prolog.
      let m = x % y
      return (m != 0 && (m < 0) != (y < 0)) ? m + y : m
    }
    if r.overflow { throw EvaluationError(.runtime, "Integer overflow in '\(op.rawValue)'", at: span, hint: "integers are 64-bit; use a decimal (e.g. 1.0) for larger magnitudes") }
    return r.partialValue
  }

  private static func decimal(_ op: ArithmeticOperator, _ x: Double, _ y: Double, _ span: SourceSpan?) throws(EvaluationError) -> Double {
    let r: Double
    switch op {
    case .add: r = x + y
    case .subtract: r = x - y
    case .multiply: r = x * y
    case .divide:
      if y == 0 { throw EvaluationError(.runtime, "Division by zero", at: span) }
      r = x / y
    case .modulo:
      if y == 0 { throw EvaluationError(.runtime, "Division by zero in 'mod'", at: span) }
      let m = x.truncatingRemainder(dividingBy: y)
      r = (m != 0 && (m < 0) != (y < 0)) ? m + y : m
    }
    if !r.isFinite { throw EvaluationError(.runtime, "Decimal overflow in '\(op.rawValue)'", at: span) }
    return r
  }

  /// The comparison `a op b` in the contract's value order.
  @inline(__always)
  static func compare(_ op: ComparisonOperator, _ a: Value, _ b: Value, store: ValueStore) -> Bool {
    switch op {
    // '=' is identity, as in binding: 2 and 2.0 are different values (2 >= 2.0 and 2 <= 2.0 hold).
    case .equal: return a == b
    case .notEqual: return a != b
    case .less: return store.compareNumerically(a, b) < 0
    case .lessEqual: return store.compareNumerically(a, b) <= 0
    case .greater: return store.compareNumerically(a, b) > 0
    case .greaterEqual: return store.compareNumerically(a, b) >= 0
    }
  }
}

/// An error raised during evaluation, with the place in the program that caused it.
public struct EvaluationError: Error, Sendable {
  public enum Reason: Sendable {
    case runtime, tupleLimit, memoryLimit, timeout, interrupted
    /// A database server dq was asked to use cannot be reached (exit 69).
    case unavailable
  }
  public var reason: Reason
  public var message: String
  public var span: SourceSpan?
  public var hint: String?

  public init(_ reason: Reason, _ message: String, at span: SourceSpan?, hint: String? = nil) {
    self.reason = reason
    self.message = message
    self.span = span
    self.hint = hint
  }

  public var diagnostic: Diagnostic { Diagnostic(.error, .runtime, message, at: span, hint: hint) }
}
