/// What kinds of value a column can hold, inferred before any SQL runs, so that a column whose
/// values are all of one kind gets that SQL type (`bigint`, `float8`, a day number as `bigint`,
/// `text COLLATE "C"`) and only a column mixing kinds keeps the composite `dqv`
/// (see `SQLValueEncoding`).
///
/// A small lattice: `none` (the column can hold no value at all) below the four kinds, `mixed`
/// above them. The inference is an over-approximation: a column's kind covers every value it
/// can hold in any state of the evaluation (facts, server tables' column types, and what every
/// rule can derive, iterated to a fixpoint), so a typed column never meets a value of another
/// kind.
enum SQLKind: Sendable, Hashable {
  case none, integer, decimal, date, symbol, mixed

  /// The least kind covering both.
  func join(_ other: SQLKind) -> SQLKind {
    if self == other || other == .none { return self }
    if self == .none { return other }
    return .mixed
  }

  /// The kind of a constant.
  init(_ c: Constant) {
    switch c {
    case .integer: self = .integer
    case .decimal: self = .decimal
    case .date: self = .date
    case .symbol: self = .symbol
    }
  }

  /// Whether the SQL type is a fixed-width scalar (a btree index entry of it is small).
  var isFixedWidth: Bool { self != .symbol && self != .mixed }

  /// The SQL type a column or value of this kind has (`none` is stored as `bigint`; it never
  /// holds a row).
  func sqlType(_ schema: String) -> String {
    switch self {
    case .none, .integer, .date: return "bigint"
    case .decimal: return "float8"
    case .symbol: return "text COLLATE \"C\""
    case .mixed: return "\(schema).dqv"
    }
  }

  /// The kind of `x op y` for operands of kinds `x` and `y`, as `Arithmetic` computes it:
  /// `mixed` where the operation can fail for every value or the kinds are not known (the value
  /// stays a `dqv`, computed and checked by `dq_arith`).
  static func arithmetic(_ op: ArithmeticOperator, _ x: SQLKind, _ y: SQLKind) -> SQLKind {
    if x == .none || y == .none { return .none }
    switch (x, y) {
    case (.integer, .integer): return .integer
    case (.integer, .decimal), (.decimal, .integer), (.decimal, .decimal): return .decimal
    case (.date, .integer) where op == .add || op == .subtract: return .date
    case (.integer, .date) where op == .add: return .date
    case (.date, .date) where op == .subtract: return .integer
    default: return .mixed
    }
  }

  /// The kind of `-x`.
  static func negation(_ x: SQLKind) -> SQLKind {
    switch x {
    case .none, .integer, .decimal: return x
    default: return .mixed
    }
  }

  /// The kind of an aggregate's result for values of kind `value` (`count` has none).
  static func aggregate(_ f: AggregateFunction, value: SQLKind) -> SQLKind {
    switch f {
    case .count: return .integer
    // Integers sum to an integer (0 over nothing); decimals to a decimal, but 0 over nothing.
    case .sum: return value == .none || value == .integer ? .integer : .mixed
    case .min, .max: return value
    }
  }

  /// The kind a value of a server table's column type becomes (`SQLValueEncoding.fromColumn`);
  /// a column that may hold NULL (read as the empty symbol) joins `symbol`.
  static func ofServerType(_ type: String, nullable: Bool) -> SQLKind {
    let kind: SQLKind
    switch type {
    case "smallint", "integer", "bigint": kind = .integer
    case "real", "double precision": kind = .decimal
    case _ where type == "numeric" || type.hasPrefix("numeric("): kind = .decimal
    case "date": kind = .date
    default: kind = .symbol
    }
    return nullable ? kind.join(.symbol) : kind
  }

  /// The kinds of the columns of the stored rows of a relation.
  /// Column by column, from the values' tags (only a boxed number is looked up, to tell an
  /// integer from a decimal), stopping at a column's first mix: a million rows take
  /// milliseconds, and it runs before every query.
  static func ofRows(_ rows: Relation, store: ValueStore) -> [SQLKind] {
    var kinds = [SQLKind](repeating: .none, count: rows.arity)
    for c in 0..<rows.arity {
      var kind = SQLKind.none
      for r in 0..<rows.count {
        let v = rows[r, c]
        let k: SQLKind
        switch ValueStore.tag(v) {
        case 0: k = .integer
        case 2: k = .date
        case 3: k = .symbol
        default: k = SQLKind(store.decode(v))
        }
        if k != kind {
          kind = kind.join(k)
          if kind == .mixed { break }
        }
      }
      kinds[c] = kind
    }
    return kinds
  }

  /// The kinds of every relation the plans read or derive: `initial` holds what the loaded
  /// data holds (facts, server tables; a relation missing there holds nothing but what its rules
  /// derive); then each rule's head columns take the kinds of what it projects, until nothing
  /// changes.
  static func infer(_ plans: [StratumPlan], arity: [String: Int], initial: [String: [SQLKind]]) -> [String: [SQLKind]] {
    var kinds: [String: [SQLKind]] = [:]
    for (name, n) in arity {
      var k = [SQLKind](repeating: .none, count: n)
      if let given = initial[name], given.count == n { k = given }
      kinds[name] = k
    }
    var changed = true
    while changed {
      changed = false
      for plan in plans {
        for rule in plan.firstRound {
          guard let head = rule.headName, var current = kinds[head], current.count == rule.projection.count else { continue }
          let heads = projected(rule, kinds)
          for (c, k) in heads.enumerated() {
            let joined = current[c].join(k)
            if joined != current[c] {
              current[c] = joined
              changed = true
            }
          }
          kinds[head] = current
        }
      }
    }
    return kinds
  }

  /// The kinds of a rule's projected values, its slots' kinds following its steps.
  static func projected(_ rule: RulePlan, _ kinds: [String: [SQLKind]]) -> [SQLKind] {
    var slots: [Int: SQLKind] = [:]
    walk(rule.steps, kinds, &slots)
    return rule.projection.map { of($0, slots) }
  }

  private static func walk(_ steps: [Step], _ kinds: [String: [SQLKind]], _ slots: inout [Int: SQLKind]) {
    for step in steps {
      switch step {
      case .scan(let a, _), .lookup(let a, _):
        let columns = kinds[a.relation] ?? []
        for (c, s) in zip(a.bindColumns, a.bindSlots) { slots[s] = c < columns.count ? columns[c] : .mixed }
      case .assign(let s, let o):
        slots[s] = of(o, slots)
      case .aggregate(let g):
        var inner = slots
        walk(g.body, kinds, &inner)
        let value = g.value.map { of($0, inner) } ?? .none
        if case .bind(let s) = g.result { slots[s] = aggregate(g.function, value: value) }
      case .member, .absent, .filter: break
      }
    }
  }

  /// The kind of an operand given the kinds of the slots.
  static func of(_ o: Operand, _ slots: [Int: SQLKind]) -> SQLKind {
    switch o {
    case .slot(let s): return slots[s] ?? .mixed
    case .constant(let c): return SQLKind(c)
    case .expression(let e): return of(e, slots)
    }
  }

  static func of(_ e: Expression, _ slots: [Int: SQLKind]) -> SQLKind {
    switch e {
    case .slot(let s): return slots[s] ?? .mixed
    case .constant(let c): return SQLKind(c)
    case .binary(let op, let x, let y, _): return arithmetic(op, of(x, slots), of(y, slots))
    case .negate(let x, _): return negation(of(x, slots))
    }
  }
}
