/// Turns plan IR (`Plan.swift`) into PostgreSQL: a rule or query plan becomes one SELECT over
/// the relations' tables (see `SQLValueEncoding` for how values are stored).
///
/// A plan's steps run in order; SQL does not promise an order of evaluation, so every step that
/// can raise an error (arithmetic, `sum`) closes the query built so far into a subquery
/// (`OFFSET 0` keeps PostgreSQL from merging it or pushing conditions into it) whose output
/// computes the value: it is computed for exactly the bindings that reached the step, as the
/// native engine does. Conditions that cannot fail (joins, comparisons, `NOT EXISTS`) stay
/// where the planner can reorder them.
struct SQLGenerator {
  /// Where the type, the functions and the tables live.
  let schema: String
  /// Places errors are reported at: the number a SQL function is given is an index here.
  private(set) var spans: [SourceSpan?] = []
  private var aliases = 0

  init(schema: String) { self.schema = schema }

  // MARK: - Names

  func table(_ relation: String, _ range: RowRange = .full) -> String {
    switch range {
    case .full, .old: return "\(schema).\(SQLValueEncoding.identifier(relation))"
    case .delta: return "\(schema).\(SQLValueEncoding.identifier(relation + "$d"))"
    }
  }
  func newTable(_ relation: String) -> String { "\(schema).\(SQLValueEncoding.identifier(relation + "$n"))" }
  static func column(_ c: Int) -> String { "c\(c)" }
  /// A relation of no columns keeps one (always the integer 0), so every table has a column.
  static func columnCount(_ arity: Int) -> Int { max(1, arity) }
  var zero: String { SQLValueEncoding.literal(.integer(0), schema: schema) }

  /// The number SQL passes for a place in the program (see `spans`).
  mutating func spanNumber(_ origin: Origin) -> Int { span(origin) }

  private mutating func span(_ origin: Origin) -> Int {
    spans.append(origin.span)
    return spans.count - 1
  }

  private mutating func alias(_ prefix: String) -> String {
    aliases += 1
    return "\(prefix)\(aliases)"
  }

  // MARK: - Bodies

  /// The query under construction: FROM items, WHERE conditions, and the SQL of each bound slot.
  private struct Level {
    var from: [String] = []
    var conditions: [String] = []
    var slots: [Int: String] = [:]
  }

  /// A SELECT of the projection's values (as columns c0, c1, ...) for the plan's bindings.
  mutating func select(_ plan: RulePlan, distinct: Bool = true) -> String {
    var level = Level()
    body(plan.steps, &level)
    var values: [String] = []
    for p in plan.projection { values.append(operand(p, &level)) }
    if values.isEmpty { values = [zero] }
    return finish(level, values.enumerated().map { "\($1) AS \(Self.column($0))" }, distinct: distinct)
  }

  private func finish(_ level: Level, _ outputs: [String], distinct: Bool) -> String {
    var sql = "SELECT \(distinct ? "DISTINCT " : "")\(outputs.joined(separator: ", "))"
    if !level.from.isEmpty { sql += " FROM " + level.from.joined(separator: " CROSS JOIN ") }
    if !level.conditions.isEmpty { sql += " WHERE " + level.conditions.joined(separator: " AND ") }
    return sql
  }

  private mutating func body(_ steps: [Step], _ level: inout Level) {
    for step in steps { self.step(step, &level) }
  }

  private mutating func step(_ step: Step, _ level: inout Level) {
    switch step {
    case .scan(let a, .firstMatch), .lookup(let a, .firstMatch):
      // None of the atom's new variables is read later: an existence check.
      level.conditions.append("EXISTS (\(probe(a, &level)))")
    case .scan(let a, .distinct(let columns)) where a.keys.isEmpty && a.checkColumns.isEmpty:
      // Only some columns are read later: their distinct combinations.
      let t = alias("t")
      let list = columns.map { Self.column($0) }.joined(separator: ", ")
      level.from.append("(SELECT DISTINCT \(list) FROM \(table(a.relation, a.range))) AS \(t)")
      for (c, s) in zip(a.bindColumns, a.bindSlots) where columns.contains(c) { level.slots[s] = "\(t).\(Self.column(c))" }
    case .scan(let a, _), .lookup(let a, _):
      let keys = operands(a.keys, &level)
      let t = alias("t")
      level.from.append("\(table(a.relation, a.range)) AS \(t)")
      for (c, k) in zip(a.keyColumns, keys) { level.conditions.append("\(t).\(Self.column(c)) = \(k)") }
      // Binds first: a check compares a column with a variable bound by the same atom.
      for (c, s) in zip(a.bindColumns, a.bindSlots) { level.slots[s] = "\(t).\(Self.column(c))" }
      let checks = operands(a.checkOperands, &level)
      for (c, k) in zip(a.checkColumns, checks) { level.conditions.append("\(t).\(Self.column(c)) = \(k)") }
    case .member(let a):
      level.conditions.append("EXISTS (\(probe(a, &level)))")
    case .absent(let a):
      level.conditions.append("NOT EXISTS (\(probe(a, &level)))")
    case .filter(let op, let a, let b):
      let xy = operands([a, b], &level)
      let x = xy[0], y = xy[1]
      switch op {
      case .equal: level.conditions.append("\(x) = \(y)")
      case .notEqual: level.conditions.append("\(x) <> \(y)")
      default: level.conditions.append("\(schema).dq_cmp(\(x), \(y)) \(op.rawValue) 0")
      }
    case .assign(let slot, let o):
      level.slots[slot] = operand(o, &level)
    case .aggregate(let plan):
      let value = aggregate(plan, level)
      let v = materialize(value, &level)
      switch plan.result {
      case .bind(let slot):
        level.slots[slot] = v
        level.conditions.append("\(v) IS NOT NULL")
      case .compare(let o):
        level.conditions.append("\(v) = \(operands([o], &level)[0])")
      }
    }
  }

  /// `SELECT 1 FROM table WHERE` the atom's key and check columns equal their operands.
  private mutating func probe(_ a: AtomAccess, _ level: inout Level) -> String {
    let keys = operands(a.keys, &level)
    let t = alias("p")
    // A check may compare with a variable this atom binds (`p(X, X)` as an existence check).
    var inner = level
    for (c, s) in zip(a.bindColumns, a.bindSlots) { inner.slots[s] = "\(t).\(Self.column(c))" }
    let checks = a.checkOperands.map { o -> String in
      switch o {
      case .slot(let s): return inner.slots[s] ?? "NULL"
      case .constant(let c): return SQLValueEncoding.literal(c, schema: schema)
      case .expression(let e): return expression(e, inner)
      }
    }
    var conditions: [String] = []
    for (c, k) in zip(a.keyColumns, keys) { conditions.append("\(t).\(Self.column(c)) = \(k)") }
    for (c, k) in zip(a.checkColumns, checks) { conditions.append("\(t).\(Self.column(c)) = \(k)") }
    // A check against a column of the same atom (`not p(X, X)` with X free) compares columns.
    return "SELECT 1 FROM \(table(a.relation, a.range)) AS \(t)" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
  }

  /// The aggregate's value for the bindings of the enclosing level (a correlated subquery): a
  /// `dqv`, NULL for `min`/`max` over nothing.
  private mutating func aggregate(_ plan: AggregatePlan, _ outer: Level) -> String {
    var inner = Level()
    inner.slots = outer.slots
    body(plan.body, &inner)
    let value = plan.value.map { operand($0, &inner) }
    var outputs = plan.localSlots.compactMap { inner.slots[$0] }.enumerated().map { "\($1) AS l\($0)" }
    if let value { outputs.append("\(value) AS v") }
    if outputs.isEmpty { outputs = ["1 AS l0"] }
    let bindings = finish(inner, outputs, distinct: true)
    let z = alias("z")
    switch plan.function {
    case .count:
      return "(SELECT ROW(0, count(*), 0, '')::\(schema).dqv FROM (\(bindings)) AS \(z))"
    case .sum:
      let sp = span(plan.origin)
      return "(SELECT \(schema).dq_sum(array_agg(\(z).v ORDER BY (\(z).v).f), \(sp)) FROM (\(bindings)) AS \(z))"
    case .min:
      return "(SELECT \(schema).dq_min(\(z).v) FROM (\(bindings)) AS \(z))"
    case .max:
      return "(SELECT \(schema).dq_max(\(z).v) FROM (\(bindings)) AS \(z))"
    }
  }

  /// The SQL of an operand; arithmetic is computed in a subquery of its own first (see above).
  private mutating func operand(_ o: Operand, _ level: inout Level) -> String {
    operands([o], &level)[0]
  }

  /// The SQL of several operands of one step: their arithmetic is computed first (each closing
  /// the level, which renames every slot), then all are read from the resulting level.
  private mutating func operands(_ os: [Operand], _ level: inout Level) -> [String] {
    var hidden: [Int: Int] = [:]
    for (i, o) in os.enumerated() {
      guard case .expression(let e) = o else { continue }
      let sql = expression(e, level)
      let v = materialize(sql, &level)
      hiddenSlots -= 1
      level.slots[hiddenSlots] = v
      hidden[i] = hiddenSlots
    }
    return os.enumerated().map { i, o in
      switch o {
      case .slot(let s): return level.slots[s] ?? "NULL"
      case .constant(let c): return SQLValueEncoding.literal(c, schema: schema)
      case .expression: return hidden[i].flatMap { level.slots[$0] } ?? "NULL"
      }
    }
  }

  /// Slots below zero hold values computed for a step (not variables of the plan).
  private var hiddenSlots = 0

  private mutating func expression(_ e: Expression, _ level: Level) -> String {
    switch e {
    case .slot(let s): return level.slots[s] ?? "NULL"
    case .constant(let c): return SQLValueEncoding.literal(c, schema: schema)
    case .binary(let op, let a, let b, let origin):
      let x = expression(a, level), y = expression(b, level)
      return "\(schema).dq_arith('\(op.rawValue)', \(x), \(y), \(span(origin)))"
    case .negate(let a, let origin):
      return "\(schema).dq_neg(\(expression(a, level)), \(span(origin)))"
    }
  }

  /// Closes the level into a subquery that also outputs `value` (computed once per binding that
  /// reached this step), and returns the column holding it.
  private mutating func materialize(_ value: String, _ level: inout Level) -> String {
    let q = alias("q")
    let slots = level.slots.keys.sorted()
    func name(_ s: Int) -> String { s >= 0 ? "s\(s)" : "h\(-s)" }
    var outputs = slots.map { "\(level.slots[$0] ?? "NULL") AS \(name($0))" }
    outputs.append("\(value) AS x")
    var sql = finish(level, outputs, distinct: false)
    sql += " OFFSET 0"
    var next = Level()
    next.from = ["(\(sql)) AS \(q)"]
    for s in slots { next.slots[s] = "\(q).\(name(s))" }
    level = next
    return "\(q).x"
  }
}
