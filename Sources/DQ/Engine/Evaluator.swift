/// Bottom-up evaluation: runs strata in order to their least fixpoint, semi-naively.
final class Evaluator {
  let database: Database
  let budget: Budget
  private let executor: Executor
  /// Called after each round of a recursive stratum with the rows each relation gained.
  var onRound: ((_ stratum: StratumPlan, _ round: Int, _ added: [String: Range<Int>]) -> Void)?

  init(database: Database, budget: Budget) {
    self.database = database
    self.budget = budget
    self.executor = Executor(store: database.store, budget: budget)
  }

  /// Recomputes a stratum from its explicit facts.
  func evaluate(_ stratum: StratumPlan) throws(EvaluationError) {
    // Once computed, a relation needs no deduplication table until it is written again.
    defer { for name in stratum.relations { database.tables[name]?.rows.settle() } }
    var versions: [String: RelationVersions] = [:]
    for name in stratum.relations {
      guard let table = database.tables[name] else { continue }
      table.rows.removeAll()
      if let facts = table.facts {
        table.rows.reserve(facts.count)
        for r in 0..<facts.count { table.rows.insert(facts.data + r * facts.arity) }
      }
      versions[name] = RelationVersions(table.rows)
      versions[name]?.beginFirstRound()
    }
    // First round: every rule over full relations.
    for rule in stratum.firstRound {
      try run(rule, versions)
    }
    guard stratum.recursive else { return }
    var round = 1
    while true {
      var any = false
      var added: [String: Range<Int>] = [:]
      for name in stratum.relations {
        if versions[name]?.mergeDeltaIntoFullAndPromoteNew() == true { any = true }
        if let v = versions[name] { added[name] = v.bounds(.delta).0..<v.bounds(.delta).1 }
      }
      onRound?(stratum, round, added)
      guard any else { return }
      try budget.check(nil)
      for rule in stratum.deltaVersions {
        // The delta atom is planned first; skip versions whose delta is empty.
        if let step = rule.body.steps.first, step.range == .delta, versions[step.relationName]?.hasDelta == false {
          continue
        }
        try run(rule, versions)
      }
      round += 1
    }
  }

  /// Sets the row ranges of each atom step, runs the rule, and inserts what it derived.
  private func run(_ rule: CompiledRule, _ versions: [String: RelationVersions]) throws(EvaluationError) {
    for step in rule.body.steps where step.relation != nil {
      if let v = versions[step.relationName] {
        (step.low, step.high) = v.bounds(step.range)
      } else {
        (step.low, step.high) = (0, Int.max)
      }
    }
    try executor.run(rule)
    guard let head = rule.headName, let table = database.tables[head] else { return }
    let arity = table.arity
    let rows = arity == 0 ? min(executor.emitted, 1) : executor.outputCount / arity
    var fresh = 0
    if arity == 0 {
      if rows > 0 { var none: Value = 0; if table.rows.insert(&none) { fresh = 1 } }
    } else {
      fresh = table.rows.insertAll(executor.output, count: rows)
    }
    try budget.countDerived(fresh, rule.span)
  }

  /// Runs a compiled query and returns its distinct answers as rows.
  func answers(_ query: CompiledRule) throws(EvaluationError) -> Relation {
    try executor.run(query)
    let arity = query.body.projection.count
    let result = Relation(arity: arity)
    if arity == 0 {
      if executor.emitted > 0 { var none: Value = 0; result.insert(&none) }
      return result
    }
    _ = result.insertAll(executor.output, count: executor.outputCount / arity)
    return result
  }
}
