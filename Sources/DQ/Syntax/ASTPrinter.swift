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
      text = "-" + t.render(parentPrecedence: 3)
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
    case .query(let q): return q.description
    case .declaration(let d):
      let desc = d.description.isEmpty ? "" : " " + SymbolSyntax.quoted(d.description)
      return ".decl \(d.name)(\(d.columns.joined(separator: ", ")))\(desc)"
    case .citation(let c, _):
      guard let c else { return ".source" }
      return ".source \(SymbolSyntax.quoted(c.file)) \(SymbolSyntax.quoted(c.quote))"
    case .command(let name, let argument, _): return argument.isEmpty ? ".\(name)" : ".\(name) \(argument)"
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
    var out = "\""
    for ch in s.unicodeScalars {
      switch ch {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      default: out.unicodeScalars.append(ch)
      }
    }
    return out + "\""
  }
}

/// How decimals are written: always with a fractional part, shortest round-trip digits.
public enum DecimalSyntax {
  public static func format(_ d: Double) -> String {
    if d.isNaN || d.isInfinite { return String(d) }
    var s = String(d)
    if s.contains("e") {
      // Expand exponent forms, which are not dq syntax.
      s = expand(d)
    }
    if !s.contains(".") { s += ".0" }
    return s
  }

  private static func expand(_ d: Double) -> String {
    // Integral values print exactly; other tiny or huge values keep 17 significant digits.
    if d == d.rounded(), abs(d) < 1e300 {
      var digits = ""
      var v = abs(d)
      if v < 1 { return "0.0" }
      while v >= 1 {
        let r = v.truncatingRemainder(dividingBy: 10)
        digits = String(Int(r)) + digits
        v = (v - r) / 10
      }
      return (d < 0 ? "-" : "") + digits + ".0"
    }
    var out = ""
    let neg = d < 0
    var v = abs(d)
    var intPart = v.rounded(.towardZero)
    out = intPart == 0 ? "0" : String(format17(intPart))
    v -= intPart
    out += "."
    var n = 0
    while v > 0, n < 40 {
      v *= 10
      intPart = v.rounded(.towardZero)
      out += String(Int(intPart))
      v -= intPart
      n += 1
    }
    return (neg ? "-" : "") + out
  }

  private static func format17(_ v: Double) -> String { String(Int(exactly: v) ?? 0) }
}
