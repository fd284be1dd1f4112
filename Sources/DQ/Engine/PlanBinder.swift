/// Turns plans into the executor's form: finds (or creates, empty) each relation a plan names,
/// registers the indexes its lookups and negations read (built when first read), interns its
/// constants and numbers its expressions.
struct PlanBinder {
  let database: Database
  private var expressions: [BoundExpression] = []

  init(database: Database) {
    self.database = database
  }

  /// Binds every rule of a stratum.
  static func bind(_ stratum: StratumPlan, to database: Database) -> BoundStratum {
    BoundStratum(
      plan: stratum, firstRound: stratum.firstRound.map { bind($0, to: database) },
      deltaVersions: stratum.deltaVersions.map { bind($0, to: database) })
  }

  /// Binds one rule or query.
  static func bind(_ rule: RulePlan, to database: Database) -> BoundRule {
    var b = PlanBinder(database: database)
    let body = b.bind(rule.steps, projection: rule.projection)
    var alternative: BoundRule? = nil
    if let steps = rule.alternative {
      var a = PlanBinder(database: database)
      let other = a.bind(steps, projection: rule.projection)
      alternative = BoundRule(
        body: other, expressions: a.expressions, slotCount: rule.slotNames.count, headName: rule.headName,
        span: rule.origin.span)
    }
    return BoundRule(
      body: body, expressions: b.expressions, slotCount: rule.slotNames.count, headName: rule.headName,
      span: rule.origin.span, alternative: alternative)
  }

  /// The value of an expression over constants (a fact's argument, which the resolver has
  /// checked is ground), computed directly: no executor is needed for it.
  static func evaluate(ground e: Expression, store: ValueStore) throws(EvaluationError) -> Value {
    switch e {
    case .constant(let c): return store.constant(c)
    case .binary(let op, let a, let b, let origin):
      return try Arithmetic.apply(
        op, try evaluate(ground: a, store: store), try evaluate(ground: b, store: store), store: store,
        span: origin.span)
    case .negate(let a, let origin):
      return try Arithmetic.negate(try evaluate(ground: a, store: store), store: store, span: origin.span)
    case .slot:
      throw EvaluationError(.runtime, "A fact's argument has a variable", at: nil)
    }
  }

  private mutating func bind(_ steps: [Step], projection: [Operand]) -> BoundSteps {
    BoundSteps(steps.map { bind($0) }, projection: projection.map { bind($0) })
  }

  private mutating func bind(_ step: Step) -> BoundStep {
    switch step {
    case .scan(let a, let visit):
      return atom(.scan, a, visit: visit, index: nil)
    case .lookup(let a, let visit):
      return atom(.lookup, a, visit: visit, index: a.keyColumns)
    case .member(let a):
      return atom(.member, a, visit: .everyRow, index: nil)
    case .absent(let a):
      // A negation with every column given finds the tuple; with none, tests for any row.
      let partial = !a.keyColumns.isEmpty && a.keyColumns.count < a.arity
      return atom(.absent, a, visit: .everyRow, index: partial ? a.keyColumns : nil)
    case .filter(let op, let l, let r):
      return BoundStep(.filter, comparison: op, left: bind(l), right: bind(r))
    case .assign(let target, let value):
      return BoundStep(.assign, right: bind(value), target: target)
    case .aggregate(let plan):
      let body = bind(plan.body, projection: [])
      var resultSlot: Int? = nil
      var resultOperand: BoundOperand? = nil
      switch plan.result {
      case .bind(let s): resultSlot = s
      case .compare(let o): resultOperand = bind(o)
      }
      let aggregate = BoundAggregate(
        function: plan.function, body: body, value: plan.value.map { bind($0) }, resultSlot: resultSlot,
        resultOperand: resultOperand, countsRows: plan.countsRows)
      body.aggregate = aggregate
      return BoundStep(.aggregate, aggregate: aggregate, span: plan.origin.span)
    }
  }

  private mutating func atom(_ kind: BoundStep.Kind, _ a: AtomAccess, visit: Visit, index columns: [Int]?) -> BoundStep {
    let relation = database.relation(a.relation, arity: a.arity)
    return BoundStep(
      kind, relationName: a.relation, range: a.range, relation: relation,
      index: columns.map { relation.plannedIndex(on: $0) }, visit: visit, keys: a.keys.map { bind($0) },
      bindColumns: a.bindColumns, bindSlots: a.bindSlots, checkColumns: a.checkColumns,
      checkOperands: a.checkOperands.map { bind($0) })
  }

  private mutating func bind(_ o: Operand) -> BoundOperand {
    switch o {
    case .slot(let s): return .slot(s)
    case .constant(let c): return .constant(database.store.constant(c))
    case .expression(let e):
      expressions.append(PlanBinder.bind(e, store: database.store))
      return .expression(expressions.count - 1)
    }
  }

  private static func bind(_ e: Expression, store: ValueStore) -> BoundExpression {
    switch e {
    case .slot(let s): return .slot(s)
    case .constant(let c): return .constant(store.constant(c))
    case .binary(let op, let a, let b, let origin):
      return .binary(op, bind(a, store: store), bind(b, store: store), origin.span)
    case .negate(let a, let origin): return .negate(bind(a, store: store), origin.span)
    }
  }
}
