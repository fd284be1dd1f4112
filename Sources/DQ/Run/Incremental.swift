/// Incremental evaluation: a stratum computed before whose inputs changed by tuples the change
/// log holds (`EvaluationState.changes`) is brought up to date from what it holds, not computed
/// again.
///
/// The method is delete-and-rederive (DRed), chosen over counting derivations because it needs
/// nothing stored beside the tuples (counts would cost a word a tuple and are not finite for
/// recursive rules without extra care):
/// 1. Over-delete: every tuple with a derivation that used a removed tuple (a removed input
///    tuple, a retracted fact of the stratum, or a tuple over-deleted before it) is collected,
///    semi-naively, reading the inputs and the stratum as they were before the change, and then
///    removed from the stratum's relations, which keep the rest in their order.
/// 2. Re-derive and insert: the rules run once restricted to the over-deleted tuples (those
///    that still have a derivation from what is left come back), and once with each atom over
///    an input reading only that input's new tuples; the stratum's new facts are added; then
///    the usual semi-naive rounds carry on from the current fixpoint until nothing is new.
/// What the stratum gained and lost is logged in turn, so the strata reading it are updated the
/// same way. A stratum whose rules changed, or that reads a changed relation under negation or
/// in an aggregate, is computed again instead (only when one of its inputs changed); so is one
/// whose input log was dropped (changes of more than `EvaluationState.logLimit` tuples), and
/// one whose over-deletion grows past an eighth of its tuples (computing it again costs less
/// than deleting and re-deriving that much; an edge inside a large cycle of a closure is one).
///
/// Derived rows are only appended, and over-deletion keeps the rows that stay in order, so a
/// derived tuple's row still comes after the rows of a derivation of it (`.why` relies on it).
extension Session {
  /// A fingerprint of a stratum's rules (their text, in any order): loading a file again with
  /// the same rules does not count as a change of definition.
  func rulesFingerprint(_ rules: [Rule]) -> Int {
    var h = Hasher()
    for text in rules.map({ "\($0)" }).sorted() { h.combine(text) }
    return h.finalize()
  }

  /// Brings the stratum, computed when its inputs had the versions `old`, up to date with the
  /// versions `new`; false when it cannot be done incrementally (nothing has changed then).
  /// When a limit stops it, the stratum's relations are emptied (and computed again next time).
  func updateIncrementally(
    _ s: Stratifier.Stratum, rules stratumRules: [Rule], old: [String: Int], new: [String: Int], evaluator: Evaluator
  ) throws(EvaluationError) -> Bool {
    guard Set(old.keys) == Set(new.keys) else { return false }
    let members = Set(s.relations)
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
    // Every rule version over-deletion needs; too many atoms over changed relations in one
    // rule would make too many of them.
    let overDeleting = !deleted.isEmpty || !factsDeleted.isEmpty
    var overRules: [Rule] = []
    if overDeleting {
      for r in stratumRules {
        let removing = r.body.indices.filter { i in
          if case .positive(let a) = r.body[i] { return deleted[a.name] != nil } else { return false }
        }
        let recursive = r.body.indices.filter { i in
          if case .positive(let a) = r.body[i] { return members.contains(a.name) } else { return false }
        }
        guard removing.count <= 4 else { return false }
        for mask in 0..<(1 << removing.count) {
          var body = r.body
          for (j, i) in removing.enumerated() where mask & (1 << j) != 0 { body[i] = Self.renamed(body[i], "-") }
          let head = Self.renamed(r.head, "~")
          if mask != 0 { overRules.append(Rule(head: head, body: body, span: r.span)) }
          for i in recursive {
            var b = body
            b[i] = Self.renamed(b[i], "~")
            overRules.append(Rule(head: head, body: b, span: r.span))
          }
        }
      }
    }

    var temporary: [String] = []
    defer { for name in temporary { database.drop(name) } }
    func temporaryTable(_ name: String, arity: Int, _ tuples: [[Value]]) -> Relation {
      temporary.append(name)
      database.drop(name)
      let rows = database.table(name, arity: arity).rows
      rows.clusterable = false
      for t in tuples where t.count == arity { rows.insert(t) }
      return rows
    }
    do {
      // 1. Over-delete.
      var gone: [String: Relation] = [:]
      if overDeleting {
        for (name, tuples) in deleted {
          guard let arity = tuples.first?.count else { continue }
          _ = temporaryTable("-" + name, arity: arity, tuples)
        }
        var over: [String: Relation] = [:]
        for m in s.relations {
          guard let t = database.tables[m] else { continue }
          over[m] = temporaryTable("~" + m, arity: t.arity, [])
        }
        let plan = Planner.plan(
          stratum: s.relations.map { "~" + $0 }, recursive: s.recursive, rules: overRules, size: database.rowCount)
        // Past a fraction of the stratum, over-deleting and re-deriving would cost more than
        // computing the stratum again (an edge inside a large cycle: every path may use it).
        let stored = s.relations.reduce(0) { $0 + (database.tables[$1]?.rows.count ?? 0) }
        let most = max(1000, stored / Self.overDeletionShare)
        let finished = try evaluator.extend(plan, first: plan.firstRound, giveUp: {
          over.values.reduce(0) { $0 + $1.count } > most
        }) {
          for (m, tuples) in factsDeleted { for t in tuples { over[m]?.insert(t) } }
        }
        if !finished {
          evaluation.overDeletionsAbandoned += 1
          return false
        }
        for m in s.relations {
          guard let rows = database.tables[m]?.rows, let candidates = over[m], candidates.count > 0 else { continue }
          var doomed: [Int] = []
          let removed = Relation(arity: rows.arity)
          for r in 0..<candidates.count {
            let t = candidates.data + r * candidates.arity
            if let row = rows.find(t) {
              doomed.append(row)
              removed.insert(t)
            }
          }
          doomed.sort()
          rows.removeRows(doomed)
          gone[m] = removed
        }
      }
      // 2. Re-derive what lost only some derivations, add what the new tuples derive.
      for (name, tuples) in inserted {
        guard let arity = tuples.first?.count else { continue }
        _ = temporaryTable("+" + name, arity: arity, tuples)
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
        for (i, l) in r.body.enumerated() {
          guard case .positive(let a) = l, inserted[a.name] != nil else { continue }
          var body = r.body
          body[i] = Self.renamed(l, "+")
          first.append(Rule(head: r.head, body: body, span: r.span))
        }
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
      }
    } catch {
      for m in s.relations {
        database.tables[m]?.rows.removeAllReleasingMemory()
        evaluation.contentChanged(m)
      }
      throw error
    }
    return true
  }

  /// Over-deletion stops once it has set aside more than 1/`overDeletionShare` of the
  /// stratum's tuples; the stratum is then computed again from scratch.
  static let overDeletionShare = 8

  /// The atom with its relation name prefixed (a name no program can write).
  static func renamed(_ a: Atom, _ prefix: String) -> Atom {
    Atom(name: prefix + a.name, arguments: a.arguments, span: a.span, nameSpan: a.nameSpan)
  }

  static func renamed(_ l: Literal, _ prefix: String) -> Literal {
    guard case .positive(let a) = l else { return l }
    return .positive(renamed(a, prefix))
  }
}
