/// Incremental evaluation: a stratum computed before whose inputs changed by tuples the change
/// log holds (`EvaluationState.changes`) is brought up to date from what it holds, not computed
/// again.
///
/// The method is delete-and-rederive (DRed) with derivation ranks, chosen over counting
/// derivations because it needs nothing stored beside the tuples (counts would cost a word a
/// tuple and are not finite for recursive rules without extra care). A tuple's rank is the
/// semi-naive round that first derived it (facts rank 0), so each tuple has a derivation from
/// tuples of the stratum of lower rank; rows are appended round after round, so the ranks are
/// kept as the row where each round begins (`Ranks`, recorded by the evaluator).
/// 1. Delete (`rankedDeletion`): the tuples with a derivation that used a removed tuple (a
///    removed input tuple, a retracted fact of the stratum, or a tuple removed at a lower rank)
///    are decided in increasing rank: one that some rule still derives from tuples of lower rank
///    that stay keeps its place (and its rank); the others are removed, and what they helped
///    derive at higher ranks is decided next. Plain DRed over-deletes everything a removed tuple
///    reaches, which through a large cycle is nearly everything; ranks stop at the tuples with a
///    shorter derivation (for a transitive closure, rank is path length: only the pairs whose
///    every shortest path used a removed edge are touched).
/// 2. Re-derive and insert: the rules run once restricted to the removed tuples (those that
///    still have a derivation from what is left come back), and once with each atom over an
///    input reading only that input's new tuples; the stratum's new facts are added; then the
///    usual semi-naive rounds carry on from the current fixpoint until nothing is new. The rows
///    they add get ranks above every rank kept.
/// What the stratum gained and lost is logged in turn, so the strata reading it are updated the
/// same way. A stratum whose rules changed, or that reads a changed relation under negation or
/// in an aggregate, is computed again instead (only when one of its inputs changed); so is one
/// whose input log was dropped (changes of more than `EvaluationState.logLimit` tuples), one
/// whose ranks are not known, and one whose deletion grows past a quarter of its tuples
/// (computing it again costs less then; an edge of a cycle every path runs along is one).
///
/// Rows that stay keep their order and a derivation from rows of lower rank, which come
/// before them, and rows are only appended, so a derived tuple's row still comes after the rows
/// of a derivation of it (`.why` relies on it).
extension Session {
  /// A fingerprint of a stratum's rules (their text, in any order): loading a file again with
  /// the same rules does not count as a change of definition.
  func rulesFingerprint(_ rules: [Rule]) -> Int {
    var h = Hasher()
    for text in rules.map({ "\($0)" }).sorted() { h.combine(text) }
    return h.finalize()
  }

  /// True when edits may follow the query being run: in the REPL (`expectsEdits`), or when a
  /// later statement of the text being run adds or takes out facts (`TextState.editsFollow`).
  var editsMayFollow: Bool { expectsEdits || reading.editsFollow }

  /// Whether a stratum computed or updated now is readied for edits (`prepareForEdits`): when
  /// edits may follow, not under `.steps`, and with less than half the memory limit held.
  var readyingForEdits: Bool {
    tracing == nil && editsMayFollow && (options.maxMemory <= 0 || Memory.held < options.maxMemory / 2)
  }

  /// Readies a stratum just computed from scratch for an insert into one of its inputs, so the
  /// first edit costs what it adds, like every later one: the caller kept the relations'
  /// deduplication tables (`Evaluator.evaluate(_:keepTables:)`), and this builds the indexes of
  /// the stratum's relations that the insert's first round reads: the rules with one input
  /// atom reading the new tuples (planned as `updateIncrementally` plans them, for one new
  /// tuple). For `path(X, Z) :- path(X, Y), edge(Y, Z)`, `path` by its second column; built
  /// when the first `edge` fact is added instead, it took most of that edit's time (45 of 90
  /// ms on the 3.5M-tuple closure of `edit-random-2000`). Later rounds run the stratum's delta
  /// versions, whose indexes the evaluation built. Removing rows keeps chained indexes
  /// (`Relation.removeRows`) but not clustered ones, so an update that removed rows readies the
  /// stratum again (nothing to do when every index is still built).
  func prepareForEdits(_ s: Stratifier.Stratum, rules stratumRules: [Rule]) {
    let members = Set(s.relations)
    let first = stratumRules.flatMap { Self.insertVersions(of: $0) { !members.contains($0) } }
    if first.isEmpty { return }
    let database = self.database
    let plan = Planner.plan(
      stratum: s.relations, recursive: false, rules: first,
      size: { name in name.hasPrefix("+") ? 1 : database.rowCount(name) })
    for rule in plan.firstRound {
      for step in rule.steps {
        guard case .lookup(let a, _) = step, members.contains(a.relation), let rows = database.tables[a.relation]?.rows
        else { continue }
        _ = rows.index(on: a.keyColumns)
      }
    }
  }

  /// The versions of rule `r` an insert runs first: one for each positive atom of a relation
  /// `changed` names, that atom reading only the inserted tuples (`+name`). Readying
  /// (`prepareForEdits`) and the update itself plan the same rules, so the indexes built ahead
  /// are the ones the update reads.
  static func insertVersions(of r: Rule, where changed: (String) -> Bool) -> [Rule] {
    r.body.enumerated().compactMap { i, l in
      guard case .positive(let a) = l, changed(a.name) else { return nil }
      var body = r.body
      body[i] = renamed(l, "+")
      return Rule(head: r.head, body: body, span: r.span)
    }
  }

  /// Brings the stratum, computed when its inputs had the versions `old`, up to date with the
  /// versions `new`; false when it cannot be done incrementally (nothing has changed then).
  /// When a limit stops it, the stratum's relations are emptied (and computed again next time).
  func updateIncrementally(
    _ s: Stratifier.Stratum, rules stratumRules: [Rule], old: [String: Int], new: [String: Int], evaluator: Evaluator
  ) throws(EvaluationError) -> Bool {
    guard Set(old.keys) == Set(new.keys) else { return false }
    var inserted: [String: [[Value]]] = [:]
    var deleted: [String: [[Value]]] = [:]
    var factsInserted: [String: [[Value]]] = [:]
    var factsDeleted: [String: [[Value]]] = [:]
    for (key, version) in new {
      guard let before = old[key] else { return false }
      if before == version { continue }
      if key.hasPrefix("#") { return false }
      guard let c = evaluation.changes(of: key, since: before) else { return false }
      if key.hasPrefix("!") {
        let m = String(key.dropFirst())
        if !c.inserted.isEmpty { factsInserted[m] = c.inserted }
        if !c.deleted.isEmpty { factsDeleted[m] = c.deleted }
      } else {
        if !c.inserted.isEmpty { inserted[key] = c.inserted }
        if !c.deleted.isEmpty { deleted[key] = c.deleted }
      }
    }
    let changed = Set(inserted.keys).union(deleted.keys)
    for r in stratumRules {
      for l in r.body {
        switch l {
        case .negative(let a, _) where changed.contains(a.name): return false
        case .aggregate where !changed.isDisjoint(with: l.relationNames): return false
        default: break
        }
      }
    }
    for m in s.relations where database.tables[m] == nil { return false }
    if changed.isEmpty && factsInserted.isEmpty && factsDeleted.isEmpty { return true }
    var ranks: [String: Ranks] = [:]
    var highest = 0
    for m in s.relations {
      guard let r = currentRanks(m) else { return false }
      ranks[m] = r
      highest = max(highest, r.highest)
    }
    // Deletion runs each rule once per mix of removed and present tuples of the inputs that
    // lost some; too many such atoms in one rule would make too many versions.
    let overDeleting = !deleted.isEmpty || !factsDeleted.isEmpty
    for r in stratumRules {
      let removing = r.body.filter { l in
        if case .positive(let a) = l { return deleted[a.name] != nil } else { return false }
      }
      guard removing.count <= 4 else { return false }
    }

    var temporary: [String] = []
    defer { for name in temporary { database.drop(name) } }
    func temporaryTable(_ name: String, _ arity: Int, _ tuples: [[Value]]) -> Relation {
      if !temporary.contains(name) { temporary.append(name) }
      database.drop(name)
      let rows = database.table(name, arity: arity).rows
      rows.clusterable = false
      for t in tuples where t.count == arity { rows.insert(t) }
      return rows
    }
    do {
      // 1. Delete, in increasing rank.
      var gone: [String: Relation] = [:]
      if overDeleting {
        for (name, tuples) in deleted {
          guard let arity = tuples.first?.count else { continue }
          _ = temporaryTable("-" + name, arity, tuples)
        }
        guard
          let doomed = try rankedDeletion(
            s, rules: stratumRules, ranks: ranks, deleted: deleted, factsDeleted: factsDeleted, evaluator: evaluator,
            temporaryTable: temporaryTable)
        else {
          evaluation.overDeletionsAbandoned += 1
          return false
        }
        for m in s.relations {
          guard let rows = database.tables[m]?.rows, let doomedRows = doomed[m], !doomedRows.isEmpty, let r = ranks[m]
          else { continue }
          let removed = temporaryTable("~" + m, rows.arity, [])
          for row in doomedRows { removed.insert(rows.data + row * rows.arity) }
          ranks[m]?.starts = r.removing(doomedRows)
          rows.removeRows(doomedRows)
          gone[m] = removed
        }
      }
      // 2. Re-derive what lost only some derivations, add what the new tuples derive.
      for (name, tuples) in inserted {
        guard let arity = tuples.first?.count else { continue }
        _ = temporaryTable("+" + name, arity, tuples)
      }
      var first: [Rule] = []
      for r in stratumRules {
        if let g = gone[r.head.name], g.count > 0 {
          let restricted = r.head.arguments.allSatisfy { t in
            switch t {
            case .variable, .constant: return true
            default: return false
            }
          }
          if restricted {
            // The rule restricted to the over-deleted tuples of its head.
            let filter = Literal.positive(Self.renamed(r.head, "~"))
            first.append(Rule(head: r.head, body: [filter] + r.body, span: r.span))
          } else {
            first.append(r)
          }
        }
        first += Self.insertVersions(of: r) { inserted[$0] != nil }
      }
      var start: [String: Int] = [:]
      for m in s.relations { start[m] = database.tables[m]?.rows.count ?? 0 }
      let firstPlan = Planner.plan(stratum: s.relations, recursive: false, rules: first, size: database.rowCount)
      let plan = Planner.plan(stratum: s.relations, recursive: s.recursive, rules: stratumRules, size: database.rowCount)
      try evaluator.extend(plan, first: firstPlan.firstRound) {
        for m in s.relations {
          guard let t = database.tables[m] else { continue }
          for tuple in factsInserted[m] ?? [] where tuple.count == t.arity { t.rows.insert(tuple) }
          // Facts over-deleted with the tuples they also derive come back at once.
          if let g = gone[m], let facts = t.facts {
            for r in 0..<g.count where facts.find(g.data + r * g.arity) != nil { t.rows.insert(g.data + r * g.arity) }
          }
        }
      }
      // What each relation gained and lost, for the strata that read it.
      for m in s.relations {
        guard let rows = database.tables[m]?.rows else { continue }
        let from = start[m] ?? rows.count
        let g = gone[m]
        var back = [Bool](repeating: false, count: g?.count ?? 0)
        var added: [[Value]] = []
        for r in from..<rows.count {
          if let g, let k = g.find(rows.data + r * rows.arity) {
            back[k] = true
          } else if added.count <= EvaluationState.logLimit {
            added.append(rows.row(r))
          }
        }
        var lost: [[Value]] = []
        if let g {
          for k in 0..<g.count where !back[k] && lost.count <= EvaluationState.logLimit { lost.append(g.row(k)) }
        }
        if added.count + lost.count > EvaluationState.logLimit {
          evaluation.contentChanged(m)
        } else {
          evaluation.contentChanged(m, inserted: added, deleted: lost)
        }
        // The rows added have ranks above every rank kept.
        let later = (evaluator.rankStarts[m] ?? []).map { (rank: $0.rank + highest, row: $0.row) }
        recordRanks(m, (ranks[m]?.starts ?? [(0, 0)]) + later)
      }
      if !gone.isEmpty && readyingForEdits { prepareForEdits(s, rules: stratumRules) }
    } catch {
      for m in s.relations {
        database.tables[m]?.rows.removeAllReleasingMemory()
        evaluation.contentChanged(m)
      }
      throw error
    }
    return true
  }

  /// Deletion stops once the tuples it has removed and checked pass 1/`overDeletionShare` of
  /// the stratum's tuples; the stratum is then computed again from scratch (cheaper by then).
  static let overDeletionShare = 4

  /// Step 1 of an update: which rows of the stratum's relations lose every derivation, found
  /// in increasing derivation rank (`Ranks`); nil when it gives up (nothing is changed then).
  ///
  /// A candidate is a tuple with a derivation that used a removed tuple: a removed input
  /// tuple (`-name` tables, made by the caller), a retracted fact of the stratum (always
  /// removed), or a tuple removed at a lower rank. Candidates of rank k are decided together,
  /// once every rank below k is: one stays when some rule derives it from tuples of the
  /// stratum of rank below k that are not removed (and inputs as they are now); that derivation
  /// is final, so this is sound inside cycles. The others are removed, and the tuples their
  /// removal may undo, those of higher rank derived with them, become candidates. A tuple
  /// derived only through the removed tuples but also another way comes back in step 2.
  ///
  /// Tables used: `~m` candidates, `=m` those that stay, `*m` removed at this rank, `^m`
  /// removed so far (read under negation).
  func rankedDeletion(
    _ s: Stratifier.Stratum, rules: [Rule], ranks: [String: Ranks], deleted: [String: [[Value]]],
    factsDeleted: [String: [[Value]]], evaluator: Evaluator,
    temporaryTable: (_ name: String, _ arity: Int, _ tuples: [[Value]]) -> Relation
  ) throws(EvaluationError) -> [String: [Int]]? {
    let members = Set(s.relations)
    // The rules by head, and the atoms over the stratum by relation: a rank's work is then
    // that of the rules its tuples touch.
    var rulesOf: [String: [Rule]] = [:]
    var atomsOver: [String: [(rule: Rule, atom: Int)]] = [:]
    for r in rules {
      rulesOf[r.head.name, default: []].append(r)
      for (i, l) in r.body.enumerated() {
        if case .positive(let a) = l, members.contains(a.name) { atomsOver[a.name, default: []].append((r, i)) }
      }
    }
    var tables: [String: Database.Table] = [:]
    for m in s.relations { tables[m] = database.tables[m] }
    let stored = s.relations.reduce(0) { $0 + (tables[$1]?.rows.count ?? 0) }
    let most = max(1000, stored / Self.overDeletionShare)
    // Candidates by rank, then relation: their rows.
    var pending: [Int: [String: [Int]]] = [:]
    var queued: [String: Set<Int>] = [:]
    var forced: [String: Set<Int>] = [:]
    var removed: [String: [Int]] = [:]
    var work = 0

    func enqueue(_ m: String, row: Int, above k: Int) {
      guard let r = ranks[m] else { return }
      let rank = r.rank(ofRow: row)
      guard rank > k, queued[m, default: []].insert(row).inserted else { return }
      pending[rank, default: [:]][m, default: []].append(row)
    }
    /// Runs rules deriving into `~m` (their heads' names, `heads`), from empty, and queues what
    /// they find of rank above `k`. Costs what the rules touch, not the stratum's relations.
    func findCandidates(_ rules: [Rule], above k: Int) throws(EvaluationError) {
      let heads = Set(rules.map { String($0.head.name.dropFirst()) }).sorted()
      for m in heads { if let t = tables[m] { _ = temporaryTable("~" + m, t.arity, []) } }
      try evaluator.runOnce(plan(heads.map { "~" + $0 }, rules), limits: [:])
      for m in heads {
        guard let found = database.tables["~" + m]?.rows, let rows = tables[m]?.rows else { continue }
        for i in 0..<found.count {
          if let row = rows.find(found.data + i * found.arity) { enqueue(m, row: row, above: k) }
        }
      }
    }
    func plan(_ heads: [String], _ rules: [Rule]) -> [RulePlan] {
      Planner.plan(stratum: heads, recursive: false, rules: rules, size: database.rowCount).firstRound
    }
    /// The table of what is removed from `m` so far (`^m`), made when first needed.
    var removedTables: [String: Relation] = [:]
    func removedSoFar(_ m: String) -> Relation? {
      if let r = removedTables[m] { return r }
      guard let t = tables[m] else { return nil }
      let r = temporaryTable("^" + m, t.arity, [])
      removedTables[m] = r
      return r
    }

    // Retracted facts of the stratum.
    for (m, tuples) in factsDeleted {
      guard let rows = tables[m]?.rows else { continue }
      for t in tuples where t.count == rows.arity {
        guard let row = rows.find(t) else { continue }
        forced[m, default: []].insert(row)
        enqueue(m, row: row, above: -1)
      }
    }
    // What removed input tuples took part in deriving (each mix of removed and present ones).
    if !deleted.isEmpty {
      var first: [Rule] = []
      for r in rules {
        let removing = r.body.indices.filter { i in
          if case .positive(let a) = r.body[i] { return deleted[a.name] != nil } else { return false }
        }
        for mask in 1..<(1 << removing.count) {
          var body = r.body
          for (j, i) in removing.enumerated() where mask & (1 << j) != 0 { body[i] = Self.renamed(body[i], "-") }
          first.append(Rule(head: Self.renamed(r.head, "~"), body: body, span: r.span))
        }
      }
      try findCandidates(first, above: -1)
    }

    while let k = pending.keys.min() {
      guard let batch = pending.removeValue(forKey: k) else { break }
      var check: [String: [Int]] = [:]
      var out: [String: [Int]] = [:]
      for (m, list) in batch {
        guard let table = tables[m] else { continue }
        let rows = table.rows
        for row in list {
          if forced[m]?.contains(row) == true {
            out[m, default: []].append(row)
          } else if let facts = table.facts, facts.find(rows.data + row * rows.arity) != nil {
            continue  // a fact stays
          } else {
            check[m, default: []].append(row)
          }
        }
      }
      if !check.isEmpty {
        // Which candidates some rule still derives from tuples of lower rank that stay.
        var survivors: [Rule] = []
        for (m, list) in check {
          guard let rows = tables[m]?.rows else { continue }
          _ = temporaryTable("~" + m, rows.arity, list.map { rows.row($0) })
          _ = temporaryTable("=" + m, rows.arity, [])
          work += list.count
        }
        var limits: [String: Int] = [:]
        for r in check.keys.sorted().flatMap({ rulesOf[$0] ?? [] }) {
          survivors.append(Self.survivorRule(r, members: members))
          for l in r.body {
            guard case .positive(let a) = l, members.contains(a.name), limits[a.name] == nil else { continue }
            limits[a.name] = ranks[a.name]?.limit(below: k)
            _ = removedSoFar(a.name)
          }
        }
        try evaluator.runOnce(plan(check.keys.sorted().map { "=" + $0 }, survivors), limits: limits)
        for (m, list) in check {
          guard let rows = tables[m]?.rows, let stay = database.tables["=" + m]?.rows else { continue }
          for row in list where stay.find(rows.data + row * rows.arity) == nil { out[m, default: []].append(row) }
        }
      }
      if out.isEmpty { continue }
      for (m, list) in out {
        guard let rows = tables[m]?.rows, let gone = removedSoFar(m) else { continue }
        for row in list { gone.insert(rows.data + row * rows.arity) }
        _ = temporaryTable("*" + m, rows.arity, list.map { rows.row($0) })
        removed[m, default: []].append(contentsOf: list)
        work += list.count
      }
      if work > most { return nil }
      // What the tuples just removed took part in deriving: candidates of higher rank.
      var consumers: [Rule] = []
      for (r, i) in out.keys.sorted().flatMap({ atomsOver[$0] ?? [] }) {
        var body = r.body
        body[i] = Self.renamed(body[i], "*")
        consumers.append(Rule(head: Self.renamed(r.head, "~"), body: body, span: r.span))
      }
      try findCandidates(consumers, above: k)
      for m in out.keys { database.drop("*" + m) }
    }
    return removed.mapValues { $0.sorted() }
  }

  /// The rule deriving into `=head`, for the candidates in `~head` when its head is plain
  /// (variables and constants), with each atom over the stratum (`members`) also required
  /// not to be removed (`not ^name(...)`; its anonymous variables named, so the negation
  /// reads the very tuple).
  static func survivorRule(_ r: Rule, members: Set<String>) -> Rule {
    var body: [Literal] = []
    let plain = r.head.arguments.allSatisfy { t in
      switch t {
      case .variable, .constant: return true
      default: return false
      }
    }
    if plain { body.append(.positive(renamed(r.head, "~"))) }
    for (i, l) in r.body.enumerated() {
      guard case .positive(let a) = l, members.contains(a.name) else {
        body.append(l)
        continue
      }
      let arguments = a.arguments.enumerated().map { c, t -> Term in
        if case .variable(let v, let span) = t, v.hasPrefix("_#") { return .variable("%\(i).\(c)", span) }
        return t
      }
      let named = Atom(name: a.name, arguments: arguments, span: a.span, nameSpan: a.nameSpan)
      body.append(.positive(named))
      body.append(.negative(renamed(named, "^"), a.span))
    }
    return Rule(head: renamed(r.head, "="), body: body, span: r.span)
  }

  /// The atom with its relation name prefixed (a name no program can write).
  static func renamed(_ a: Atom, _ prefix: String) -> Atom {
    Atom(name: prefix + a.name, arguments: a.arguments, span: a.span, nameSpan: a.nameSpan)
  }

  static func renamed(_ l: Literal, _ prefix: String) -> Literal {
    guard case .positive(let a) = l else { return l }
    return .positive(renamed(a, prefix))
  }
}
