/// Compiles rule bodies into step lists: orders literals from what is bound, picks an index
/// for each atom, and emits one version per recursive atom for semi-naive evaluation.
struct Planner {
  /// Finds (or creates, empty) the stored relation for a name and arity.
  let relationFor: (String, Int) -> Relation
  let store: ValueStore
  /// Relations of the stratum being evaluated: their atoms read old/delta/full row ranges.
  let recursive: Set<String>

  private var slots: [String: Int] = [:]
  private var slotNames: [String] = []
  private var expressions: [Expression] = []

  init(relationFor: @escaping (String, Int) -> Relation, store: ValueStore, recursive: Set<String>) {
    self.relationFor = relationFor
    self.store = store
    self.recursive = recursive
  }

  /// Compiles a rule; `deltaAtom` is the body index of the atom that reads the delta.
  static func compile(
    rule: Rule, deltaAtom: Int?, relationFor: @escaping (String, Int) -> Relation, store: ValueStore,
    recursive: Set<String>
  ) -> CompiledRule {
    var p = Planner(relationFor: relationFor, store: store, recursive: recursive)
    let head = Set(rule.head.variables)
    let list = p.plan(rule.body, bound: [], deltaAtom: deltaAtom, inAggregate: false, enclosing: head, keep: head)
    list.projection = rule.head.arguments.map { p.operand($0) }
    let compiled = CompiledRule(
      body: list, expressions: p.expressions, slotCount: p.slotNames.count, headName: rule.head.name,
      slotNames: p.slotNames, deltaAtom: deltaAtom)
    compiled.span = rule.span
    return compiled
  }

  /// Compiles a query; the projection is its shown variables.
  static func compile(query: Query, relationFor: @escaping (String, Int) -> Relation, store: ValueStore) -> CompiledRule {
    compile(body: query.body, projection: query.shownVariables, relationFor: relationFor, store: store)
  }

  /// Compiles a body whose answers are the given variables.
  static func compile(
    body: [Literal], projection: [String], relationFor: @escaping (String, Int) -> Relation, store: ValueStore
  ) -> CompiledRule {
    var p = Planner(relationFor: relationFor, store: store, recursive: [])
    let list = p.plan(body, bound: [], deltaAtom: nil, inAggregate: false, enclosing: [], keep: Set(projection))
    list.projection = projection.map { .slot(p.slots[$0] ?? 0) }
    let compiled = CompiledRule(
      body: list, expressions: p.expressions, slotCount: p.slotNames.count, headName: nil, slotNames: p.slotNames,
      deltaAtom: nil)
    if let first = body.first, let last = body.last { compiled.span = first.span.to(last.span) }
    return compiled
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
  private mutating func plan(
    _ body: [Literal], bound initial: Set<String>, deltaAtom: Int?, inAggregate: Bool, enclosing: Set<String>,
    keep: Set<String>
  ) -> StepList {
    let list = StepList()
    var bound = initial
    var remaining = Array(body.indices)
    func take(_ i: Int) { remaining.removeAll { $0 == i } }
    /// Marks an atom step whose new variables nothing after it reads (an existence check), or,
    /// when it is the body's first scan and only some of its columns are read later by a body
    /// that goes on to other atoms, the columns to take distinct combinations of.
    func markExistence(_ step: Step, _ chosen: Int) {
      guard !inAggregate, step.kind == .scan || step.kind == .lookup else { return }
      var later = keep
      for i in remaining where i != chosen { later.formUnion(body[i].variables) }
      let read = zip(step.bindColumns, step.bindSlots).filter { later.contains(slotNames[$0.1]) }.map(\.0)
      if read.isEmpty {
        step.existsOnly = true
        return
      }
      let multiplies = remaining.contains { i in
        if i == chosen { return false }
        if case .comparison = body[i] { return false }
        return true
      }
      if list.steps.isEmpty, step.kind == .scan, step.checkColumns.isEmpty, multiplies, read.count < (step.relation?.arity ?? 0) {
        step.distinctColumns = read
      }
    }

    if let d = deltaAtom, case .positive(let a) = body[d] {
      let step = atomStep(a, literal: d, deltaAtom: d, bound: &bound, inAggregate: inAggregate)
      markExistence(step, d)
      list.steps.append(step)
      take(d)
    }
    while !remaining.isEmpty {
      // Filters, assignments, negations and aggregates as soon as they can run.
      if let i = remaining.first(where: { isReady(body[$0], bound, body, enclosing) }) {
        list.steps.append(nonAtomStep(body[i], bound: &bound, body: body, enclosing: enclosing))
        take(i)
        continue
      }
      // Otherwise the positive atom with the most bound columns, then the smallest.
      var best: (index: Int, score: (Int, Int))? = nil
      for i in remaining {
        guard case .positive(let a) = body[i] else { continue }
        let boundColumns = a.arguments.filter { t in
          if let v = t.variableName { return bound.contains(v) }
          return isBound(t, bound)
        }.count
        let size = relationFor(a.name, a.arity).count
        let score = (boundColumns, -size)
        if let b = best, score <= b.score { continue }
        best = (i, score)
      }
      guard let choice = best else {
        // Unsafe literals are rejected before planning; keep going rather than loop forever.
        for i in remaining { list.steps.append(nonAtomStep(body[i], bound: &bound, body: body, enclosing: enclosing)) }
        break
      }
      if case .positive(let a) = body[choice.index] {
        let step = atomStep(a, literal: choice.index, deltaAtom: deltaAtom, bound: &bound, inAggregate: inAggregate)
        markExistence(step, choice.index)
        list.steps.append(step)
      }
      take(choice.index)
    }
    return list
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

  private mutating func atomStep(_ a: Atom, literal: Int, deltaAtom: Int?, bound: inout Set<String>, inAggregate: Bool) -> Step {
    let relation = relationFor(a.name, a.arity)
    var range = RowRange.full
    if recursive.contains(a.name), let d = deltaAtom {
      range = literal == d ? .delta : (literal < d ? .old : .full)
    }
    var keyColumns: [Int] = [], keys: [Operand] = []
    var bindColumns: [Int] = [], bindSlots: [Int] = []
    var checkColumns: [Int] = [], checkOperands: [Operand] = []
    var bindingNow: Set<String> = []
    for (c, t) in a.arguments.enumerated() {
      if let v = t.variableName {
        if v.hasPrefix("_#") && !inAggregate { continue }
        if bound.contains(v) {
          keyColumns.append(c)
          keys.append(.slot(slot(v)))
        } else if bindingNow.contains(v) {
          checkColumns.append(c)
          checkOperands.append(.slot(slot(v)))
        } else {
          bindingNow.insert(v)
          bindColumns.append(c)
          bindSlots.append(slot(v))
        }
      } else {
        keyColumns.append(c)
        keys.append(operand(t))
      }
    }
    bound.formUnion(bindingNow)
    let kind: Step.Kind
    if keyColumns.isEmpty {
      kind = .scan
    } else if keyColumns.count == a.arity && checkColumns.isEmpty {
      kind = .member
    } else {
      kind = .lookup
    }
    let step = Step(kind, span: a.span)
    step.relationName = a.name
    step.relation = relation
    step.range = range
    step.keys = keys
    if kind == .lookup { step.index = relation.plannedIndex(on: keyColumns) }
    step.bindColumns = bindColumns
    step.bindSlots = bindSlots
    step.checkColumns = checkColumns
    step.checkOperands = checkOperands
    return step
  }

  private mutating func nonAtomStep(_ l: Literal, bound: inout Set<String>, body: [Literal], enclosing: Set<String>) -> Step {
    switch l {
    case .positive(let a):
      return atomStep(a, literal: -1, deltaAtom: nil, bound: &bound, inAggregate: false)
    case .negative(let a, let span):
      let relation = relationFor(a.name, a.arity)
      var keyColumns: [Int] = [], keys: [Operand] = []
      for (c, t) in a.arguments.enumerated() {
        if let v = t.variableName, v.hasPrefix("_#") { continue }
        keyColumns.append(c)
        keys.append(operand(t))
      }
      let step = Step(.absent, span: span)
      step.relationName = a.name
      step.relation = relation
      step.keys = keys
      if !keyColumns.isEmpty && keyColumns.count < a.arity { step.index = relation.plannedIndex(on: keyColumns) }
      return step
    case .comparison(let op, let left, let right, let span):
      if op == .equal, let v = left.variableName, !bound.contains(v) {
        return assign(v, right, span: span, bound: &bound)
      }
      if op == .equal, let v = right.variableName, !bound.contains(v) {
        return assign(v, left, span: span, bound: &bound)
      }
      let step = Step(.filter, span: span)
      step.comparison = op
      step.left = operand(left)
      step.right = operand(right)
      return step
    case .aggregate(let g):
      let outside = Safety.variablesOutside(g, in: body, head: nil, enclosing: enclosing)
      let groups = Set(g.body.flatMap(\.variables)).intersection(outside)
      let inner = plan(g.body, bound: groups, deltaAtom: nil, inAggregate: true, enclosing: outside, keep: [])
      var local: [String] = []
      for v in g.body.flatMap(\.variables) where !groups.contains(v) && !local.contains(v) && slots[v] != nil {
        local.append(v)
      }
      let value = g.value.map { operand($0) }
      var resultSlot: Int? = nil
      var resultOperand: Operand? = nil
      if let v = g.result.variableName, !bound.contains(v) {
        resultSlot = slot(v)
        bound.insert(v)
      } else {
        resultOperand = operand(g.result)
      }
      let plan = AggregatePlan(
        function: g.function, body: inner, localSlots: local.compactMap { slots[$0] }, value: value,
        resultSlot: resultSlot, resultOperand: resultOperand)
      inner.aggregate = plan
      if g.function == .count, inner.steps.count == 1, let only = inner.steps.first,
        only.kind == .scan || only.kind == .lookup || only.kind == .member, only.checkColumns.isEmpty,
        Set(only.bindSlots).count == only.bindSlots.count, Set(only.bindSlots) == Set(plan.localSlots)
      {
        plan.countsRows = true
      } else if g.function == .count, let last = inner.steps.last, last.kind == .scan || last.kind == .lookup,
        last.checkColumns.isEmpty
      {
        // Each binding before the last atom yields one distinct binding per matching row.
        last.countsOnly = true
      }
      let step = Step(.aggregate, span: g.span)
      step.aggregate = plan
      return step
    }
  }

  private mutating func assign(_ v: String, _ t: Term, span: SourceSpan, bound: inout Set<String>) -> Step {
    let step = Step(.assign, span: span)
    step.right = operand(t)
    step.target = slot(v)
    bound.insert(v)
    return step
  }

  // MARK: - Operands

  /// Expressions compiled so far (for evaluating a fact's ground arguments).
  var compiledExpressions: [Expression] { expressions }

  mutating func operand(_ t: Term) -> Operand {
    switch t {
    case .variable(let v, _): return .slot(slot(v))
    case .constant(let c, _): return .constant(store.constant(c))
    default:
      expressions.append(expression(t))
      return .expression(expressions.count - 1)
    }
  }

  private mutating func expression(_ t: Term) -> Expression {
    switch t {
    case .variable(let v, _): return .slot(slot(v))
    case .constant(let c, _): return .constant(store.constant(c))
    case .binary(let op, let a, let b, let s): return .binary(op, expression(a), expression(b), s)
    case .negate(let a, let s): return .negate(expression(a), s)
    }
  }
}
