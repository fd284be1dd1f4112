/// The abstract syntax tree: pure value types, one case per construct of the language.

/// A term: variable, constant, or arithmetic over terms.
public indirect enum Term: Sendable, Hashable {
  /// A named variable; anonymous `_` occurrences are renamed apart by the parser (`_#1`, `_#2`).
  case variable(String, SourceSpan)
  case constant(Constant, SourceSpan)
  case binary(ArithmeticOperator, Term, Term, SourceSpan)
  case negate(Term, SourceSpan)

  public var span: SourceSpan {
    switch self {
    case .variable(_, let s), .constant(_, let s), .binary(_, _, _, let s), .negate(_, let s): return s
    }
  }

  /// Variables in order of first occurrence.
  public var variables: [String] {
    var out: [String] = []
    var seen: Set<String> = []
    collectVariables(into: &out, seen: &seen)
    return out
  }

  /// Appends the variables not yet in `out`. Linear only for a few calls: a loop over many
  /// terms uses `collectVariables(into:seen:)`.
  func collectVariables(into out: inout [String]) {
    var seen = Set(out)
    collectVariables(into: &out, seen: &seen)
  }

  /// Appends the variables not in `seen` (the set of `out`), so a clause with thousands of
  /// variables is collected in linear time.
  func collectVariables(into out: inout [String], seen: inout Set<String>) {
    switch self {
    case .variable(let v, _): if seen.insert(v).inserted { out.append(v) }
    case .constant: break
    case .binary(_, let a, let b, _):
      a.collectVariables(into: &out, seen: &seen)
      b.collectVariables(into: &out, seen: &seen)
    case .negate(let a, _): a.collectVariables(into: &out, seen: &seen)
    }
  }

  /// The same term located at `span` (a parenthesised term covers its parentheses).
  public func withSpan(_ span: SourceSpan) -> Term {
    switch self {
    case .variable(let v, _): return .variable(v, span)
    case .constant(let c, _): return .constant(c, span)
    case .binary(let op, let a, let b, _): return .binary(op, a, b, span)
    case .negate(let a, _): return .negate(a, span)
    }
  }

  /// The variable's name when the term is a bare variable.
  public var variableName: String? {
    if case .variable(let v, _) = self { return v }
    return nil
  }
}

/// `name(arg, ...)`.
public struct Atom: Sendable, Hashable {
  public var name: String
  public var arguments: [Term]
  /// The whole atom.
  public var span: SourceSpan
  /// Just the relation name.
  public var nameSpan: SourceSpan

  public init(name: String, arguments: [Term], span: SourceSpan, nameSpan: SourceSpan) {
    self.name = name
    self.arguments = arguments
    self.span = span
    self.nameSpan = nameSpan
  }

  public var arity: Int { arguments.count }

  public var variables: [String] {
    var out: [String] = []
    var seen: Set<String> = []
    for a in arguments { a.collectVariables(into: &out, seen: &seen) }
    return out
  }
}

/// `Result = function Value : { body }`.
public struct Aggregate: Sendable, Hashable {
  public var result: Term
  public var function: AggregateFunction
  /// The aggregated term; nil for `count`.
  public var value: Term?
  public var body: [Literal]
  public var span: SourceSpan
}

/// One body literal.
public indirect enum Literal: Sendable, Hashable {
  case positive(Atom)
  case negative(Atom, SourceSpan)
  case comparison(ComparisonOperator, Term, Term, SourceSpan)
  case aggregate(Aggregate)

  public var span: SourceSpan {
    switch self {
    case .positive(let a): return a.span
    case .negative(_, let s), .comparison(_, _, _, let s): return s
    case .aggregate(let a): return a.span
    }
  }

  /// The relations the literal reads, those of an aggregate's body included.
  public var relationNames: [String] {
    switch self {
    case .positive(let a), .negative(let a, _): return [a.name]
    case .comparison: return []
    case .aggregate(let g): return g.body.flatMap(\.relationNames)
    }
  }
}

/// `head :- body.`; a fact is a rule with an empty body.
public struct Rule: Sendable, Hashable {
  public var head: Atom
  public var body: [Literal]
  public var span: SourceSpan

  public init(head: Atom, body: [Literal], span: SourceSpan) {
    self.head = head
    self.body = body
    self.span = span
  }
}

/// `?- body.` or `body?`.
public struct Query: Sendable, Hashable {
  public var body: [Literal]
  public var span: SourceSpan

  /// Variables shown in answers: in order of first appearance, excluding those starting with `_`.
  public var shownVariables: [String] {
    let all = body.variables
    // Variables local to an aggregate's body are not answers.
    var outside: [String] = []
    var seen: Set<String> = []
    for l in body {
      if case .aggregate(let g) = l {
        g.result.collectVariables(into: &outside, seen: &seen)
      } else {
        l.collectVariables(into: &outside, seen: &seen)
      }
    }
    return all.filter { !$0.hasPrefix("_") && seen.contains($0) }
  }
}

/// `.decl name(col, ...) "description"`: column names and a description for a relation.
public struct Declaration: Sendable, Hashable {
  public var name: String
  public var columns: [String]
  public var description: String
  public var span: SourceSpan
}

/// Consecutive facts of one relation whose arguments are all constants, kept flat: loading a
/// large file builds no tree per fact.
public struct FactBatch: Sendable, Hashable {
  public var name: String
  public var arity: Int
  /// `count * arity` constants, fact after fact.
  public var values: [Constant]
  public var count: Int
  /// Where the first fact of the batch is.
  public var span: SourceSpan
}

/// A top-level statement.
public enum Statement: Sendable, Hashable {
  case fact(Rule)
  case facts(FactBatch)
  case rule(Rule)
  case query(Query)
  case declaration(Declaration)
  /// A citation, or nil to clear the current one.
  case citation(Citation?, SourceSpan)
  /// Any other `.name argument` line: a shell command, run by whoever runs the statements.
  case command(name: String, argument: String, span: SourceSpan)

  public var span: SourceSpan {
    switch self {
    case .fact(let r), .rule(let r): return r.span
    case .facts(let b): return b.span
    case .query(let q): return q.span
    case .declaration(let d): return d.span
    case .citation(_, let s): return s
    case .command(_, _, let s): return s
    }
  }
}

extension Literal {
  /// Appends the variables not yet in `out` (see `Term.collectVariables(into:)`).
  func collectVariables(into out: inout [String]) {
    var seen = Set(out)
    collectVariables(into: &out, seen: &seen)
  }

  func collectVariables(into out: inout [String], seen: inout Set<String>) {
    switch self {
    case .positive(let a), .negative(let a, _):
      for t in a.arguments { t.collectVariables(into: &out, seen: &seen) }
    case .comparison(_, let l, let r, _):
      l.collectVariables(into: &out, seen: &seen)
      r.collectVariables(into: &out, seen: &seen)
    case .aggregate(let g):
      g.result.collectVariables(into: &out, seen: &seen)
      g.value?.collectVariables(into: &out, seen: &seen)
      for l in g.body { l.collectVariables(into: &out, seen: &seen) }
    }
  }

  /// Variables in order of first occurrence.
  public var variables: [String] {
    var out: [String] = []
    var seen: Set<String> = []
    collectVariables(into: &out, seen: &seen)
    return out
  }
}

extension Array where Element == Literal {
  /// The variables of a body in order of first occurrence, in linear time.
  public var variables: [String] {
    var out: [String] = []
    var seen: Set<String> = []
    for l in self { l.collectVariables(into: &out, seen: &seen) }
    return out
  }
}
