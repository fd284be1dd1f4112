/// The executor's form of a plan: the plan's steps bound to the database's relations and
/// indexes, with constants interned and every list copied into a raw buffer, so the executor's
/// loops touch no reference count and no existential. `PlanBinder` builds it.

/// Where a value comes from when a step runs: a slot, an interned constant, or the index of an
/// expression in `BoundRule.expressions`. Eight bytes, read with one switch.
struct BoundOperand: Sendable, Hashable {
  enum Kind: UInt8, Sendable { case slot, constant, expression }
  var kind: Kind
  /// The slot number, the constant's encoded value, or the expression's index.
  var payload: UInt32

  static func slot(_ s: Int) -> BoundOperand { BoundOperand(kind: .slot, payload: UInt32(truncatingIfNeeded: s)) }
  static func constant(_ v: Value) -> BoundOperand { BoundOperand(kind: .constant, payload: v) }
  static func expression(_ e: Int) -> BoundOperand { BoundOperand(kind: .expression, payload: UInt32(truncatingIfNeeded: e)) }
}

/// Arithmetic over slots and interned constants.
indirect enum BoundExpression: Sendable {
  case slot(Int)
  case constant(Value)
  case binary(ArithmeticOperator, BoundExpression, BoundExpression, SourceSpan?)
  case negate(BoundExpression, SourceSpan?)
}

/// One step of a bound body: the fields of every step kind, as the executor reads them.
final class BoundStep {
  enum Kind: Sendable { case scan, lookup, member, absent, filter, assign, aggregate }
  let kind: Kind

  // Atom steps. The relation and its index belong to the database, which outlives every
  // bound plan (the binder took them from it).
  let relationName: String
  let range: RowRange
  var relation: Relation? { relationRef?.takeUnretainedValue() }
  var index: Index? { indexRef?.takeUnretainedValue() }
  /// The same references without reference counting, for the executor's loops.
  let relationRef: Unmanaged<Relation>?
  let indexRef: Unmanaged<Index>?
  /// See `Visit.counted`.
  let countsOnly: Bool
  /// See `Visit.firstMatch`.
  let existsOnly: Bool
  /// See `Visit.distinct`: the columns read later (empty otherwise).
  let distinctColumns: [Int]
  /// `distinctColumns.count`, read without touching the array.
  let distinctCount: Int
  /// Row range for the current run, set before each run.
  var low = 0
  var high = Int.max

  // Filter and assign steps.
  let comparison: ComparisonOperator
  let left: BoundOperand
  let right: BoundOperand
  let target: Int

  // Aggregate steps.
  let aggregate: BoundAggregate?
  let span: SourceSpan?

  // The atom's lists in raw buffers (no reference counting).
  /// For `lookup`/`absent` with an index: values of the index columns; for `member`: every column.
  let keyBuffer: UnsafeMutablePointer<BoundOperand>
  let keyCount: Int
  /// Columns copied into slots.
  let bindColumnBuffer: UnsafeMutablePointer<Int>
  let bindSlotBuffer: UnsafeMutablePointer<Int>
  let bindCount: Int
  /// Columns that must equal an operand (repeated variables).
  let checkColumnBuffer: UnsafeMutablePointer<Int>
  let checkOperandBuffer: UnsafeMutablePointer<BoundOperand>
  let checkCount: Int

  init(
    _ kind: Kind, relationName: String = "", range: RowRange = .full, relation: Relation? = nil, index: Index? = nil,
    visit: Visit = .everyRow, keys: [BoundOperand] = [], bindColumns: [Int] = [], bindSlots: [Int] = [],
    checkColumns: [Int] = [], checkOperands: [BoundOperand] = [], comparison: ComparisonOperator = .equal,
    left: BoundOperand = .slot(0), right: BoundOperand = .slot(0), target: Int = 0, aggregate: BoundAggregate? = nil,
    span: SourceSpan? = nil
  ) {
    self.kind = kind
    self.relationName = relationName
    self.range = range
    self.relationRef = relation.map { Unmanaged.passUnretained($0) }
    self.indexRef = index.map { Unmanaged.passUnretained($0) }
    switch visit {
    case .everyRow: (countsOnly, existsOnly, distinctColumns) = (false, false, [])
    case .firstMatch: (countsOnly, existsOnly, distinctColumns) = (false, true, [])
    case .distinct(let columns): (countsOnly, existsOnly, distinctColumns) = (false, false, columns)
    case .counted: (countsOnly, existsOnly, distinctColumns) = (true, false, [])
    }
    distinctCount = distinctColumns.count
    self.comparison = comparison
    self.left = left
    self.right = right
    self.target = target
    self.aggregate = aggregate
    self.span = span
    keyBuffer = BoundStep.copy(keys)
    keyCount = keys.count
    bindColumnBuffer = BoundStep.copy(bindColumns)
    bindSlotBuffer = BoundStep.copy(bindSlots)
    bindCount = bindColumns.count
    checkColumnBuffer = BoundStep.copy(checkColumns)
    checkOperandBuffer = BoundStep.copy(checkOperands)
    checkCount = checkColumns.count
  }

  private static func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
    if !a.isEmpty { p.initialize(from: a, count: a.count) }
    return p
  }

  deinit {
    keyBuffer.deallocate()
    bindColumnBuffer.deallocate()
    bindSlotBuffer.deallocate()
    checkColumnBuffer.deallocate()
    checkOperandBuffer.deallocate()
  }
}

/// A list of bound steps and what to do with each complete binding.
final class BoundSteps {
  let steps: [BoundStep]
  /// The steps as unowned references, for the executor (the array above owns them).
  let buffer: UnsafeMutablePointer<Unowned>
  let count: Int
  /// Head columns for rules and queries (empty for an aggregate's body).
  let projectionBuffer: UnsafeMutablePointer<BoundOperand>
  let projectionCount: Int
  /// Set for the body of an aggregate: the fold each binding goes to.
  unowned(unsafe) var aggregate: BoundAggregate?

  /// A step without reference counting.
  struct Unowned {
    unowned(unsafe) let step: BoundStep
  }

  init(_ steps: [BoundStep], projection: [BoundOperand] = []) {
    self.steps = steps
    buffer = .allocate(capacity: max(1, steps.count))
    for (i, s) in steps.enumerated() { (buffer + i).initialize(to: Unowned(step: s)) }
    count = steps.count
    projectionBuffer = .allocate(capacity: max(1, projection.count))
    if !projection.isEmpty { projectionBuffer.initialize(from: projection, count: projection.count) }
    projectionCount = projection.count
  }

  deinit {
    buffer.deallocate()
    projectionBuffer.deallocate()
  }
}

/// An aggregate step's body and its fold (see `AggregatePlan`).
final class BoundAggregate {
  let function: AggregateFunction
  let body: BoundSteps
  let value: BoundOperand?
  /// Either binds this slot, or compares with `resultOperand` when already bound.
  let resultSlot: Int?
  let resultOperand: BoundOperand?
  /// See `AggregatePlan.countsRows`.
  let countsRows: Bool
  // The fold's state for the group being computed.
  var count = 0
  var integerSum: Int128 = 0
  var decimals: [Double] = []
  var extreme: Value?

  init(
    function: AggregateFunction, body: BoundSteps, value: BoundOperand?, resultSlot: Int?,
    resultOperand: BoundOperand?, countsRows: Bool
  ) {
    self.function = function
    self.body = body
    self.value = value
    self.resultSlot = resultSlot
    self.resultOperand = resultOperand
    self.countsRows = countsRows
  }
}

/// A rule (or query) ready to run.
final class BoundRule {
  let body: BoundSteps
  /// The expressions the operands name by index.
  let expressions: [BoundExpression]
  let slotCount: Int
  /// The relation the rule derives into (nil for queries).
  let headName: String?
  /// The rule or query, for errors raised while it runs.
  let span: SourceSpan?
  /// A delta version's other order (`RulePlan.alternative`), bound on its own.
  let alternative: BoundRule?

  init(
    body: BoundSteps, expressions: [BoundExpression], slotCount: Int, headName: String?, span: SourceSpan?,
    alternative: BoundRule? = nil
  ) {
    self.body = body
    self.expressions = expressions
    self.slotCount = slotCount
    self.headName = headName
    self.span = span
    self.alternative = alternative
  }
}

/// A stratum ready to run (see `StratumPlan`).
struct BoundStratum {
  let plan: StratumPlan
  let firstRound: [BoundRule]
  let deltaVersions: [BoundRule]
}
