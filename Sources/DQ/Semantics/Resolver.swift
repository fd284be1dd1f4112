/// Static checks on clauses: one arity per name, safe variables, and helpful hints.
public struct Resolver {
  /// The schema the checks read and extend.
  public var schema: Schema
  public private(set) var diagnostics: [Diagnostic] = []
  /// Variables already reported in the current clause, so one mistake gives one error.
  private var reported: Set<String> = []

  public init(schema: Schema) { self.schema = schema }

  // MARK: - Statements

  /// Checks one statement, recording its relations in the schema.
  public mutating func resolve(_ statement: Statement) {
    switch statement {
    case .fact(let r), .rule(let r):
      checkArities(in: r)
      checkSafety(body: r.body, head: r.head)
    case .facts(let b):
      checkArity(b.name, arity: b.arity, span: b.span, nameSpan: b.span)
    case .query(let q):
      for l in q.body { checkArities(in: l) }
      checkSafety(body: q.body, head: nil)
    case .declaration(let d):
      if let existing = schema.declare(d) {
        report(
          "Relation '\(d.name)' is declared with \(d.columns.count) columns but was used with \(existing.arity)",
          at: d.span, notes: existing.origin.map { [note("'\(d.name)' first appears here", at: $0)] } ?? [])
      }
      if Set(d.columns).count != d.columns.count {
        report("Relation '\(d.name)' declares a column name twice", at: d.span)
      }
    case .citation, .command: break
    }
  }

  /// Records that a relation is used with this arity (as `.import` does).
  public mutating func declareUse(_ name: String, arity: Int, at span: SourceSpan) {
    _ = schema.use(name, arity: arity, at: span)
  }

  // MARK: - Arity

  private mutating func checkArities(in r: Rule) {
    checkArity(r.head)
    for l in r.body { checkArities(in: l) }
  }

  private mutating func checkArities(in l: Literal) {
    switch l {
    case .positive(let a), .negative(let a, _): checkArity(a)
    case .comparison: break
    case .aggregate(let g): for b in g.body { checkArities(in: b) }
    }
  }

  private mutating func checkArity(_ a: Atom) {
    checkArity(a.name, arity: a.arity, span: a.span, nameSpan: a.nameSpan)
  }

  private mutating func checkArity(_ name: String, arity: Int, span: SourceSpan, nameSpan: SourceSpan) {
    guard let existing = schema.use(name, arity: arity, at: nameSpan) else { return }
    let shape = existing.declared
      ? "declared as \(name)(\(existing.columns.joined(separator: ", ")))"
      : "takes \(existing.arity) argument\(existing.arity == 1 ? "" : "s")"
    // A name the built-in dataset already uses is the likely clash for a new program.
    let fromDataset = existing.origin?.file.name == Dataset.fileName
    let hint = fromDataset
      ? "'\(name)' is a relation of the built-in dataset, \(shape); choose another name, or run with --no-dataset"
      : "'\(name)' \(shape)"
    report(
      "Relation '\(name)' is used with \(arity) argument\(arity == 1 ? "" : "s") here but has \(existing.arity)",
      at: span, hint: hint,
      notes: existing.origin.map { [note("'\(name)' first appears here", at: $0)] } ?? [])
  }

  // MARK: - Safety

  /// Every variable must be bound by a positive atom, by `X = expr` over bound variables, or by
  /// an aggregate's result; the variables of negations, comparisons and heads are checked.
  private mutating func checkSafety(body: [Literal], head: Atom?) {
    var outsideCounts: [String: Int] = [:]
    if let head { for v in head.variables { outsideCounts[v, default: 0] += 1 } }
    let bound = Safety.boundVariables(body, initiallyBound: [], head: head)
    reported = []
    checkLiterals(body, bound: bound, context: body, head: head, enclosing: [])
    if let head {
      for t in head.arguments {
        for v in t.variables where !bound.contains(v) && !reported.contains(v) {
          let hint: String
          if Safety.occursOnlyNegated(v, in: body) {
            hint = "'\(shown(v))' appears only under 'not'; bind it with a positive atom as well"
          } else if body.isEmpty {
            hint = "a fact cannot contain variables; to ask a question, write '?- \(head).'"
          } else {
            hint = "add a positive atom that mentions '\(shown(v))' to the body"
          }
          if v.hasPrefix("_#") {
            report(
              "'_' in the head of '\(head.name)' has no value: each '_' is a new variable", at: span(of: v, in: t) ?? t.span,
              hint: "use a variable that the body binds, or a constant")
            continue
          }
          report("Variable '\(shown(v))' in the head of '\(head.name)' is not bound by the body", at: span(of: v, in: t) ?? t.span, hint: hint)
        }
      }
    }
  }

  private func span(of v: String, in t: Term) -> SourceSpan? {
    switch t {
    case .variable(let n, let s): return n == v ? s : nil
    case .constant: return nil
    case .binary(_, let a, let b, _): return span(of: v, in: a) ?? span(of: v, in: b)
    case .negate(let a, _): return span(of: v, in: a)
    }
  }

  /// `enclosing`: the variables of the scopes around `context` (for an aggregate's body, those
  /// outside its braces), which group any aggregate nested in it.
  private mutating func checkLiterals(
    _ body: [Literal], bound: Set<String>, context: [Literal], head: Atom?, enclosing: Set<String>
  ) {
    for l in body {
      switch l {
      case .positive(let a):
        for t in a.arguments where t.variableName == nil {
          for v in t.variables where !bound.contains(v) {
            report("Variable '\(shown(v))' in an expression is not bound", at: span(of: v, in: t) ?? t.span,
              hint: "an expression inside an atom is compared, not solved; bind '\(shown(v))' with another atom")
          }
        }
      case .negative(let a, _):
        for t in a.arguments {
          for v in t.variables where !bound.contains(v) && !v.hasPrefix("_#") {
            report(
              "Variable '\(shown(v))' under 'not' is not bound by a positive atom", at: span(of: v, in: t) ?? t.span,
              hint: Safety.occursOnlyNegated(v, in: context)
                ? "'\(shown(v))' appears only under 'not'; bind it with a positive atom, or write '_' if any value will do"
                : "bind '\(shown(v))' with a positive atom")
          }
        }
      case .comparison(let op, let left, let right, _):
        var unbound = (left.variables + right.variables).filter { !bound.contains($0) }
        unbound = Array(Set(unbound)).sorted()
        for v in unbound {
          let t = left.variables.contains(v) ? left : right
          let hint = op == .equal
            ? "'X = expr' binds X only when every variable of expr is bound"
            : "a comparison cannot bind '\(shown(v))'; bind it with a positive atom first"
          report("Variable '\(shown(v))' in a comparison is not bound", at: span(of: v, in: t) ?? t.span, hint: hint)
        }
      case .aggregate(let g):
        let outer = Safety.variablesOutside(g, in: context, head: head, enclosing: enclosing)
        let groups = Set(g.body.flatMap(\.variables)).intersection(outer)
        for v in groups.sorted() where !bound.contains(v) {
          reported.insert(v)
          g.result.variableName.map { _ = reported.insert($0) }
          report(
            "Variable '\(shown(v))' groups the \(g.function.rawValue) but is not bound outside it", at: g.span,
            hint: "bind '\(shown(v))' with a positive atom outside the braces, or rename it inside to make it local")
        }
        let inner = Safety.boundVariables(g.body, initiallyBound: bound.intersection(groups), enclosing: outer)
        checkLiterals(g.body, bound: inner, context: g.body, head: nil, enclosing: outer)
        if let value = g.value {
          for v in value.variables where !inner.contains(v) {
            report("Variable '\(shown(v))' of the \(g.function.rawValue) is not bound inside its braces", at: value.span)
          }
        }
        if g.result.variableName == nil {
          for v in g.result.variables where !bound.contains(v) {
            report("Variable '\(shown(v))' in an expression is not bound", at: g.result.span)
          }
        }
      }
    }
  }

  // MARK: - Reporting

  /// A variable as the user wrote it: anonymous ones are renamed apart by the parser.
  private func shown(_ v: String) -> String { v.hasPrefix("_#") ? "_" : v }

  private func note(_ message: String, at span: SourceSpan) -> Diagnostic {
    Diagnostic(.note, .advice, message, at: span)
  }

  private mutating func report(_ message: String, at span: SourceSpan, hint: String? = nil, notes: [Diagnostic] = []) {
    diagnostics.append(Diagnostic(.error, .semantic, message, at: span, hint: hint, notes: notes))
  }
}

/// The binding analysis shared by the resolver and the planner.
enum Safety {
  /// Variables bound by the literals, to a fixpoint: positive atoms bind their variable
  /// arguments; `X = expr` binds X once expr is bound; an aggregate binds its result once its
  /// grouping variables are bound.
  /// `enclosing` are the variables of the scopes around `body` (see `variablesOutside`).
  static func boundVariables(
    _ body: [Literal], initiallyBound: Set<String>, head: Atom? = nil, enclosing: Set<String> = []
  ) -> Set<String> {
    var bound = initiallyBound
    var changed = true
    while changed {
      changed = false
      for l in body {
        switch l {
        case .positive(let a):
          for t in a.arguments {
            if let v = t.variableName, !v.hasPrefix("_#"), bound.insert(v).inserted { changed = true }
          }
        case .comparison(.equal, let left, let right, _):
          if let v = left.variableName, !bound.contains(v), right.variables.allSatisfy(bound.contains) {
            bound.insert(v)
            changed = true
          } else if let v = right.variableName, !bound.contains(v), left.variables.allSatisfy(bound.contains) {
            bound.insert(v)
            changed = true
          }
        case .aggregate(let g):
          if let v = g.result.variableName, !bound.contains(v) {
            let groups = Set(g.body.flatMap(\.variables)).intersection(
              variablesOutside(g, in: body, head: head, enclosing: enclosing))
            if groups.isSubset(of: bound) {
              bound.insert(v)
              changed = true
            }
          }
        default: break
        }
      }
    }
    return bound
  }

  /// The variables that group `g`, an aggregate of `body`, when they occur in its braces: those
  /// of the head, of `body`'s literals outside any braces (of an aggregate there, its result),
  /// and `enclosing`, the same set for the scopes around `body` when `body` is itself the body
  /// of an aggregate. Scopes nest lexically: an aggregate two levels down is grouped by the
  /// rule's variables and by those of the aggregate around it, as LANGUAGE.md's "outside it"
  /// says; a variable that occurs only inside the braces of siblings is local to each.
  static func variablesOutside(_ g: Aggregate, in body: [Literal], head: Atom?, enclosing: Set<String> = []) -> Set<String> {
    var out = enclosing.union(head?.variables ?? [])
    // The bodies of aggregates are scopes of their own: a variable that occurs only inside
    // braces (of this aggregate or another) is local to each, not a grouping variable.
    for l in body {
      if case .aggregate(let other) = l {
        out.formUnion(other.result.variables)
      } else {
        out.formUnion(l.variables)
      }
    }
    return out
  }

  static func occursOnlyNegated(_ v: String, in body: [Literal]) -> Bool {
    var positive = false, negative = false
    for l in body {
      switch l {
      case .negative(let a, _): if a.variables.contains(v) { negative = true }
      case .positive(let a): if a.variables.contains(v) { positive = true }
      default: if l.variables.contains(v) { positive = true }
      }
    }
    return negative && !positive
  }
}
