/// What has been computed from the program and what is stale: for each relation a content
/// version (bumped when its tuples change) and a definition version (bumped when its rules or
/// the facts of a relation with rules change), and for each stratum the versions of its inputs
/// when it was last evaluated. A stratum whose stamp still matches is not evaluated again.
/// This is the part incremental evaluation replaces.
struct EvaluationState {
  var contentVersion: [String: Int] = [:]
  var definitionVersion: [String: Int] = [:]
  /// Per stratum (its relations joined by commas): the versions its inputs had when it was
  /// last computed ("#name" for a member's definition).
  var stamps: [String: [String: Int]] = [:]

  /// The tuples of `name` changed.
  mutating func contentChanged(_ name: String) { contentVersion[name, default: 0] += 1 }
  /// The rules of `name` (or the facts of a relation with rules) changed.
  mutating func definitionChanged(_ name: String) { definitionVersion[name, default: 0] += 1 }
  /// Nothing computed so far can be trusted (the dataset's rules were set aside).
  mutating func forgetComputed() { stamps = [:] }
}

/// The evaluation driver: brings the relations a query reads up to date, stratum by stratum,
/// and computes its answers.
extension Session {
  var contentVersion: [String: Int] {
    get { evaluation.contentVersion }
    _modify { yield &evaluation.contentVersion }
  }
  var definitionVersion: [String: Int] {
    get { evaluation.definitionVersion }
    _modify { yield &evaluation.definitionVersion }
  }
  var stamps: [String: [String: Int]] {
    get { evaluation.stamps }
    _modify { yield &evaluation.stamps }
  }

  func noteFactsChanged(_ name: String) {
    if database.tables[name]?.hasRules == true {
      definitionVersion[name, default: 0] += 1
    } else {
      contentVersion[name, default: 0] += 1
    }
  }


  /// The sorted distinct answers of a query.
  public func answers(_ q: Query, budget: Budget) throws(EvaluationError) -> [[Value]] {
    try bindings(of: q.body, variables: q.shownVariables, budget: budget)
  }

  /// A budget with the session's limits (values past `Limits`' ceilings mean no limit).
  public func makeBudget() -> Budget {
    Budget(
      maxTuples: Limits.budgetMaxTuples(options.maxTuples), timeout: Limits.budgetTimeout(options.timeout),
      maxBytes: options.maxMemory, interrupted: frontEnd.interruption)
  }

  /// Brings every relation up to date (for listings and completion).
  public func evaluateAll(budget: Budget) throws(EvaluationError) {
    let atoms = schema.relations.values.map { r in
      Literal.positive(Atom(name: r.name, arguments: [], span: r.origin ?? Self.nowhere, nameSpan: r.origin ?? Self.nowhere))
    }
    try update(for: atoms, evaluator: Evaluator(database: database, budget: budget))
  }

  static let nowhere = SourceSpan(file: SourceFile(name: "<none>", text: ""), start: 0, end: 0, line: 1, column: 1)

  /// The sorted distinct bindings of `variables` that satisfy `body`.
  public func bindings(of body: [Literal], variables: [String], budget: Budget) throws(EvaluationError) -> [[Value]] {
    let clock = ContinuousClock()
    var mark = clock.now
    // Time spent and tuples derived count even when the query is stopped (timeout, Ctrl-C).
    var evaluating = true
    defer {
      if evaluating { lastTimings.evaluate += clock.now - mark }
      lastDerived = budget.derived
    }
    var rows: [[Value]]
    if options.engine != .native {
      rows = try postgresBindings(of: body, variables: variables, budget: budget)
      lastTimings.evaluate += clock.now - mark
      mark = clock.now
      evaluating = false
    } else {
      let evaluator = Evaluator(database: database, budget: budget)
      try update(for: body, evaluator: evaluator)
      lastTimings.evaluate += clock.now - mark
      mark = clock.now
      evaluating = false
      let compiled = Planner.plan(body: body, projection: variables, size: database.rowCount)
      lastTimings.plan += clock.now - mark
      mark = clock.now
      evaluating = true
      let rel = try evaluator.answers(compiled)
      lastTimings.evaluate += clock.now - mark
      mark = clock.now
      evaluating = false
      // The sorted answers are arrays of their own: their memory counts toward the budget too.
      try budget.checkMemory(nil, extra: rel.count &* (rel.arity &* MemoryLayout<Value>.stride &+ 40))
      rows = (0..<rel.count).map { rel.row($0) }
    }
    let store = database.store
    rows.sort { a, b in
      for i in 0..<a.count {
        let c = store.compare(a[i], b[i])
        if c != 0 { return c < 0 }
      }
      return false
    }
    return rows
  }

  /// Recomputes the strata the literals depend on whose inputs or definitions changed.
  func update(for body: [Literal], evaluator: Evaluator) throws(EvaluationError) {
    guard let strata = Stratifier.strata(neededBy: body, rules: rules) else { return }
    var number = 0
    for (s, stratumRules) in strata {
      number += 1
      if stratumRules.isEmpty {
        if let trace = tracing {
          let rows = s.relations.map { database.tables[$0]?.rows.count ?? 0 }.reduce(0, +)
          trace("Stratum \(number): \(s.relations.joined(separator: ", ")): facts only, \(rows) row\(rows == 1 ? "" : "s")\n")
        }
        continue
      }
      let members = Set(s.relations)
      var stamp: [String: Int] = [:]
      for r in stratumRules {
        for l in r.body {
          for n in Self.relationNames(l) where !members.contains(n) { stamp[n] = contentVersion[n, default: 0] }
        }
      }
      for m in s.relations { stamp["#" + m] = definitionVersion[m, default: 0] }
      let key = s.relations.joined(separator: ",")
      if stamps[key] == stamp && tracing == nil { continue }
      for m in s.relations { contentVersion[m, default: 0] += 1 }
      stamps[key] = nil
      let plan = Planner.plan(stratum: s.relations, recursive: s.recursive, rules: stratumRules, size: database.rowCount)
      if let trace = tracing {
        let kind = s.recursive ? "recursive, evaluated in rounds until nothing is new" : "computed once from the strata before"
        trace("Stratum \(number): \(s.relations.joined(separator: ", ")): \(stratumRules.count) rule\(stratumRules.count == 1 ? "" : "s"), \(kind)\n")
        evaluator.onRound = { [unowned self] _, round, added in
          let total = added.values.reduce(0) { $0 + $1.count }
          if total == 0 {
            trace("  round \(round): nothing new, so this is the fixpoint\n")
            return
          }
          for name in s.relations {
            guard let range = added[name], !range.isEmpty, let rows = self.database.tables[name]?.rows else { continue }
            let shown = range.prefix(Self.stepsShown).map { r in
              "(" + rows.row(r).map(self.database.store.source).joined(separator: ", ") + ")"
            }
            let more = range.count > Self.stepsShown ? " … and \(range.count - Self.stepsShown) more" : ""
            trace("  round \(round): +\(range.count) \(name): \(shown.joined(separator: " "))\(more)\n")
          }
        }
      }
      try evaluator.evaluate(plan)
      evaluator.onRound = nil
      if let trace = tracing, !s.recursive {
        for m in s.relations {
          let rows = database.tables[m]?.rows.count ?? 0
          trace("  \(m): \(rows) row\(rows == 1 ? "" : "s")\n")
        }
      }
      stamps[key] = stamp
    }
  }


  /// The symbols written in the literals.
  static func symbols(in body: [Literal]) -> [String] {
    var out: [String] = []
    func visit(_ t: Term) {
      switch t {
      case .constant(.symbol(let s), _): out.append(s)
      case .binary(_, let a, let b, _): visit(a); visit(b)
      case .negate(let a, _): visit(a)
      default: break
      }
    }
    for l in body {
      switch l {
      case .positive(let a), .negative(let a, _): a.arguments.forEach(visit)
      case .comparison(_, let a, let b, _): visit(a); visit(b)
      case .aggregate(let g): out += symbols(in: g.body)
      }
    }
    return out
  }

  static func relationNames(_ l: Literal) -> [String] { l.relationNames }
}
