/// The plan IR: a rule body compiled into a list of steps over variable slots.
///
/// Printed forms (see PlanPrinter):
/// - `scan rel[range] bind(c0->X)`: every row in the range
/// - `lookup rel[range] on (c1=Y) bind(...)`: rows whose key columns equal bound values
/// - `member rel(X, Y)`: a fully bound positive atom
/// - `not rel(X, _)`: no row matches the bound columns
/// - `filter X < Y`, `let X = Y + 1`, `X = count { ... }`

/// Where a value comes from when a step runs.
public struct Operand: Sendable, Hashable {
  public enum Kind: UInt8, Sendable { case slot, constant, expression }
  public var kind: Kind
  /// The slot number, the constant's encoded value, or the expression's index.
  public var payload: UInt32

  public static func slot(_ s: Int) -> Operand { Operand(kind: .slot, payload: UInt32(s)) }
  public static func constant(_ v: Value) -> Operand { Operand(kind: .constant, payload: v) }
  public static func expression(_ e: Int) -> Operand { Operand(kind: .expression, payload: UInt32(e)) }
}

/// Arithmetic compiled over slots.
public indirect enum Expression: Sendable {
  case slot(Int)
  case constant(Value)
  case binary(ArithmeticOperator, Expression, Expression, SourceSpan)
  case negate(Expression, SourceSpan)
}

/// Which rows of an atom's relation a step reads; see `RelationVersions`.
public enum RowRange: Sendable {
  /// Every row known at the start of the round (old and delta).
  case full
  /// Rows known before the last round.
  case old
  /// Rows added by the last round.
  case delta
}

/// One step of a compiled body.
public final class Step {
  public enum Kind: Sendable { case scan, lookup, member, absent, filter, assign, aggregate }
  public let kind: Kind
  public let span: SourceSpan

  // Atom steps. The relation and its index belong to the database, which outlives every plan.
  public internal(set) var relationName = ""
  var relation: Relation? {
    get { relationRef?.takeUnretainedValue() }
    set { relationRef = newValue.map { Unmanaged.passUnretained($0) } }
  }
  var index: Index? {
    get { indexRef?.takeUnretainedValue() }
    set { indexRef = newValue.map { Unmanaged.passUnretained($0) } }
  }
  /// The same references without reference counting, for the executor's loops.
  private(set) var relationRef: Unmanaged<Relation>?
  private(set) var indexRef: Unmanaged<Index>?
  public internal(set) var range: RowRange = .full
  /// For `lookup`/`absent` with an index: values of the index columns; for `member`: every column.
  var keys: [Operand] = []
  /// Columns copied into slots.
  var bindColumns: [Int] = []
  var bindSlots: [Int] = []
  /// Columns that must equal an operand (repeated variables, scans with constants).
  var checkColumns: [Int] = []
  var checkOperands: [Operand] = []
  /// The last atom of a count's body whose rows only multiply the count (nothing after it, no
  /// checks): the executor adds how many rows match instead of visiting each.
  var countsOnly = false
  /// A scan or lookup none of whose new variables is read later: the rest of the body runs
  /// once for the first matching row (an existence check), not once per row.
  var existsOnly = false
  /// For a body's first scan some of whose columns nothing later reads: the columns that are
  /// read. The rest of the body runs once per distinct combination of them, not once per row.
  var distinctColumns: [Int] = [] {
    didSet { distinctCount = distinctColumns.count }
  }
  /// `distinctColumns.count`, read without touching the array.
  private(set) var distinctCount = 0
  /// Row range for the current run, set before each run.
  var low = 0
  var high = Int.max

  // Filter and assign steps.
  var comparison: ComparisonOperator = .equal
  var left = Operand.slot(0)
  var right = Operand.slot(0)
  var target = 0

  // Aggregate steps.
  var aggregate: AggregatePlan?

  // The same lists in raw buffers, for the executor's inner loops (no reference counting).
  private(set) var keyBuffer = UnsafeMutablePointer<Operand>.allocate(capacity: 1)
  private(set) var keyCount = 0
  private(set) var bindColumnBuffer = UnsafeMutablePointer<Int>.allocate(capacity: 1)
  private(set) var bindSlotBuffer = UnsafeMutablePointer<Int>.allocate(capacity: 1)
  private(set) var bindCount = 0
  private(set) var checkColumnBuffer = UnsafeMutablePointer<Int>.allocate(capacity: 1)
  private(set) var checkOperandBuffer = UnsafeMutablePointer<Operand>.allocate(capacity: 1)
  private(set) var checkCount = 0

  init(_ kind: Kind, span: SourceSpan) {
    self.kind = kind
    self.span = span
  }

  /// Copies the lists into the raw buffers; the planner calls it when the step is complete.
  func freeze() {
    release()
    keyBuffer = copy(keys)
    keyCount = keys.count
    bindColumnBuffer = copy(bindColumns)
    bindSlotBuffer = copy(bindSlots)
    bindCount = bindColumns.count
    checkColumnBuffer = copy(checkColumns)
    checkOperandBuffer = copy(checkOperands)
    checkCount = checkColumns.count
  }

  private func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
    let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
    if !a.isEmpty { p.initialize(from: a, count: a.count) }
    return p
  }

  private func release() {
    keyBuffer.deallocate()
    bindColumnBuffer.deallocate()
    bindSlotBuffer.deallocate()
    checkColumnBuffer.deallocate()
    checkOperandBuffer.deallocate()
  }

  deinit { release() }
}

/// A list of steps and what to do with each complete binding.
public final class StepList {
  public internal(set) var steps: [Step] = [] {
    didSet { freeze() }
  }
  /// The steps as unowned references, for the executor (the array above owns them).
  private(set) var buffer = UnsafeMutablePointer<Unowned>.allocate(capacity: 1)
  private(set) var count = 0

  /// A step without reference counting.
  struct Unowned {
    unowned(unsafe) let step: Step
  }

  private func freeze() {
    buffer.deallocate()
    buffer = .allocate(capacity: max(1, steps.count))
    for (i, s) in steps.enumerated() {
      s.freeze()
      (buffer + i).initialize(to: Unowned(step: s))
    }
    count = steps.count
  }

  deinit {
    buffer.deallocate()
    projectionBuffer.deallocate()
  }
  /// Head columns for rules and queries.
  var projection: [Operand] = [] {
    didSet {
      projectionBuffer.deallocate()
      projectionBuffer = .allocate(capacity: max(1, projection.count))
      if !projection.isEmpty { projectionBuffer.initialize(from: projection, count: projection.count) }
      projectionCount = projection.count
    }
  }
  private(set) var projectionBuffer = UnsafeMutablePointer<Operand>.allocate(capacity: 1)
  private(set) var projectionCount = 0
  /// Set for the body of an aggregate: the slots whose distinct bindings it ranges over.
  unowned(unsafe) var aggregate: AggregatePlan?
}

/// `Result = function Value : { body }`.
public final class AggregatePlan {
  public let function: AggregateFunction
  let body: StepList
  /// Slots local to the body. Every column of every atom of the body is bound to a slot, a
  /// constant or a group variable, so each binding the body's loops produce is a distinct
  /// binding: the aggregate folds them as they come, without collecting them.
  let localSlots: [Int]
  let value: Operand?
  /// Either binds this slot, or compares with `resultOperand` when already bound.
  let resultSlot: Int?
  let resultOperand: Operand?
  // The fold's state for the group being computed.
  var count = 0
  var integerSum: Int128 = 0
  var decimals: [Double] = []
  var extreme: Value?
  /// A count over one atom whose free columns are all distinct variables: the distinct
  /// bindings are exactly the matching rows, so they are counted without being collected.
  var countsRows = false

  init(function: AggregateFunction, body: StepList, localSlots: [Int], value: Operand?, resultSlot: Int?, resultOperand: Operand?) {
    self.function = function
    self.body = body
    self.localSlots = localSlots
    self.value = value
    self.resultSlot = resultSlot
    self.resultOperand = resultOperand
  }
}

/// A rule (or query) compiled for one semi-naive version.
public final class CompiledRule {
  public let body: StepList
  public let expressions: [Expression]
  public let slotCount: Int
  /// The relation the rule derives into (nil for queries).
  public let headName: String?
  /// Slot names, for plan dumps and provenance.
  public let slotNames: [String]
  /// Which body atom reads the delta (nil for the first round and non-recursive rules).
  public let deltaAtom: Int?
  /// The rule or query, for errors raised while it runs.
  public var span: SourceSpan?

  init(body: StepList, expressions: [Expression], slotCount: Int, headName: String?, slotNames: [String], deltaAtom: Int?) {
    self.body = body
    self.expressions = expressions
    self.slotCount = slotCount
    self.headName = headName
    self.slotNames = slotNames
    self.deltaAtom = deltaAtom
  }
}

/// A stratum ready to run: its relations, the rules for the first round, and the delta
/// versions of its recursive rules.
public final class StratumPlan {
  public let relations: [String]
  public let recursive: Bool
  /// Every rule of the stratum, reading full relations (the first, or only, round).
  public let firstRound: [CompiledRule]
  /// One version per recursive body atom of each rule, reading that atom's delta.
  public let deltaVersions: [CompiledRule]

  init(relations: [String], recursive: Bool, firstRound: [CompiledRule], deltaVersions: [CompiledRule]) {
    self.relations = relations
    self.recursive = recursive
    self.firstRound = firstRound
    self.deltaVersions = deltaVersions
  }
}

extension Planner {
  /// Compiles the rules of one stratum: all rules for the first round and, when recursive, one
  /// version per body atom over a relation of the stratum.
  static func compile(
    stratum relations: [String], recursive: Bool, rules: [Rule], relationFor: @escaping (String, Int) -> Relation,
    store: ValueStore
  ) -> StratumPlan {
    let members = Set(relations)
    let first = rules.map { compile(rule: $0, deltaAtom: nil, relationFor: relationFor, store: store, recursive: members) }
    var versions: [CompiledRule] = []
    if recursive {
      for rule in rules {
        for (i, l) in rule.body.enumerated() {
          if case .positive(let a) = l, members.contains(a.name) {
            versions.append(compile(rule: rule, deltaAtom: i, relationFor: relationFor, store: store, recursive: members))
          }
        }
      }
    }
    return StratumPlan(relations: relations, recursive: recursive, firstRound: first, deltaVersions: versions)
  }
}
