/// Bottom-up evaluation: runs strata in order to their least fixpoint, semi-naively.
final class Evaluator {
  let database: Database
  let budget: Budget
  private let executor: Executor
  /// Called after each round of a recursive stratum with the rows each relation gained.
  var onRound: ((_ stratum: StratumPlan, _ round: Int, _ added: [String: Range<Int>]) -> Void)?
  /// For each relation of the stratum last computed (`evaluate`) or extended (`extend`), where
  /// the rows of each round begin, for the rounds that added rows, in order: the rounds are the
  /// tuples' derivation ranks (see `Ranks`). `evaluate` gives its facts rank 0 and its first
  /// round rank 1; `extend` numbers its rounds from 1 too (the caller puts them above the ranks
  /// kept). Only relations that gained rows get an entry, so a round costs what changed.
  private(set) var rankStarts: [String: [(rank: Int, row: Int)]] = [:]

  init(database: Database, budget: Budget) {
    self.database = database
    self.budget = budget
    self.executor = Executor(store: database.store, budget: budget)
  }

  /// Recomputes a stratum from its explicit facts. When a limit stops it, its relations are
  /// emptied and their memory released (the session recomputes them when next asked).
  /// `keepTables` keeps the relations' deduplication tables, which an edit that follows would
  /// otherwise rebuild from every row (the session keeps them when edits may follow).
  func evaluate(_ plan: StratumPlan, keepTables: Bool = false) throws(EvaluationError) {
    let stratum = PlanBinder.bind(plan, to: database)
    keepingTables = keepTables
    defer { keepingTables = false }
    do {
      try compute(stratum)
    } catch {
      for name in plan.relations { database.tables[name]?.rows.removeAllReleasingMemory() }
      throw error
    }
    // Once computed, a relation needs no deduplication table until it is written again.
    if !keepTables {
      for name in plan.relations { database.tables[name]?.rows.settle() }
    }
  }

  private func compute(_ bound: BoundStratum) throws(EvaluationError) {
    let stratum = bound.plan
    var versions: [String: RelationVersions] = [:]
    rankStarts = [:]
    for name in stratum.relations {
      rankStarts[name] = [(0, 0)]
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
    for (j, rule) in bound.firstRound.enumerated() where try !runFirstSplit(j, bound, versions) {
      try run(rule, versions)
    }
    try rounds(bound, versions)
  }

  /// Continues semi-naive evaluation of a stratum from what its relations hold now (a fixpoint
  /// computed before): `seed` adds rows that count as derived in the first round, the rules of
  /// `first` run once over full relations, and then the stratum's delta versions run round
  /// after round over what is new until nothing is. Rows are only appended, so the rows kept
  /// keep their numbers. When a limit stops it, the caller drops the stratum's relations.
  /// `giveUp`, asked after every round, may stop it early: then it returns false and what the
  /// relations hold is not a fixpoint.
  @discardableResult
  func extend(
    _ plan: StratumPlan, first: [RulePlan], giveUp: (() -> Bool)? = nil, seed: () -> Void
  ) throws(EvaluationError) -> Bool {
    let stratum = PlanBinder.bind(plan, to: database)
    let firstRound = first.map { PlanBinder.bind($0, to: database) }
    // An extended stratum keeps its tables (the next edit reads them): nothing is stored
    // without them (`Relation.appendDistinct`).
    keepingTables = true
    defer { keepingTables = false }
    var versions: [String: RelationVersions] = [:]
    rankStarts = [:]
    for name in plan.relations {
      guard let table = database.tables[name] else { continue }
      versions[name] = RelationVersions(table.rows)
      versions[name]?.beginFirstRound()
    }
    seed()
    for rule in firstRound { try run(rule, versions) }
    if giveUp?() == true { return false }
    return try rounds(stratum, versions, giveUp: giveUp)
  }

  /// The rounds of a recursive stratum after the first, until nothing is new (true), or until
  /// `giveUp` says to stop (false).
  @discardableResult
  private func rounds(
    _ bound: BoundStratum, _ start: [String: RelationVersions], giveUp: (() -> Bool)? = nil
  ) throws(EvaluationError) -> Bool {
    let stratum = bound.plan
    var versions = start
    guard stratum.recursive else {
      noteGrowth(stratum.relations, versions, round: 1)
      return true
    }
    // Each round touches only what changed: the relations that gained rows or still have a
    // delta, and the delta versions of those (its delta atom is planned first). A stratum of
    // thousands of relations that change a few at a time costs the changes, not the stratum.
    var position: [String: Int] = [:]
    for (i, name) in stratum.relations.enumerated() { position[name] = i }
    var versionsReading: [[Int]] = Array(repeating: [], count: stratum.relations.count)
    var everyRound: [Int] = []
    for (v, rule) in bound.deltaVersions.enumerated() {
      if let step = rule.body.steps.first, step.range == .delta, let p = position[step.relationName] {
        versionsReading[p].append(v)
      } else {
        everyRound.append(v)
      }
    }
    var pending = Set(stratum.relations.indices)
    // Per-thread copies of the delta versions that run split across threads, made when first needed.
    var copies: [Int: [BoundRule]] = [:]
    var round = 1
    while true {
      // The rows the round just run added (the first round's on the first pass) have its rank.
      noteGrowth(pending.map { stratum.relations[$0] }, versions, round: round)
      var withDelta: [Int] = []
      for p in pending.sorted() {
        if versions[stratum.relations[p]]?.mergeDeltaIntoFullAndPromoteNew() == true { withDelta.append(p) }
      }
      if let onRound {
        var added: [String: Range<Int>] = [:]
        for name in stratum.relations {
          if let v = versions[name] { added[name] = v.bounds(.delta).0..<v.bounds(.delta).1 }
        }
        onRound(stratum, round, added)
      }
      if withDelta.isEmpty { return true }
      if giveUp?() == true { return false }
      try budget.check(nil)
      // Relations with a delta now must move it to "old" next round, even if nothing is added.
      pending = Set(withDelta)
      grew = []
      for v in (everyRound + withDelta.flatMap { versionsReading[$0] }).sorted() {
        let rule = bound.deltaVersions[v]
        if let (other, work) = cheaperAlternative(rule, versions) {
          database.alternativeRuns += 1
          if try !runSplit(v, bound, versions, &copies, otherOrderWork: work) { try run(other, versions) }
        } else if try !runSplit(v, bound, versions, &copies) {
          rule.buildLookupIndexes()
          try run(rule, versions)
        }
      }
      for name in grew { if let p = position[name] { pending.insert(p) } }
      round += 1
    }
  }

  /// Records where the rows of round `round` begin in those of `relations` it added rows to
  /// (appended after the delta, not merged yet).
  private func noteGrowth(_ relations: [String], _ versions: [String: RelationVersions], round: Int) {
    for name in relations {
      guard let v = versions[name], v.relation.count > v.deltaEnd else { continue }
      rankStarts[name, default: []].append((round, v.deltaEnd))
    }
  }

  /// Runs each rule once over what the relations hold, inserting what it derives into its
  /// head; an atom over a relation named in `limits` reads only the rows before its limit
  /// (rank-based deletion in `Incremental.swift` reads the tuples of lower rank this way).
  func runOnce(_ rules: [RulePlan], limits: [String: Int]) throws(EvaluationError) {
    var versions: [String: RelationVersions] = [:]
    for (name, limit) in limits {
      guard let table = database.tables[name] else { continue }
      versions[name] = RelationVersions(table.rows, upTo: limit)
    }
    for rule in rules { try run(PlanBinder.bind(rule, to: database), versions) }
  }

  /// A delta version's other order (`RulePlan.alternative`) when this round it is estimated
  /// to cost less than half as much as the version (`Budget.otherOrderMargin`), with its
  /// estimated work; else nil. It is considered only when every index it reads is
  /// built already (by the versions' own runs). The estimates read only the relations' sizes
  /// and their indexes' distinct keys, never the thread count, and every delta version builds
  /// its indexes before it runs on any path, so every thread count makes the same choices and
  /// stores the same rows in the same order.
  private func cheaperAlternative(
    _ rule: BoundRule, _ versions: [String: RelationVersions]
  ) -> (BoundRule, Double)? {
    guard let other = rule.alternative else { return nil }
    setRanges(rule, versions)
    setRanges(other, versions)
    guard let work = rule.estimatedWork(building: true), let otherWork = other.estimatedWork(building: false) else {
      return nil
    }
    return otherWork * budget.otherOrderMargin < work ? (other, otherWork) : nil
  }

  /// Sets the row range of each atom step of a rule for this round.
  private func setRanges(_ rule: BoundRule, _ versions: [String: RelationVersions]) {
    for step in rule.body.steps where step.relation != nil {
      if let v = versions[step.relationName] {
        (step.low, step.high) = v.bounds(step.range)
      } else {
        (step.low, step.high) = (0, Int.max)
      }
    }
  }

  /// Whether the stratum being evaluated keeps its relations' tables (`evaluate`'s
  /// `keepTables`): then no rule stores its tuples without them (`Relation.appendDistinct`).
  private var keepingTables = false

  /// Heads that gained rows since the round began.
  private var grew: Set<String> = []

  /// The threads of parallel rounds, made when a round first needs them.
  private lazy var parallel = ParallelRound(threads: budget.threads, store: database.store, budget: budget)

  /// Runs delta version `v` split across threads (`ParallelRound`) when there are threads to
  /// use, it can be split, its delta is large enough and its estimated work is at least 16
  /// times the smallest delta split; returns false (having done nothing) when not. What it
  /// stores, in which order, is what `run` would store.
  ///
  /// With `otherOrderWork`, runs the version's other order (`RulePlan.alternative`) instead,
  /// split by the rows of its first scan (a relation outside the stratum, often small: load's
  /// 500 rows in points-to) when its estimated work is at least 16 times the delta rows that
  /// split a version.
  private func runSplit(
    _ v: Int, _ bound: BoundStratum, _ versions: [String: RelationVersions], _ copies: inout [Int: [BoundRule]],
    otherOrderWork: Double? = nil
  ) throws(EvaluationError) -> Bool {
    guard let rule = otherOrderWork == nil ? bound.deltaVersions[v] : bound.deltaVersions[v].alternative,
      budget.threads > 1, let head = rule.headName, let table = database.tables[head], table.arity > 0,
      ParallelRound.canSplit(rule), let first = rule.body.steps.first, let relation = first.relation
    else { return false }
    let (low, high) = versions[first.relationName]?.bounds(first.range) ?? (0, relation.count)
    let minimum = max(2, budget.parallelMinimumDelta)
    if let work = otherOrderWork {
      guard high - low >= 2, work >= Double(minimum) * 16 else { return false }
    } else {
      // A delta past the minimum whose rows match little (the negation workload's sparse
      // closure: rounds of 10,000 rows deriving 14,000 tuples) is not worth the threads:
      // splitting it cost more than it saved. The bar is the other order's (above).
      guard high - low >= minimum else { return false }
      setRanges(rule, versions)
      guard let work = rule.estimatedWork(building: true), work >= Double(minimum) * 16 else { return false }
    }
    let threads = min(budget.threads, high - low)
    if (copies[v]?.count ?? 0) < threads {
      copies[v] = (0..<threads).map { _ in PlanBinder.bind(bound.plan.deltaVersions[v], to: database) }
    }
    guard let all = copies[v] else { return false }
    let mine = otherOrderWork == nil ? all : all.compactMap(\.alternative)
    guard mine.count == all.count else { return false }
    for copy in mine { setRanges(copy, versions) }
    let rows = table.rows
    ParallelRound.prepare(mine[0], head: rows, store: database.store)
    budget.growing = head
    budget.location = rule.span
    defer { budget.growing = nil }
    let before = rows.count
    defer { if rows.count > before { grew.insert(head) } }
    database.parallelRuns += 1
    let (waves, givenUp, uneven) = (parallel.concurrentWaves, parallel.givenUpWaves, parallel.unevenWaves)
    defer {
      database.concurrentWaves += parallel.concurrentWaves - waves
      database.givenUpWaves += parallel.givenUpWaves - givenUp
      database.unevenWaves += parallel.unevenWaves - uneven
    }
    // The rows each wave appends are read by no step of this run when it reads only rows
    // before them (a delta version's steps read the rows before the round).
    try parallel.run(
      Array(mine.prefix(threads)), delta: low..<high, into: rows,
      inWaves: Evaluator.readsOnly(mine[0].body, rowsBefore: before, of: rows),
      stored: { [budget] (fresh: Int) throws(EvaluationError) in try budget.countDerived(fresh, rule.span) }
    ) { noteBuffered($0) }
    return true
  }

  /// The threads of split first-round rules, made when first needed.
  private lazy var distinctSplit = DistinctSplit(store: database.store, budget: budget)

  /// Runs rule `j` of the stratum's first round split across threads (`DistinctSplit`) when
  /// there are threads to use, the rule derives no tuple twice into its head, which is empty
  /// (so nothing is deduplicated), it can be split, and it is estimated to do at least 16 times
  /// the work of the smallest delta a round splits; returns false (having done nothing) when not.
  /// What it stores, in which order, is what `run` would store.
  private func runFirstSplit(
    _ j: Int, _ bound: BoundStratum, _ versions: [String: RelationVersions]
  ) throws(EvaluationError) -> Bool {
    let rule = bound.firstRound[j]
    guard budget.threads > 1, !keepingTables, rule.derivesDistinct, let head = rule.headName,
      let table = database.tables[head], table.arity > 0, table.rows.count == 0, !table.rows.clusterable,
      ParallelRound.canSplit(rule), let first = rule.body.steps.first, let relation = first.relation
    else { return false }
    setRanges(rule, versions)
    let rows = first.low..<max(first.low, min(first.high, relation.count))
    let minimum = Double(max(2, budget.parallelMinimumDelta)) * 16
    // No step may read the head (not even its no rows): the waves append to it meanwhile.
    guard rows.count >= 2, !rule.body.steps.contains(where: { $0.relation === table.rows }),
      Evaluator.readsOnly(rule.body, rowsBefore: 0, of: table.rows),
      let work = rule.estimatedWork(building: true), work >= minimum
    else { return false }
    let copies = (0..<min(budget.threads, rows.count)).map { _ in
      PlanBinder.bind(bound.plan.firstRound[j], to: database)
    }
    for copy in copies { setRanges(copy, versions) }
    ParallelRound.prepare(copies[0], head: table.rows, store: database.store)
    budget.growing = head
    budget.location = rule.span
    defer { budget.growing = nil }
    // Waves of rows estimated at `workPerThread` for each thread and, since a unit of work
    // derives at most about one tuple, at most `parallelWaveValues` values of tuples a thread
    // (what a parallel round's waves hold).
    let perRow = max(1, work / Double(rows.count)), threads = Double(copies.count)
    let byWork = DistinctSplit.workPerThread * threads / perRow
    let byValues = Double(max(1, budget.parallelWaveValues)) * threads / (Double(table.arity) * perRow)
    let waveRows = Int(min(Double(rows.count), byWork, byValues))
    defer { if table.rows.count > 0 { grew.insert(head) } }
    let (_, buffered) = try distinctSplit.run(copies, rows: rows, waveRows: waveRows, into: table.rows, span: rule.span)
    database.parallelRuns += 1
    noteBuffered(buffered)
    return true
  }

  /// Sets the row ranges of each atom step, runs the rule, and inserts what it derived.
  ///
  /// When no step reads rows of the head from its current end on (a semi-naive round reads
  /// the rows before the round), what the rule derives is stored a few tuples at a time while
  /// it runs: the rows it appends are never read by the run, and the rows stored and their
  /// order are those of storing everything afterwards. Nothing is buffered then.
  ///
  /// Otherwise (a rule run once over everything its head holds, say) derivations are inserted
  /// when the rule has run. When a run derives more than a chunk, the derivations of tuples
  /// already stored are dropped and, if the rest is still large, it moves to a deduplicated
  /// staging relation, so memory follows the distinct tuples derived, not the derivations
  /// (which can be many times more).
  private func run(_ rule: BoundRule, _ versions: [String: RelationVersions]) throws(EvaluationError) {
    setRanges(rule, versions)
    guard let head = rule.headName, let table = database.tables[head] else {
      try executor.run(rule)
      return
    }
    budget.growing = head
    defer { budget.growing = nil }
    let arity = table.arity
    let rows = table.rows
    let before = rows.count
    defer { if rows.count > before { grew.insert(head) } }
    if arity > 0, !rows.clusterable, Evaluator.readsOnly(rule.body, rowsBefore: before, of: rows) {
      // A rule that derives no tuple twice into an empty relation stores what it derives
      // without probing for repeats (they cannot be), unless the tables are to be kept.
      let distinct = before == 0 && rule.derivesDistinct && !keepingTables
      let store = { (chunk: UnsafeMutablePointer<Value>, n: Int) -> Int in
        if distinct {
          rows.appendDistinct(chunk, count: n)
          return n
        }
        return rows.insertAll(chunk, count: n)
      }
      executor.sink = { [budget] chunk, n throws(EvaluationError) in
        try budget.countDerived(store(chunk, n), rule.span)
        return 0
      }
      executor.chunkValues = Executor.storedChunkValues
      defer {
        executor.sink = nil
        executor.chunkValues = Executor.chunkValues
      }
      try executor.run(rule)
      noteBuffered(executor.outputCapacity * MemoryLayout<Value>.stride)
      try budget.countDerived(store(executor.output, executor.outputCount / arity), rule.span)
      return
    }
    var staging: Relation? = nil
    executor.sink = { [budget] chunk, n throws(EvaluationError) in
      // Derivations of stored tuples are dropped; while the rest fill at most half a chunk,
      // they stay buffered, else they move to the staging relation (deduplicated, counted).
      let absent = rows.keepAbsent(chunk, count: n)
      if absent &* arity <= Executor.chunkValues / 2 { return absent }
      let staged = staging ?? Relation(arity: arity)
      staging = staged
      try budget.countDerived(staged.insertAll(chunk, count: absent), rule.span)
      return 0
    }
    defer { executor.sink = nil }
    try executor.run(rule)
    if arity == 0 {
      var none: Value = 0
      if executor.emitted > 0, rows.insert(&none) { try budget.countDerived(1, rule.span) }
      return
    }
    noteBuffered(executor.outputCapacity * MemoryLayout<Value>.stride + (staging?.bytes ?? 0))
    if let staged = staging { _ = rows.insertAll(staged.data, count: staged.count) }
    let fresh = rows.insertAll(executor.output, count: executor.outputCount / arity)
    executor.releaseLargeOutput()
    try budget.countDerived(fresh, rule.span)
  }

  /// Notes the bytes of derivations a run held (`Database.largestBuffered`).
  func noteBuffered(_ bytes: Int) { database.largestBuffered = max(database.largestBuffered, bytes) }

  /// Whether every step of `list` (aggregates' bodies too) that reads `relation` reads only
  /// rows before `end`.
  private static func readsOnly(_ list: BoundSteps, rowsBefore end: Int, of relation: Relation) -> Bool {
    list.steps.allSatisfy { step in
      if step.relation === relation, step.high > end { return false }
      return step.aggregate.map { readsOnly($0.body, rowsBefore: end, of: relation) } ?? true
    }
  }

  /// Runs a planned query and returns its distinct answers as rows.
  func answers(_ plan: RulePlan) throws(EvaluationError) -> Relation {
    let query = PlanBinder.bind(plan, to: database)
    let arity = query.body.projectionCount
    let result = Relation(arity: arity)
    executor.sink = { [budget] chunk, n throws(EvaluationError) in
      try budget.countDerived(result.insertAll(chunk, count: n), query.span)
      return 0
    }
    defer { executor.sink = nil }
    try executor.run(query)
    if arity == 0 {
      if executor.emitted > 0 { var none: Value = 0; result.insert(&none) }
      return result
    }
    try budget.countDerived(result.insertAll(executor.output, count: executor.outputCount / arity), query.span)
    return result
  }
}
