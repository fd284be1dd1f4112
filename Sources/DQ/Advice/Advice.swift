/// Advice that never changes an answer: warnings about likely mistakes (empty relations,
/// singleton variables, capitalised constants, constants that occur nowhere) and suggestions.
extension Session {
  // MARK: - Warnings

  /// The constant a capitalised variable most likely meant: its lowercase spelling, when that is
  /// a symbol stored in the column the variable stands in (or anywhere, while the relation has
  /// no rows yet). `leader_of(P, Japan)` in a rule body matches every row, while 'japan' was meant.
  func constantMeant(by variable: String, in relation: String, column: Int) -> String? {
    // Short names (X, Who) are the usual variables; 'Japan' is the usual mistake.
    guard variable.count >= 3, let first = variable.first, first.isUppercase else { return nil }
    let constant = first.lowercased() + variable.dropFirst()
    guard let value = database.store.existingSymbol(constant) else { return nil }
    guard let table = database.tables[relation], table.rows.count > 0 else { return constant }
    let rows = table.rows
    guard column < rows.arity else { return nil }
    for r in 0..<rows.count where rows[r, column] == value { return constant }
    return nil
  }

  /// For a query with no answers: warns about each constant that occurs nowhere in its column,
  /// the likeliest reasons (a misspelled constant, or a lowercase name meant as a variable).
  func explainEmptyAnswer(_ q: Query, unknown: Set<String>) {
    // The advice reads the relations' rows: on another engine they are computed here first
    // (natively, only when an answer is empty), so the warnings are the native engine's.
    if options.engine != .native {
      let engine = options.engine
      options.engine = .native
      defer { options.engine = engine }
      try? update(for: q.body, evaluator: Evaluator(database: database, budget: makeBudget()))
    }
    let store = database.store
    for l in q.body {
      guard case .positive(let a) = l else { continue }
      if database.tables[a.name]?.rows.count ?? 0 == 0, let later = reading.laterDefinitions[a.name] {
        report(
          Diagnostic(
            .warning, .advice, "'\(a.name)' has no facts yet: it is first defined further down, on line \(later.line)",
            at: a.nameSpan, hint: "a query sees only the clauses above it; move the query after them"))
        continue
      }
      guard let table = database.tables[a.name], table.rows.count > 0 else { continue }
      // A number or date asked of a column that holds none: the wrong kind of value.
      for (column, t) in a.arguments.enumerated() {
        guard case .constant(let c, let span) = t, let v = store.existingValue(c) else { continue }
        let kind = store.kind(v)
        if kind == .symbol { continue }
        let rows = table.rows
        var sample: Value? = nil
        var sameKind = false
        for r in 0..<rows.count {
          let x = rows[r, column]
          if store.kind(x) == kind { sameKind = true; break }
          if sample == nil { sample = x }
        }
        guard !sameKind, let sample else { continue }
        let columnName = schema[a.name].map { "'\($0.columns[column])'" } ?? "\(column + 1)"
        report(
          Diagnostic(
            .warning, .advice,
            "No answers: column \(columnName) of '\(a.name)' holds no \(kind == .number ? "numbers" : "dates")",
            at: span, hint: "its values look like \(store.source(sample)); write the value the same way"))
      }
      for (column, t) in a.arguments.enumerated() {
        // Only symbols that occur nowhere at all: an unmatched value that exists elsewhere is
        // a legitimate question with no answer.
        guard case .constant(let c, let span) = t, case .symbol(let name) = c, unknown.contains(name) else { continue }
        let rows = table.rows
        var present = false
        var values: Set<Value> = []
        if let v = store.existingValue(c) {
          for r in 0..<rows.count {
            let x = rows[r, column]
            if x == v { present = true; break }
          }
        }
        guard !present else { continue }
        for r in 0..<rows.count { values.insert(rows[r, column]) }
        let texts = values.compactMap { store.symbolText($0) }
        let columnName = schema[a.name].map { "'\($0.columns[column])'" } ?? "\(column + 1)"
        var hint: String? = nil
        if case .symbol(let s) = c {
          if let close = Suggest.closest(to: s, in: texts) {
            hint = "did you mean '\(SymbolSyntax.quoteIfNeeded(close))'?"
          } else if let first = s.unicodeScalars.first, first >= "a" && first <= "z" {
            let variable = s.prefix(1).uppercased() + s.dropFirst()
            hint = "names starting with a lowercase letter are constants; did you mean the variable '\(variable)'?"
          }
        }
        report(
          Diagnostic(
            .warning, .advice,
            "No answers: '\(c)' occurs nowhere in column \(columnName) of '\(a.name)'", at: span, hint: hint))
      }
    }
  }

  /// Warns about `halt.`, Prolog's way to quit, which in dq stores the fact `halt` (a program
  /// the language contract gives that meaning). Once, while `halt` holds no fact yet; the
  /// spelling `halt().` stores it without the warning.
  func warnAboutHalt(_ fact: Rule) {
    guard fact.head.name == "halt", fact.head.arguments.isEmpty, !fact.head.span.text.contains("("),
      database.tables["halt"]?.rows.count ?? 0 == 0, schema["halt"]?.declared != true
    else { return }
    let hint =
      frontEnd.isShell
      ? "to leave dq, type .quit (or \\q, or press Ctrl-D); '.retract halt.' removes the fact"
      : "a script stops at its end or at '.quit'; write 'halt().' to store the fact without this warning"
    report(Diagnostic(.warning, .advice, "'halt.' does not quit dq: it stores the fact 'halt'", at: fact.head.span, hint: hint))
  }

  /// Warns about a named variable that occurs only once in a rule: often a typo of another.
  func warnAboutSingletons(_ statements: [Statement]) {
    for s in statements {
      guard case .rule(let r) = s, !r.body.isEmpty else { continue }
      var counts: [String: Int] = [:]
      var spans: [String: SourceSpan] = [:]
      // Where a variable stands directly as an argument of a positive body atom.
      var places: [String: (relation: String, column: Int)] = [:]
      func visit(_ t: Term) {
        switch t {
        case .variable(let v, let span):
          counts[v, default: 0] += 1
          if spans[v] == nil { spans[v] = span }
        case .constant: break
        case .binary(_, let a, let b, _): visit(a); visit(b)
        case .negate(let a, _): visit(a)
        }
      }
      func visit(_ l: Literal) {
        switch l {
        case .positive(let a):
          for (column, t) in a.arguments.enumerated() {
            if case .variable(let v, _) = t, places[v] == nil { places[v] = (a.name, column) }
          }
          a.arguments.forEach(visit)
        case .negative(let a, _): a.arguments.forEach(visit)
        case .comparison(_, let a, let b, _): visit(a); visit(b)
        case .aggregate(let g):
          // Variables inside braces are what the aggregate ranges over: one occurrence is
          // normal there, so they count only as uses of variables from outside.
          visit(g.result)
          for v in g.body.variables { insideAggregates.insert(v) }
        }
      }
      var insideAggregates: Set<String> = []
      r.head.arguments.forEach(visit)
      r.body.forEach(visit)
      for (v, n) in counts.sorted(by: { $0.key < $1.key }) where n == 1 && !v.hasPrefix("_") && !insideAggregates.contains(v) {
        guard let span = spans[v] else { continue }
        // Used once in a rule and spelled like a constant of its column: the constant was meant.
        // (In a query a variable used once is the normal way to ask for a column.)
        if let place = places[v], let constant = constantMeant(by: v, in: place.relation, column: place.column) {
          report(
            Diagnostic(
              .warning, .advice, "'\(v)' is a variable, so it matches every value of this column", at: span,
              hint: "names starting with an uppercase letter are variables; the constant is '\(constant)'"))
          continue
        }
        // A typo usually leaves two singletons: 'Zz' here and 'Z' there.
        let others = counts.filter { $0.key != v && $0.value == 1 && !$0.key.hasPrefix("_") }.map(\.key)
        let typo = Suggest.closest(to: v, in: Array(others)).map { "did you mean '\($0)'? " } ?? ""
        report(
          Diagnostic(
            .warning, .advice, "Variable '\(v)' occurs only once in this rule", at: span,
            hint: typo + "write '_' (or a name starting with '_') if any value will do"))
      }
    }
  }

  /// Warns once per name about relations read by rule bodies that nothing defines: no facts,
  /// no rules, no declaration, here or before.
  func warnAboutEmptyRelations(inRulesOf statements: [Statement]) {
    var defined = definedRelations()
    for s in statements {
      switch s {
      case .fact(let r), .rule(let r): defined.insert(r.head.name)
      case .facts(let b): defined.insert(b.name)
      case .command("import", let argument, _):
        let words = argument.split(separator: " ").map(String.init)
        if let last = words.last { defined.insert(last) }
        // An event export without RELATION fills its format's own relation: the one
        // `--format` names, or either when the format is recognised from the file.
        if let f = words.firstIndex(of: "--format"), f + 1 < words.count, let layout = EventLayout.named(words[f + 1]) {
          defined.insert(layout.relation)
        } else if words.count == 1 {
          defined.formUnion([EventLayout.gdelt.relation, EventLayout.icews.relation])
        }
      case .declaration(let d): defined.insert(d.name)
      default: break
      }
    }
    for s in statements {
      if case .rule(let r) = s { warnAboutEmpty(r.body, defined: defined) }
    }
  }

  /// Warns about relations a query reads that nothing defines, as the query runs: facts loaded
  /// by `.load` or `.import` before it count, and so do clauses further down (the query then
  /// gets the "first defined further down" warning instead, if it has no answers).
  func warnAboutEmptyRelations(in query: Query) {
    warnAboutEmpty(query.body, defined: definedRelations().union(reading.laterDefinitions.keys))
  }

  /// Relations with facts or rules now.
  private func definedRelations() -> Set<String> {
    var defined = Set(rules.map(\.head.name))
    for (name, t) in database.tables where t.factRows.count > 0 || t.hasRules { defined.insert(name) }
    return defined
  }

  private func warnAboutEmpty(_ body: [Literal], defined: Set<String>) {
    func visit(_ l: Literal) {
      switch l {
      case .positive(let a), .negative(let a, _):
        guard !defined.contains(a.name), schema[a.name]?.declared != true, reading.warnedEmpty.insert(a.name).inserted else { return }
        // With --engine postgres, a table of the server by that name is what it reads.
        if isServerRelation(a.name) { return }
        let candidates = Array(defined) + schema.relations.keys.filter { schema[$0]?.declared == true }
        let hint = Suggest.closest(to: a.name, in: candidates).map { "did you mean '\($0)'?" }
        report(Diagnostic(.warning, .advice, "Relation '\(a.name)' has no facts and no rules, so it is empty", at: a.nameSpan, hint: hint))
      case .aggregate(let g): g.body.forEach(visit)
      case .comparison: break
      }
    }
    body.forEach(visit)
  }
}

/// "Did you mean" suggestions by edit distance.
public enum Suggest {
  /// The candidate closest to `word`, if it is close enough to be a likely typo.
  public static func closest(to word: String, in candidates: [String]) -> String? {
    var best: (String, Int)? = nil
    let limit = max(1, min(3, word.count / 3))
    for c in Set(candidates) where c != word {
      let d = distance(word, c)
      // A suggestion must keep something of the name: 'q' is one edit from 'p' but unrelated.
      guard d <= limit, d < min(word.count, c.count) || c.hasPrefix(word) || word.hasPrefix(c) else { continue }
      if let b = best, d > b.1 || (d == b.1 && c >= b.0) { continue }
      best = (c, d)
    }
    if let best { return best.0 }
    // A prefix of a longer name: `leader` for `leader_of`.
    guard word.count >= 3 else { return nil }
    return candidates.filter { $0.hasPrefix(word) && $0 != word }.min { ($0.count, $0) < ($1.count, $1) }
  }

  /// Levenshtein distance, with a transposition counted as one edit.
  public static func distance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev2 = [Int](repeating: 0, count: y.count + 1)
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
      cur[0] = i
      for j in 1...y.count {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] { cur[j] = min(cur[j], prev2[j - 2] + 1) }
      }
      (prev2, prev, cur) = (prev, cur, prev2)
    }
    return prev[y.count]
  }
}
