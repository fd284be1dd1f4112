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

  /// For a scan or lookup whose next step probes a relation for a whole tuple (`member`, or
  /// `absent` without an index) or an index for a key (a `lookup`, an `absent` with an index,
  /// or either first in the body of an aggregate), made of this step's columns, values bound
  /// before and constants: where each value of that tuple or key comes from, so the loop over
  /// this step's rows can hash the probe of a row some rows ahead and prefetch what it will
  /// read (`Executor.visitRowsProbingAhead`); the table is often far larger than the caches,
  /// and each probe would otherwise wait on memory. Per value: the column of this step's row
  /// it is, or -1 for `aheadOperandBuffer`'s operand (a slot bound before this step, or a
  /// constant). `aheadCount` is 0 when the next step is no such probe. Set by `BoundSteps.init`.
  private(set) var aheadColumnBuffer: UnsafeMutablePointer<Int>?
  private(set) var aheadOperandBuffer: UnsafeMutablePointer<BoundOperand>?
  private(set) var aheadCount = 0
  /// The relation probed ahead, and the index when the probe reads one (nil: its table).
  private(set) var aheadRelationRef: Unmanaged<Relation>?
  private(set) var aheadIndexRef: Unmanaged<Index>?

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

  /// Fills the `ahead` fields when `next`, the step after this one, is a probe announced
  /// ahead whose values are all slots or constants (see `aheadCount`).
  fileprivate func planProbeAhead(_ next: BoundStep) {
    guard kind == .scan || kind == .lookup, !countsOnly else { return }
    var target = next
    if next.kind == .aggregate, let first = next.aggregate?.body.steps.first { target = first }
    guard let probed = target.relation, target.keyCount > 0 else { return }
    if target.indexRef == nil {
      guard target.kind == .member || target.kind == .absent, target.keyCount == probed.arity else { return }
    } else {
      guard target.kind == .lookup || target.kind == .absent else { return }
    }
    var columns: [Int] = [], operands: [BoundOperand] = []
    for k in 0..<target.keyCount {
      let o = target.keyBuffer[k]
      if o.kind == .expression { return }
      let column = o.kind == .slot ? (0..<bindCount).first { bindSlotBuffer[$0] == Int(o.payload) } : nil
      columns.append(column.map { bindColumnBuffer[$0] } ?? -1)
      operands.append(o)
    }
    aheadColumnBuffer = BoundStep.copy(columns)
    aheadOperandBuffer = BoundStep.copy(operands)
    aheadCount = columns.count
    aheadRelationRef = target.relationRef
    aheadIndexRef = target.indexRef
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
    aheadColumnBuffer?.deallocate()
    aheadOperandBuffer?.deallocate()
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
    for i in steps.indices.dropLast() { steps[i].planProbeAhead(steps[i + 1]) }
    projectionBuffer = .allocate(capacity: max(1, projection.count))
    if !projection.isEmpty { projectionBuffer.initialize(from: projection, count: projection.count) }
    projectionCount = projection.count
  }

  /// Whether the head tuples of two different bindings the steps reach the end with always
  /// differ, so a run derives no tuple twice: every scan and lookup that may match several
  /// rows binds each column of its atom, other than its keys, to a variable (or repeats one it
  /// binds there) that the head states as it is. Two bindings differ first at some such step,
  /// in a row, which differs from the other in a column that is not a key (rows are distinct,
  /// and the keys are the same for both), so in a variable the head states. Tests, negations,
  /// comparisons, assignments and aggregates give each binding at most one: they never
  /// repeat one. An atom with an anonymous column (`edge(X, _)`) can repeat bindings; so can a
  /// head built by arithmetic.
  var derivesDistinct: Bool {
    guard aggregate == nil, projectionCount > 0 else { return false }
    var stated = Set<Int>()
    for k in 0..<projectionCount where projectionBuffer[k].kind == .slot { stated.insert(Int(projectionBuffer[k].payload)) }
    for step in steps where step.kind == .scan || step.kind == .lookup {
      if step.existsOnly { continue }
      guard !step.countsOnly, step.distinctCount == 0, let relation = step.relation,
        step.keyCount + step.bindCount + step.checkCount == relation.arity
      else { return false }
      for b in 0..<step.bindCount where !stated.contains(step.bindSlotBuffer[b]) { return false }
    }
    return true
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
  /// Whether no two bindings a run reaches the head with give the same tuple: see
  /// `BoundSteps.derivesDistinct`.
  let derivesDistinct: Bool

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
    self.derivesDistinct = headName != nil && body.derivesDistinct
  }
}

/// A stratum ready to run (see `StratumPlan`).
struct BoundStratum {
  let plan: StratumPlan
  let firstRound: [BoundRule]
  let deltaVersions: [BoundRule]
}
