/// The plan IR: a rule body compiled into a list of steps over variable slots, as plain values.
///
/// A plan names relations by name and columns by number and holds constants and expressions as
/// written; it refers to nothing live (no relation, index or interned value), so it can be
/// printed, compared in tests, or read by another back end. `PlanBinder` (in `Engine/`) turns
/// it into the executor's form.
///
/// Printed forms (see PlanPrinter; columns count from 1, `_` is a variable nothing reads):
/// - `scan rel[range] bind(c1->X) check(c2=X)`: every row in the range
/// - `lookup rel[range] on (c1) = (Y) bind(c2->X)`: rows whose key columns equal the values
/// - `member rel(X, Y)`: a fully bound positive atom
/// - `not rel(X, _)`: no row matches the bound columns
/// - `filter X < Y + 1`, `let N = M + 1`
/// - `N = count over:` / `S = sum V over:`, the aggregate's body indented under it
/// - `emit rel(X, Y)` (a rule's head) or `answer (X, Y)` (a query's shown variables)
/// followed, for scans and lookups, by how their rows are visited when not one by one:
/// `(exists: first match only)`, `(distinct (c1) only)`, `(rows counted, not visited)`;
/// and `(counts rows)` after an aggregate counted without visiting its bindings.

/// Where a piece of a plan was written, for the errors raised while it runs. Plans that differ
/// only in where they were written are equal (tests build plans without source files).
public struct Origin: Sendable, Hashable {
  public let span: SourceSpan?

  public init(_ span: SourceSpan?) { self.span = span }

  public static func == (a: Origin, b: Origin) -> Bool { true }
  public func hash(into hasher: inout Hasher) {}
  /// For plans written by hand (tests).
  public static let none = Origin(nil)
}

/// Arithmetic over slots and constants.
public indirect enum Expression: Sendable, Hashable {
  case slot(Int)
  case constant(Constant)
  case binary(ArithmeticOperator, Expression, Expression, Origin)
  case negate(Expression, Origin)
}

/// Where a value comes from when a step runs.
public enum Operand: Sendable, Hashable {
  case slot(Int)
  case constant(Constant)
  /// Arithmetic; never a bare slot or constant (those are the cases above).
  case expression(Expression)
}

/// Which rows of an atom's relation a step reads; see `RelationVersions`.
public enum RowRange: Sendable, Hashable {
  /// Every row known at the start of the round (old and delta).
  case full
  /// Rows known before the last round.
  case old
  /// Rows added by the last round.
  case delta
}

/// How one atom is read: which columns are given, which are copied into slots, which must
/// equal a slot bound by the same atom.
public struct AtomAccess: Sendable, Hashable {
  public var relation: String
  public var arity: Int
  public var range: RowRange
  /// Columns whose values are known before the step (they select rows) and those values.
  /// For `member`: every column; for a lookup or a negation: its index columns.
  public var keyColumns: [Int]
  public var keys: [Operand]
  /// Columns copied into slots.
  public var bindColumns: [Int]
  public var bindSlots: [Int]
  /// Columns that must equal an operand (a variable repeated within the atom).
  public var checkColumns: [Int]
  public var checkOperands: [Operand]

  public init(
    relation: String, arity: Int, range: RowRange = .full, keyColumns: [Int] = [], keys: [Operand] = [],
    bindColumns: [Int] = [], bindSlots: [Int] = [], checkColumns: [Int] = [], checkOperands: [Operand] = []
  ) {
    self.relation = relation
    self.arity = arity
    self.range = range
    self.keyColumns = keyColumns
    self.keys = keys
    self.bindColumns = bindColumns
    self.bindSlots = bindSlots
    self.checkColumns = checkColumns
    self.checkOperands = checkOperands
  }
}

/// How the rest of a body runs for the rows a scan or lookup matches.
public enum Visit: Sendable, Hashable {
  /// Once per row.
  case everyRow
  /// None of the step's new variables is read later: once, for the first matching row (an
  /// existence check).
  case firstMatch
  /// A body's first scan some of whose columns nothing later reads: once per distinct
  /// combination of these columns (the ones that are read).
  case distinct([Int])
  /// The last atom of a count's body, with nothing after it and nothing to check: each row
  /// only adds one to the count, so the rows are counted, not visited.
  case counted
}

/// One step of a compiled body.
public enum Step: Sendable, Hashable {
  /// Every row in the range (no column known before the step).
  case scan(AtomAccess, Visit)
  /// The rows whose key columns equal the keys, through an index on the key columns.
  case lookup(AtomAccess, Visit)
  /// Whether a fully bound tuple is stored.
  case member(AtomAccess)
  /// No row matches the keys (`not`); the key columns are those not anonymous.
  case absent(AtomAccess)
  /// A comparison between bound values.
  case filter(ComparisonOperator, Operand, Operand)
  /// Binds a slot to a value (`X = expression` with X not yet bound).
  case assign(Int, Operand)
  case aggregate(AggregatePlan)
}

extension Step {
  /// How a scan, lookup or membership test reads its atom (nil for other steps).
  public var positiveAtom: AtomAccess? {
    switch self {
    case .scan(let a, _), .lookup(let a, _), .member(let a): return a
    default: return nil
    }
  }
}

/// `Result = function Value : { body }`.
public struct AggregatePlan: Sendable, Hashable {
  /// Either binds a slot or compares its value with an operand already bound.
  public enum Result: Sendable, Hashable {
    case bind(Int)
    case compare(Operand)
  }
  public var function: AggregateFunction
  /// The aggregate's body, ordered with its group variables bound.
  public var body: [Step]
  /// Slots local to the body. Every column of every atom of the body is bound to a slot, a
  /// constant or a group variable, so each binding the body's loops produce is a distinct
  /// binding: the aggregate folds them as they come, without collecting them.
  public var localSlots: [Int]
  /// The aggregated value; nil for `count`.
  public var value: Operand?
  public var result: Result
  /// A count over one atom whose free columns are all distinct variables: the distinct
  /// bindings are exactly the matching rows, so they are counted without being collected.
  public var countsRows: Bool
  public var origin: Origin

  public init(
    function: AggregateFunction, body: [Step], localSlots: [Int], value: Operand?, result: Result, countsRows: Bool,
    origin: Origin = .none
  ) {
    self.function = function
    self.body = body
    self.localSlots = localSlots
    self.value = value
    self.result = result
    self.countsRows = countsRows
    self.origin = origin
  }
}

/// A rule (or query) compiled for one semi-naive version.
public struct RulePlan: Sendable, Hashable {
  public var steps: [Step]
  /// The head's arguments (rules) or the shown variables (queries).
  public var projection: [Operand]
  /// The relation the rule derives into (nil for queries).
  public var headName: String?
  /// Slot names, for printing and provenance; their count is the number of slots.
  public var slotNames: [String]
  /// Which body literal reads the delta (nil for the first round and non-recursive rules).
  public var deltaAtom: Int?
  /// The rule or query, for errors raised while it runs.
  public var origin: Origin
  /// A delta version's other order (nil when there is none): the body ordered as if no atom
  /// read a delta, the delta atom placed where its bound columns make it a lookup (over the
  /// same slots and row ranges as `steps`, so it derives the same tuples, in another order).
  /// `steps` costs the delta's rows times what each matches; this costs what the atoms read
  /// before the delta matches, whatever the delta's size. A round runs the one estimated
  /// cheaper (`BoundRule.estimatedWork`): points-to's `pointsTo(Y, W) :- load(Y, X),
  /// pointsTo(X, H), heapPointsTo(H, W)` reads a large `heapPointsTo` delta best from `load`.
  public var alternative: [Step]?

  public init(
    steps: [Step], projection: [Operand], headName: String?, slotNames: [String], deltaAtom: Int? = nil,
    origin: Origin = .none, alternative: [Step]? = nil
  ) {
    self.steps = steps
    self.projection = projection
    self.headName = headName
    self.slotNames = slotNames
    self.deltaAtom = deltaAtom
    self.origin = origin
    self.alternative = alternative
  }
}

/// A stratum ready to run: its relations, the rules for the first round, and the delta
/// versions of its recursive rules.
public struct StratumPlan: Sendable, Hashable {
  public var relations: [String]
  public var recursive: Bool
  /// Every rule of the stratum, reading full relations (the first, or only, round).
  public var firstRound: [RulePlan]
  /// One version per recursive body atom of each rule, reading that atom's delta.
  public var deltaVersions: [RulePlan]
}
