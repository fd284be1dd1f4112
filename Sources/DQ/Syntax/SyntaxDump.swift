/// Dumps of the front end for learners: the tokens of a text, and the tree its parse gives
/// (`.tokens TEXT`, `.ast TEXT`).
public enum SyntaxDump {
  /// One line per token: line:column, kind, and the text.
  public static func tokens(_ file: SourceFile) -> String {
    var lexer = Lexer(file: file)
    var out = ""
    for t in lexer.tokenize() {
      let kind: String
      switch t.kind {
      case .identifier: kind = "identifier"
      case .variable: kind = "variable"
      case .string(let s): kind = "string \(SymbolSyntax.quoted(s))"
      case .integer(let v): kind = "integer \(v)"
      case .decimal(let d): kind = "decimal \(DecimalSyntax.format(d))"
      case .date(let d): kind = "date \(DateCodec.format(days: d))"
      case .directive(let name, let argument, _): kind = "directive .\(name) \(SymbolSyntax.quoted(argument))"
      case .endOfInput: kind = "end of input"
      case .error(let m): kind = "error: \(m.split(separator: "\n", maxSplits: 1).joined(separator: " (hint: "))\(m.contains("\n") ? ")" : "")"
      default: kind = "punctuation"
      }
      let text = t.span.text.isEmpty ? "" : "  \(t.span.text)"
      out += "\(t.span.line):\(t.span.column)  \(kind)\(text)\n"
    }
    return out
  }

  /// The statements as an indented tree.
  public static func tree(_ statements: [Statement]) -> String {
    var out = ""
    for s in statements {
      switch s {
      case .fact(let r): out += "fact \(r.head)\n"
      case .facts(let b): out += "facts \(b.name)/\(b.arity): \(b.count)\n"
      case .rule(let r):
        out += "rule\n  head \(atom(r.head))\n  body\n"
        for l in r.body { literal(l, indent: "    ", into: &out) }
      case .query(let q):
        out += "query (answers: \(q.shownVariables.joined(separator: ", ")))\n"
        for l in q.body { literal(l, indent: "  ", into: &out) }
      case .declaration(let d): out += "declaration \(d.name)(\(d.columns.joined(separator: ", ")))\n"
      case .citation(let c, _): out += c.map { "citation \($0.file)\n" } ?? "citation cleared\n"
      case .command(let name, let argument, _): out += "command .\(name) \(argument)\n"
      }
    }
    return out
  }

  private static func atom(_ a: Atom) -> String {
    "atom \(a.name)/\(a.arity)" + (a.arguments.isEmpty ? "" : " (\(a.arguments.map(term).joined(separator: ", ")))")
  }

  private static func term(_ t: Term) -> String {
    switch t {
    case .variable(let v, _): return v.hasPrefix("_#") ? "_" : "var \(v)"
    case .constant(let c, _): return c.description
    case .binary(let op, let a, let b, _): return "(\(op.rawValue) \(term(a)) \(term(b)))"
    case .negate(let a, _): return "(- \(term(a)))"
    }
  }

  private static func literal(_ l: Literal, indent: String, into out: inout String) {
    switch l {
    case .positive(let a): out += indent + atom(a) + "\n"
    case .negative(let a, _): out += indent + "not " + atom(a) + "\n"
    case .comparison(let op, let a, let b, _): out += indent + "compare \(term(a)) \(op.rawValue) \(term(b))\n"
    case .aggregate(let g):
      let value = g.value.map { " of \(term($0))" } ?? ""
      out += indent + "aggregate \(g.function.rawValue)\(value) into \(term(g.result))\n"
      for b in g.body { literal(b, indent: indent + "  ", into: &out) }
    }
  }
}
