/// Prints the AST as valid dq source, so `parse(print(ast))` gives the same tree.

extension Constant: CustomStringConvertible {
  public var description: String {
    switch self {
    case .symbol(let s): return SymbolSyntax.quoteIfNeeded(s)
    case .integer(let i): return String(i)
    case .decimal(let d): return DecimalSyntax.format(d)
    case .date(let d): return DateCodec.format(days: d)
    }
  }
}

extension Term: CustomStringConvertible {
  public var description: String { render(parentPrecedence: 0) }

  /// A number literal without a minus sign.
  private var isUnsignedNumber: Bool {
    switch self {
    case .constant(.integer(let i), _): return i >= 0
    case .constant(.decimal(let d), _): return d.sign == .plus
    default: return false
    }
  }

  private var precedence: Int {
    switch self {
    case .binary(let op, _, _, _): return op == .add || op == .subtract ? 1 : 2
    case .negate: return 3
    default: return 4
    }
  }

  private func render(parentPrecedence: Int) -> String {
    let text: String
    switch self {
    case .variable(let v, _): return v.hasPrefix("_#") ? "_" : v
    case .constant(let c, _): return c.description
    case .binary(let op, let l, let r, _):
      let p = precedence
      let opText = op == .modulo ? " mod " : " \(op.rawValue) "
      // Left-associative: the right operand needs parentheses at equal precedence.
      text = l.render(parentPrecedence: p) + opText + r.render(parentPrecedence: p + 1)
    case .negate(let t, _):
      // A minus written before a number is read as part of the literal, so the negation of
      // the literal 0 or 5 (from `- -0` or `-(5)`) keeps its parentheses to read back the same.
      text = t.isUnsignedNumber ? "-(\(t))" : "-" + t.render(parentPrecedence: 3)
    }
    return precedence < parentPrecedence ? "(\(text))" : text
  }
}

extension Atom: CustomStringConvertible {
  public var description: String {
    arguments.isEmpty ? name : "\(name)(\(arguments.map(\.description).joined(separator: ", ")))"
  }
}

extension Literal: CustomStringConvertible {
  public var description: String {
    switch self {
    case .positive(let a): return a.description
    case .negative(let a, _): return "not \(a)"
    case .comparison(let op, let l, let r, _): return "\(l) \(op.rawValue) \(r)"
    case .aggregate(let g):
      let value = g.value.map { " \($0)" } ?? ""
      return "\(g.result) = \(g.function.rawValue)\(value) : { \(g.body.map(\.description).joined(separator: ", ")) }"
    }
  }
}

extension Rule: CustomStringConvertible {
  public var description: String {
    body.isEmpty ? "\(head)." : "\(head) :- \(body.map(\.description).joined(separator: ", "))."
  }
}

extension Query: CustomStringConvertible {
  public var description: String { "?- \(body.map(\.description).joined(separator: ", "))." }
}

extension Statement: CustomStringConvertible {
  public var description: String {
    switch self {
    case .fact(let r), .rule(let r): return r.description
    case .facts(let b):
      return (0..<b.count).map { i in
        let args = b.values[(i * b.arity)..<((i + 1) * b.arity)].map(\.description).joined(separator: ", ")
        return b.arity == 0 ? "\(b.name)." : "\(b.name)(\(args))."
      }.joined(separator: "\n")
    case .query(let q): return q.description
    case .declaration(let d):
      let desc = d.description.isEmpty ? "" : " " + SymbolSyntax.quoted(d.description)
      return ".decl \(d.name)(\(d.columns.joined(separator: ", ")))\(desc)"
    case .citation(let c, _):
      guard let c else { return ".source" }
      return ".source \(SymbolSyntax.quoted(c.file)) \(SymbolSyntax.quoted(c.quote))"
    case .command(let name, let argument, _):
      // psql's `\q` keeps its backslash in place of the dot.
      let typed = name.hasPrefix("\\") ? name : ".\(name)"
      return argument.isEmpty ? typed : "\(typed) \(argument)"
    }
  }
}

/// How symbols are written in source.
public enum SymbolSyntax {
  /// Bare when the text is a lowercase identifier (and not a keyword), quoted otherwise.
  public static func quoteIfNeeded(_ s: String) -> String {
    let bytes = Array(s.utf8)
    if let f = bytes.first, isLower(f), bytes.allSatisfy(isIdentPart), s != "not", s != "mod" { return s }
    return quoted(s)
  }

  public static func quoted(_ s: String) -> String {
    let escaped = Escaping.escape(s) { ch in
      switch ch {
      case "\"": return "\\\""
      case "\\": return "\\\\"
      case "\n": return "\\n"
      case "\t": return "\\t"
      default: return nil
      }
    }
    return "\"" + escaped + "\""
  }
}

/// How decimals are written: always with a fractional part, shortest round-trip digits, and
/// never in exponent form (which is not dq syntax).
public enum DecimalSyntax {
  public static func format(_ d: Double) -> String {
    if d.isNaN || d.isInfinite { return String(d) }
    let s = String(d)
    guard let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
      return s.contains(".") ? s : s + ".0"
    }
    // Move the decimal point of the shortest digits by the exponent.
    let mantissa = s[..<e]
    let exponent = Int(s[s.index(after: e)...]) ?? 0
    let negative = mantissa.hasPrefix("-")
    let unsigned = negative ? mantissa.dropFirst() : mantissa
    let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(parts[0])
    let fraction = parts.count > 1 ? String(parts[1]) : ""
    var digits = whole + fraction
    var point = whole.count + exponent
    if point <= 0 {
      digits = String(repeating: "0", count: 1 - point) + digits
      point = 1
    }
    if point >= digits.count { digits += String(repeating: "0", count: point - digits.count + 1) }
    var intPart = String(digits.prefix(point))
    var fracPart = String(digits.dropFirst(point))
    while fracPart.count > 1, fracPart.hasSuffix("0") { fracPart.removeLast() }
    while intPart.count > 1, intPart.hasPrefix("0") { intPart.removeFirst() }
    if fracPart.isEmpty { fracPart = "0" }
    return (negative ? "-" : "") + intPart + "." + fracPart
  }
}
