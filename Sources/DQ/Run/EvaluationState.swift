/// What has been computed from the program and what is stale: for each relation a content
/// version (bumped when its tuples change) and a definition version (bumped when its rules
/// change), and for each stratum the versions of its inputs when it was last evaluated. A
/// stratum whose stamp still matches is not evaluated again; one whose inputs changed by
/// tuples the change log still holds is brought up to date incrementally (`Incremental.swift`).
///
/// The facts of a relation with rules have a content version of their own, under "!name".
struct EvaluationState {
  var contentVersion: [String: Int] = [:]
  var definitionVersion: [String: Int] = [:]
  /// Per stratum (its relations joined by commas): the versions its inputs had when it was
  /// last computed ("#" for the fingerprint of its rules, "!name" for a member's facts,
  /// "=name" for a member's own contents, which only the stratum changes).
  var stamps: [String: [String: Int]] = [:]
  /// The tuples each content version added and removed, per relation (or "!name"), oldest
  /// first; versions at or below `floor` are not logged (their changes were too large to keep,
  /// or not known tuple by tuple), so a stamp that old means computing again.
  var changes: [String: [Change]] = [:]
  var floor: [String: Int] = [:]
  /// Tuples logged per relation: past `logLimit` the log is dropped (a reset).
  var logged: [String: Int] = [:]
  /// Strata brought up to date from their inputs' changes, and strata computed from scratch,
  /// since the session began (for the tests: an update that silently recomputed would pass
  /// every comparison of answers).
  var incrementalUpdates = 0
  var recomputations = 0
  /// Updates that gave up over-deleting (and computed the stratum again instead).
  var overDeletionsAbandoned = 0
  /// The derivation ranks of each derived relation's rows (see `Ranks`), as last computed or
  /// updated; a relation whose entry does not describe its current contents has none.
  var ranks: [String: Ranks] = [:]

  /// Tuples a relation's change log may hold before it is dropped: a stratum reading a
  /// relation that changed more than this is computed again rather than updated.
  static let logLimit = 200_000

  /// One content version's changes.
  struct Change {
    let version: Int
    let inserted: [[Value]]
    let deleted: [[Value]]
  }

  /// The tuples of `name` changed in a way not logged tuple by tuple: what reads it is
  /// computed again.
  mutating func contentChanged(_ name: String) {
    contentVersion[name, default: 0] += 1
    changes[name] = nil
    logged[name] = nil
    floor[name] = contentVersion[name]
  }

  /// The tuples of `name` changed by exactly these insertions and deletions (each inserted
  /// tuple was absent, each deleted one present).
  mutating func contentChanged(_ name: String, inserted: [[Value]], deleted: [[Value]]) {
    if inserted.isEmpty && deleted.isEmpty { return }
    let total = logged[name, default: 0] + inserted.count + deleted.count
    guard total <= Self.logLimit else { return contentChanged(name) }
    contentVersion[name, default: 0] += 1
    logged[name] = total
    changes[name, default: []].append(Change(version: contentVersion[name, default: 0], inserted: inserted, deleted: deleted))
  }

  /// The net tuples added to and removed from `name` since version `since`, or nil when the
  /// log does not reach back that far.
  func changes(of name: String, since: Int) -> (inserted: [[Value]], deleted: [[Value]])? {
    if since < floor[name, default: 0] { return nil }
    var inserted: Set<[Value]> = []
    var deleted: Set<[Value]> = []
    for c in changes[name] ?? [] where c.version > since {
      for t in c.deleted where inserted.remove(t) == nil { deleted.insert(t) }
      for t in c.inserted where deleted.remove(t) == nil { inserted.insert(t) }
    }
    return (Array(inserted), Array(deleted))
  }

  /// Drops log entries no stamp needs any more (every stratum reading `name` is past them).
  mutating func trimLogs() {
    var oldest: [String: Int] = [:]
    for stamp in stamps.values {
      for (name, v) in stamp { oldest[name] = min(oldest[name] ?? v, v) }
    }
    for (name, log) in changes {
      let keep = log.filter { $0.version > (oldest[name] ?? Int.max) }
      if keep.count == log.count { continue }
      changes[name] = keep.isEmpty ? nil : keep
      logged[name] = keep.reduce(0) { $0 + $1.inserted.count + $1.deleted.count }
    }
  }

  /// The rules of `name` changed.
  mutating func definitionChanged(_ name: String) { definitionVersion[name, default: 0] += 1 }
  /// Nothing computed so far can be trusted (the dataset's rules were set aside).
  mutating func forgetComputed() { stamps = [:] }
}

/// The derivation ranks of a derived relation's rows, kept as the row where each rank begins
/// (no memory per tuple).
///
/// A tuple's rank is the semi-naive round that first derived it: the stratum's facts have rank
/// 0, and every other tuple has a derivation whose tuples of the stratum all have lower ranks.
/// Rows are appended round after round, so ranks never decrease along the rows, and the rank of
/// a row is found by binary search. Ranks are shared by the relations of a stratum (the rounds
/// are the stratum's), so they compare across mutually recursive relations; a relation has an
/// entry only for the rounds that added rows to it.
struct Ranks {
  /// From `row` on, rows have rank `rank` (ranks ascending, rows never decreasing; an entry
  /// whose rows start where the next one's do has none).
  var starts: [(rank: Int, row: Int)]
  /// The content version and row count the ranks describe; any other means none are known.
  var version: Int
  var count: Int

  /// The rank of row `row`: that of the last entry starting at or before it.
  func rank(ofRow row: Int) -> Int {
    var low = 0, high = starts.count
    while low < high {
      let mid = (low + high) / 2
      if starts[mid].row <= row { low = mid + 1 } else { high = mid }
    }
    return low > 0 ? starts[low - 1].rank : 0
  }

  /// The first row of rank `k` or higher (the row count when there is none).
  func limit(below k: Int) -> Int {
    var low = 0, high = starts.count
    while low < high {
      let mid = (low + high) / 2
      if starts[mid].rank < k { low = mid + 1 } else { high = mid }
    }
    return low < starts.count ? starts[low].row : count
  }

  var highest: Int { starts.last?.rank ?? 0 }

  /// The entries once the given rows (ascending) are removed: the rows that stay keep their ranks.
  func removing(_ sorted: [Int]) -> [(rank: Int, row: Int)] {
    var out = starts
    var k = 0
    for i in out.indices {
      while k < sorted.count && sorted[k] < starts[i].row { k += 1 }
      out[i].row = starts[i].row - k
    }
    return out
  }
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

  /// The explicit facts of `name` changed in a way not known tuple by tuple (an import): what
  /// reads them is computed again.
  func noteFactsChanged(_ name: String) {
    evaluation.contentChanged(factsKey(name))
  }

  /// The explicit facts of `name` gained and lost exactly these tuples.
  func noteFactsChanged(_ name: String, inserted: [[Value]], deleted: [[Value]] = []) {
    evaluation.contentChanged(factsKey(name), inserted: inserted, deleted: deleted)
  }

  /// Where the versions of a relation's facts are kept: the relation's own (it holds just its
  /// facts) or, for a relation with rules, "!name".
  func factsKey(_ name: String) -> String {
    database.tables[name]?.hasRules == true ? "!" + name : name
  }


  /// The sorted distinct answers of a query.
  public func answers(_ q: Query, budget: Budget) throws(EvaluationError) -> [[Value]] {
    try bindings(of: q.body, variables: q.shownVariables, budget: budget)
  }

  /// A budget with the session's limits (values past `Limits`' ceilings mean no limit).
  public func makeBudget() -> Budget {
    let budget = Budget(
      maxTuples: Limits.budgetMaxTuples(options.maxTuples), timeout: Limits.budgetTimeout(options.timeout),
      maxBytes: options.maxMemory, interrupted: frontEnd.interruption)
    budget.threads = options.threads
    budget.parallelMinimumDelta = options.parallelMinimumDelta
    budget.probeAheadFrom = options.probeAheadFrom
    budget.parallelWaveValues = options.parallelWaveValues
    budget.parallelBalanceRows = options.parallelBalanceRows
    budget.otherOrderMargin = options.otherOrderMargin
    return budget
  }

  /// Brings every relation up to date (for listings and completion).
  public func evaluateAll(budget: Budget) throws(EvaluationError) {
    try update(relations: schema.relations.keys, budget: budget)
  }

  /// Brings the named relations of the program, and what they read, up to date.
  func update(relations names: some Sequence<String>, budget: Budget) throws(EvaluationError) {
    let atoms = names.compactMap { schema.relations[$0] }.map { r in
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

  /// Brings the strata the literals depend on up to date: a stratum whose inputs are as they
  /// were is left alone; one whose inputs changed by logged tuples is updated incrementally
  /// (`Incremental.swift`); any other is computed again. Under `.steps` every stratum is
  /// computed again, so its rounds can be shown.
  func update(for body: [Literal], evaluator: Evaluator) throws(EvaluationError) {
    guard let strata = Stratifier.strata(neededBy: body, rules: rules) else { return }
    defer { evaluation.trimLogs() }
    var number = 0
    for (s, stratumRules) in strata {
      number += 1
      if stratumRules.isEmpty {
        // A relation whose last rule went (a file loaded again without it) holds its facts.
        for m in s.relations where database.tables[m]?.hasRules == true {
          database.keepOnlyFacts(m)
          evaluation.contentChanged(m)
        }
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
      stamp["#"] = rulesFingerprint(stratumRules)
      for m in s.relations {
        stamp["!" + m] = contentVersion["!" + m, default: 0]
        stamp["=" + m] = contentVersion[m, default: 0]
      }
      let key = s.relations.joined(separator: ",")
      let previous = stamps[key]
      if previous == stamp && tracing == nil { continue }
      stamps[key] = nil
      if tracing == nil, let previous,
        try updateIncrementally(s, rules: stratumRules, old: previous, new: stamp, evaluator: evaluator)
      {
        for m in s.relations { stamp["=" + m] = contentVersion[m, default: 0] }
        stamps[key] = stamp
        evaluation.incrementalUpdates += 1
        continue
      }
      // Computed again under `.steps` with nothing changed: the same tuples, nothing to log.
      if previous != stamp {
        for m in s.relations { evaluation.contentChanged(m) }
      }
      evaluation.recomputations += 1
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
      // Edits may follow: what the first of them would build from every row is kept or
      // built now (`prepareForEdits`), within half the memory limit.
      let preparing = readyingForEdits
      do {
        try evaluator.evaluate(plan, keepTables: preparing)
      } catch {
        // Emptied by the evaluator: whatever read them must not trust their log.
        for m in s.relations { evaluation.contentChanged(m) }
        evaluator.onRound = nil
        throw error
      }
      evaluator.onRound = nil
      if preparing {
        if options.maxMemory > 0 && Memory.held >= options.maxMemory / 2 {
          // The kept tables took it past half the limit: they go, as they would have, so a
          // program that fits the limit without readying still fits it.
          for m in s.relations { database.tables[m]?.rows.settle() }
        } else {
          prepareForEdits(s, rules: stratumRules)
        }
      }
      for m in s.relations { recordRanks(m, evaluator.rankStarts[m] ?? [(0, 0)]) }
      if let trace = tracing, !s.recursive {
        for m in s.relations {
          let rows = database.tables[m]?.rows.count ?? 0
          trace("  \(m): \(rows) row\(rows == 1 ? "" : "s")\n")
        }
      }
      for m in s.relations { stamp["=" + m] = contentVersion[m, default: 0] }
      stamps[key] = stamp
    }
  }


  /// Keeps the derivation ranks of a relation just computed or updated (`Ranks`).
  func recordRanks(_ name: String, _ starts: [(rank: Int, row: Int)]) {
    let count = database.tables[name]?.rows.count ?? 0
    evaluation.ranks[name] = Ranks(starts: starts, version: contentVersion[name, default: 0], count: count)
  }

  /// The derivation ranks of a relation, when known for what it holds now.
  func currentRanks(_ name: String) -> Ranks? {
    guard let r = evaluation.ranks[name], r.version == contentVersion[name, default: 0],
      r.count == database.tables[name]?.rows.count
    else { return nil }
    return r
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
