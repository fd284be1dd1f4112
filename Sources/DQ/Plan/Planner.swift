/// Compiles rule bodies into plans: orders literals from what is bound, chooses between scans,
/// lookups and membership tests for each atom, and emits one version per recursive atom for
/// semi-naive evaluation.
///
/// The planner reads the syntax tree and relation sizes only: it creates no relation and
/// registers no index (`PlanBinder` does, when a plan is about to run).
struct Planner {
  /// How many rows a relation holds now (0 for one not stored); it orders joins.
  let size: (String) -> Int
  /// Relations of the stratum being evaluated: their atoms read old/delta/full row ranges.
  let recursive: Set<String>

  private var slots: [String: Int] = [:]
  private var slotNames: [String] = []

  init(size: @escaping (String) -> Int, recursive: Set<String> = []) {
    self.size = size
    self.recursive = recursive
  }

  /// Compiles a rule; `deltaAtom` is the body index of the atom that reads the delta.
  static func plan(rule: Rule, deltaAtom: Int?, size: @escaping (String) -> Int, recursive: Set<String>) -> RulePlan {
    var p = Planner(size: size, recursive: recursive)
    let head = Set(rule.head.variables)
    let steps = p.plan(rule.body, bound: [], deltaAtom: deltaAtom, inAggregate: false, enclosing: head, keep: head)
    // A delta version's other order (`RulePlan.alternative`), for bodies without aggregates
    // (their folds are not costed) and only when it starts elsewhere than the delta.
    var alternative: [Step]? = nil
    if deltaAtom != nil, !rule.body.contains(where: { if case .aggregate = $0 { true } else { false } }) {
      let other = p.plan(
        rule.body, bound: [], deltaAtom: deltaAtom, deltaFirst: false, inAggregate: false, enclosing: head, keep: head)
      if other.first != steps.first { alternative = other }
    }
    let projection = rule.head.arguments.map { p.operand($0) }
    return RulePlan(
      steps: steps, projection: projection, headName: rule.head.name, slotNames: p.slotNames, deltaAtom: deltaAtom,
      origin: Origin(rule.span), alternative: alternative)
  }

  /// Compiles a query; the projection is its shown variables.
  static func plan(query: Query, size: @escaping (String) -> Int) -> RulePlan {
    plan(body: query.body, projection: query.shownVariables, size: size)
  }

  /// Compiles a body whose answers are the given variables.
  static func plan(body: [Literal], projection: [String], size: @escaping (String) -> Int) -> RulePlan {
    var p = Planner(size: size)
    let steps = p.plan(body, bound: [], deltaAtom: nil, inAggregate: false, enclosing: [], keep: Set(projection))
    let span = body.first.flatMap { first in body.last.map { first.span.to($0.span) } }
    return RulePlan(
      steps: steps, projection: projection.map { .slot(p.slots[$0] ?? 0) }, headName: nil, slotNames: p.slotNames,
      origin: Origin(span))
  }

  /// Compiles the rules of one stratum: all rules for the first round and, when recursive, one
  /// version per body atom over a relation of the stratum.
  static func plan(stratum relations: [String], recursive: Bool, rules: [Rule], size: @escaping (String) -> Int)
    -> StratumPlan
  {
    let members = Set(relations)
    let first = rules.map { plan(rule: $0, deltaAtom: nil, size: size, recursive: members) }
    var versions: [RulePlan] = []
    if recursive {
      for rule in rules {
        for (i, l) in rule.body.enumerated() {
          if case .positive(let a) = l, members.contains(a.name) {
            versions.append(plan(rule: rule, deltaAtom: i, size: size, recursive: members))
          }
        }
      }
    }
    return StratumPlan(relations: relations, recursive: recursive, firstRound: first, deltaVersions: versions)
  }

  /// The expression of a fact's argument (ground: the resolver has checked it).
  static func groundExpression(_ t: Term) -> Expression {
    var p = Planner(size: { _ in 0 })
    return p.expression(t)
  }

  // MARK: - Ordering

  private mutating func slot(_ v: String) -> Int {
    if let s = slots[v] { return s }
    slots[v] = slotNames.count
    slotNames.append(v)
    return slotNames.count - 1
  }

  private func isBound(_ t: Term, _ bound: Set<String>) -> Bool { t.variables.allSatisfy(bound.contains) }

  /// Orders and compiles `body` given the variables already bound.
  ///
  /// `enclosing` holds the variables of the scopes around `body` (they group its aggregates);
  /// `keep` the variables needed once the body is done (the head's, or the query's shown ones).
  /// Outside aggregates, an atom none of whose new variables is needed later is only checked
  /// for existence: the rest of the body runs once if some row matches, not once per row.
  /// The delta atom comes first unless `deltaFirst` is false (`RulePlan.alternative`).
  private mutating func plan(
    _ body: [Literal], bound initial: Set<String>, deltaAtom: Int?, deltaFirst: Bool = true, inAggregate: Bool,
    enclosing: Set<String>, keep: Set<String>
  ) -> [Step] {
    var steps: [Step] = []
    var bound = initial
    var remaining = Array(body.indices)
    func take(_ i: Int) { remaining.removeAll { $0 == i } }
    /// The step reading an atom. A scan or lookup whose new variables nothing after it reads
    /// is an existence check; when it is the body's first scan and only some of its columns
    /// are read later by a body that goes on to other atoms, it visits the distinct
    /// combinations of those columns.
    func atom(_ a: Atom, _ chosen: Int) -> Step {
      let (kind, access) = atomAccess(a, literal: chosen, deltaAtom: deltaAtom, bound: &bound, inAggregate: inAggregate)
      guard kind != .member else { return .member(access) }
      var visit = Visit.everyRow
      if !inAggregate {
        var later = keep
        for i in remaining where i != chosen { later.formUnion(body[i].variables) }
        let read = zip(access.bindColumns, access.bindSlots).filter { later.contains(slotNames[$0.1]) }.map(\.0)
        let multiplies = remaining.contains { i in
          if i == chosen { return false }
          if case .comparison = body[i] { return false }
          return true
        }
        if read.isEmpty {
          visit = .firstMatch
        } else if steps.isEmpty, kind == .scan, access.checkColumns.isEmpty, multiplies, read.count < access.arity {
          visit = .distinct(read)
        }
      }
      return kind == .scan ? .scan(access, visit) : .lookup(access, visit)
    }

    if deltaFirst, let d = deltaAtom, case .positive(let a) = body[d] {
      steps.append(atom(a, d))
      take(d)
    }
    while !remaining.isEmpty {
      // Filters, assignments, negations and aggregates as soon as they can run.
      if let i = remaining.first(where: { isReady(body[$0], bound, body, enclosing) }) {
        steps.append(nonAtomStep(body[i], bound: &bound, body: body, enclosing: enclosing))
        take(i)
        continue
      }
      // Otherwise the positive atom with the most bound columns, then the smallest. In a delta
      // version, a relation of the stratum counts as larger than any other: its size now is
      // what it held before the stratum ran (often nothing), while the version runs once it has
      // grown, so reading it before a relation of fixed size with as many bound columns would
      // visit every row it matches for rows the other relation then rejects.
      var best: (index: Int, score: (Int, Int, Int))? = nil
      for i in remaining {
        guard case .positive(let a) = body[i] else { continue }
        let boundColumns = a.arguments.filter { t in
          if let v = t.variableName { return bound.contains(v) }
          return isBound(t, bound)
        }.count
        let grows = deltaAtom != nil && recursive.contains(a.name) ? 0 : 1
        let score = (boundColumns, grows, -size(a.name))
        if let b = best, score <= b.score { continue }
        best = (i, score)
      }
      if let b = best, let small = smallFixedAtomCompleting(b.index, body, remaining, bound, deltaAtom) {
        best = (small, b.score)
      }
      guard let choice = best else {
        // Unsafe literals are rejected before planning; keep going rather than loop forever.
        for i in remaining { steps.append(nonAtomStep(body[i], bound: &bound, body: body, enclosing: enclosing)) }
        break
      }
      if case .positive(let a) = body[choice.index] {
        steps.append(atom(a, choice.index))
      }
      take(choice.index)
    }
    return steps
  }

  /// Rows a relation of fixed size may hold to be scanned whole, once per binding, before a
  /// lookup into a growing relation (see `smallFixedAtomCompleting`).
  static let smallScanRows = 1024

  /// In a delta version, when the atom chosen next (`chosen`) is a lookup into a relation of the
  /// stratum that binds new variables, another remaining atom over a relation outside the
  /// stratum of at most `smallScanRows` rows that binds all of those variables: reading it first
  /// makes the growing relation a membership test. A lookup into a grown relation can match
  /// thousands of rows per binding (points-to's `pointsTo(X, H)` with H bound), most of which
  /// the small relation (`load(Y, X)`) then rejects; a scan of the small relation costs its
  /// rows, one hash probe each.
  private func smallFixedAtomCompleting(
    _ chosen: Int, _ body: [Literal], _ remaining: [Int], _ bound: Set<String>, _ deltaAtom: Int?
  ) -> Int? {
    guard deltaAtom != nil, case .positive(let grown) = body[chosen], recursive.contains(grown.name) else { return nil }
    let needed = Set(grown.arguments.flatMap(\.variables)).subtracting(bound).filter { !$0.hasPrefix("_#") }
    guard !needed.isEmpty, needed.count < grown.arity else { return nil }
    var found: (index: Int, rows: Int)? = nil
    for i in remaining where i != chosen {
      guard case .positive(let a) = body[i], !recursive.contains(a.name) else { continue }
      let rows = size(a.name)
      guard rows > 0, rows <= Planner.smallScanRows, needed.isSubset(of: Set(a.arguments.flatMap(\.variables))) else {
        continue
      }
      if let f = found, f.rows <= rows { continue }
      found = (i, rows)
    }
    return found?.index
  }

  private func isReady(_ l: Literal, _ bound: Set<String>, _ body: [Literal], _ enclosing: Set<String>) -> Bool {
    switch l {
    case .positive: return false
    case .negative(let a, _):
      return a.arguments.allSatisfy { t in t.variables.allSatisfy { bound.contains($0) || $0.hasPrefix("_#") } }
    case .comparison(let op, let left, let right, _):
      if isBound(left, bound) && isBound(right, bound) { return true }
      guard op == .equal else { return false }
      if let v = left.variableName, !bound.contains(v), isBound(right, bound) { return true }
      if let v = right.variableName, !bound.contains(v), isBound(left, bound) { return true }
      return false
    case .aggregate(let g):
      let outside = Safety.variablesOutside(g, in: body, head: nil, enclosing: enclosing)
      let groups = Set(g.body.flatMap(\.variables)).intersection(outside)
      return groups.isSubset(of: bound) && (g.result.variableName != nil || isBound(g.result, bound))
    }
  }

  // MARK: - Steps

  private enum AtomKind { case scan, lookup, member }

  /// How a positive atom is read given what is bound, and the variables it binds.
  private mutating func atomAccess(
    _ a: Atom, literal: Int, deltaAtom: Int?, bound: inout Set<String>, inAggregate: Bool
  ) -> (AtomKind, AtomAccess) {
    var range = RowRange.full
    if recursive.contains(a.name), let d = deltaAtom {
      range = literal == d ? .delta : (literal < d ? .old : .full)
    }
    var access = AtomAccess(relation: a.name, arity: a.arity, range: range)
    var bindingNow: Set<String> = []
    for (c, t) in a.arguments.enumerated() {
      if let v = t.variableName {
        if v.hasPrefix("_#") && !inAggregate { continue }
        if bound.contains(v) {
          access.keyColumns.append(c)
          access.keys.append(.slot(slot(v)))
        } else if bindingNow.contains(v) {
          access.checkColumns.append(c)
          access.checkOperands.append(.slot(slot(v)))
        } else {
          bindingNow.insert(v)
          access.bindColumns.append(c)
          access.bindSlots.append(slot(v))
        }
      } else {
        access.keyColumns.append(c)
        access.keys.append(operand(t))
      }
    }
    bound.formUnion(bindingNow)
    if access.keyColumns.isEmpty { return (.scan, access) }
    if access.keyColumns.count == a.arity && access.checkColumns.isEmpty { return (.member, access) }
    return (.lookup, access)
  }

  private mutating func nonAtomStep(_ l: Literal, bound: inout Set<String>, body: [Literal], enclosing: Set<String>) -> Step {
    switch l {
    case .positive(let a):
      let (kind, access) = atomAccess(a, literal: -1, deltaAtom: nil, bound: &bound, inAggregate: false)
      switch kind {
      case .scan: return .scan(access, .everyRow)
      case .lookup: return .lookup(access, .everyRow)
      case .member: return .member(access)
      }
    case .negative(let a, _):
      var access = AtomAccess(relation: a.name, arity: a.arity)
      for (c, t) in a.arguments.enumerated() {
        if let v = t.variableName, v.hasPrefix("_#") { continue }
        access.keyColumns.append(c)
        access.keys.append(operand(t))
      }
      return .absent(access)
    case .comparison(let op, let left, let right, _):
      if op == .equal, let v = left.variableName, !bound.contains(v) {
        return assign(v, right, bound: &bound)
      }
      if op == .equal, let v = right.variableName, !bound.contains(v) {
        return assign(v, left, bound: &bound)
      }
      return .filter(op, operand(left), operand(right))
    case .aggregate(let g):
      let outside = Safety.variablesOutside(g, in: body, head: nil, enclosing: enclosing)
      let groups = Set(g.body.flatMap(\.variables)).intersection(outside)
      var inner = plan(g.body, bound: groups, deltaAtom: nil, inAggregate: true, enclosing: outside, keep: [])
      var local: [String] = []
      for v in g.body.flatMap(\.variables) where !groups.contains(v) && !local.contains(v) && slots[v] != nil {
        local.append(v)
      }
      let localSlots = local.compactMap { slots[$0] }
      let value = g.value.map { operand($0) }
      let result: AggregatePlan.Result
      if let v = g.result.variableName, !bound.contains(v) {
        result = .bind(slot(v))
        bound.insert(v)
      } else {
        result = .compare(operand(g.result))
      }
      var countsRows = false
      if g.function == .count, let access = inner.last?.positiveAtom, access.checkColumns.isEmpty {
        let bindSlots = Set(access.bindSlots)
        if inner.count == 1, bindSlots.count == access.bindSlots.count, bindSlots == Set(localSlots) {
          countsRows = true
        } else {
          // Each binding before the last atom yields one distinct binding per matching row.
          inner[inner.count - 1] = countEachRow(inner[inner.count - 1])
        }
      }
      return .aggregate(
        AggregatePlan(
          function: g.function, body: inner, localSlots: localSlots, value: value, result: result,
          countsRows: countsRows, origin: Origin(g.span)))
    }
  }

  /// A scan or lookup whose matching rows are counted, not visited (`Visit.counted`).
  private func countEachRow(_ step: Step) -> Step {
    switch step {
    case .scan(let access, _): return .scan(access, .counted)
    case .lookup(let access, _): return .lookup(access, .counted)
    default: return step
    }
  }

  private mutating func assign(_ v: String, _ t: Term, bound: inout Set<String>) -> Step {
    let value = operand(t)
    let target = slot(v)
    bound.insert(v)
    return .assign(target, value)
  }

  // MARK: - Operands

  mutating func operand(_ t: Term) -> Operand {
    switch t {
    case .variable(let v, _): return .slot(slot(v))
    case .constant(let c, _): return .constant(c)
    default: return .expression(expression(t))
    }
  }

  private mutating func expression(_ t: Term) -> Expression {
    switch t {
    case .variable(let v, _): return .slot(slot(v))
    case .constant(let c, _): return .constant(c)
    case .binary(let op, let a, let b, let s): return .binary(op, expression(a), expression(b), Origin(s))
    case .negate(let a, let s): return .negate(expression(a), Origin(s))
    }
  }
}
