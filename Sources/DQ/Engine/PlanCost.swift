/// Estimates of what a run of a bound rule costs, to choose between a delta version's two
/// orders (`RulePlan.alternative`) before each round.
extension BoundRule {
  /// Roughly how many rows and probes one run visits with the row ranges set on its steps now:
  /// each step costs the bindings reaching it times what it reads for each (a scan its rows, a
  /// lookup one probe plus the rows per key, a membership test or filter one probe), and
  /// passes on the bindings times the rows it matches; each binding reaching the end is a
  /// tuple to deduplicate. Rows per key are the rows in the step's range over the distinct
  /// keys of its index. An index not built yet is built (or its relation clustered) when
  /// `building`, as the run would; otherwise the estimate is nil: no index is built only to
  /// be costed (the other order of a closure, `tc(X, Z) :- tc(X, Y), e(Y, Z)` from `e`, would
  /// need one on the closure's second column).
  func estimatedWork(building: Bool) -> Double? {
    if building { body.clusterForFirstLookups() }
    var bindings = 1.0, work = 0.0
    for step in body.steps {
      switch step.kind {
      case .scan:
        let rows = Double(step.rowsInRange)
        work += bindings * max(1, rows)
        bindings *= step.existsOnly ? min(1, rows) : rows
      case .lookup:
        guard let matches = step.estimatedMatches(building: building) else { return nil }
        work += bindings * (1 + matches)
        bindings *= step.existsOnly ? min(1, matches) : matches
      case .member, .absent, .filter, .aggregate:
        work += bindings
      case .assign:
        break
      }
    }
    return work + bindings
  }

  /// Builds the indexes the rule's lookups read that are not built yet, as the run would when
  /// it first reads them (and as `ParallelRound.prepare` does before a split run), so what is
  /// built never depends on the thread count, and neither do the estimates that read it.
  func buildLookupIndexes() {
    body.clusterForFirstLookups()
    for step in body.steps where step.kind == .lookup { _ = step.estimatedMatches(building: true) }
  }
}

extension BoundSteps {
  /// Sorts each relation of facts not sorted yet by the index of the first step that reads it
  /// by one (in step order, aggregates' bodies where they stand), as a run does before it
  /// starts (`Executor.run`): whatever reaches a relation first, an estimate or a run, the same
  /// index sorts it, so row numbers never depend on the thread count.
  func clusterForFirstLookups() {
    for s in steps {
      if let index = s.index, let relation = s.relation { relation.clusterForFirstLookup(by: index) }
      if let a = s.aggregate { a.body.clusterForFirstLookups() }
    }
  }
}

extension BoundStep {
  /// The rows of the relation in the step's range now.
  var rowsInRange: Int {
    guard let relation else { return 0 }
    return max(0, min(high, relation.count) - low)
  }

  /// The rows in range one lookup matches on average (see `BoundRule.estimatedWork`); nil
  /// when its index is not built and `building` is false.
  func estimatedMatches(building: Bool) -> Double? {
    guard let relation, let index else { return 1 }
    if !index.isBuilt {
      guard building else { return nil }
      relation.clusterForFirstLookup(by: index)
      if !index.isClustered { index.build() }
    }
    return Double(rowsInRange) / Double(max(1, index.distinctKeys))
  }
}
