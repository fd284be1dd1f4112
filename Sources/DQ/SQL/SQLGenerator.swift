/// Turns plan IR (`Plan.swift`) into PostgreSQL: a rule or query plan becomes one SELECT over
/// the relations' tables (see `SQLValueEncoding` for how values are stored, `SQLKind` for the
/// type of each column).
///
/// Every SQL expression the generator builds carries the kind of its values: one of the four
/// kinds is a scalar of that kind's SQL type, compared and joined natively (indexes apply);
/// `mixed` is a `dqv`, compared with `dq_cmp`. Where kinds differ, both sides become `dqv`.
///
/// A plan's steps run in order; SQL does not promise an order of evaluation, so every step that
/// can raise an error (arithmetic) closes the query built so far into a subquery (`OFFSET 0`
/// keeps PostgreSQL from merging it or pushing conditions into it) whose output computes the
/// value: it is computed for exactly the bindings that reached the step, as the native engine
/// does. Conditions that cannot fail (joins, comparisons, `NOT EXISTS`) stay where the planner
/// can reorder them.
struct SQLGenerator {
  /// Where the type, the functions and the tables live.
  let schema: String
  /// The kinds of each relation's columns (`SQLKind.infer`); a relation missing here has `dqv`
  /// columns.
  let kinds: [String: [SQLKind]]
  /// Places errors are reported at: the number a SQL function is given is an index here.
  private(set) var spans: [SourceSpan?] = []
  private var aliases = 0

  init(schema: String, kinds: [String: [SQLKind]] = [:]) {
    self.schema = schema
    self.kinds = kinds
  }

  /// A SQL expression and the kind of its values.
  struct Typed {
    var sql: String
    var kind: SQLKind
  }

  // MARK: - Names

  /// While a linear recursion is generated as `WITH RECURSIVE`: the relation whose delta is
  /// the recursive query's working table, and that query's name.
  var workingTable: (relation: String, name: String)?

  /// Relations the query reads from a common table expression of its own (the name given)
  /// instead of their tables (see `PostgresEngine.inlinable`).
  var inlined: [String: String] = [:]

  func table(_ relation: String, _ range: RowRange = .full) -> String {
    if range == .delta, let w = workingTable, w.relation == relation { return w.name }
    if range != .delta, let name = inlined[relation] { return name }
    switch range {
    case .full, .old: return "\(schema).\(SQLValueEncoding.identifier(relation))"
    case .delta: return "\(schema).\(SQLValueEncoding.identifier(relation + "$d"))"
    }
  }
  func newTable(_ relation: String) -> String { "\(schema).\(SQLValueEncoding.identifier(relation + "$n"))" }
  static func column(_ c: Int) -> String { "c\(c)" }
  /// A relation of no columns keeps one (always the integer 0), so every table has a column.
  static func columnCount(_ arity: Int) -> Int { max(1, arity) }

  /// The kinds of a relation's stored columns (`columnCount` of them).
  func columnKinds(_ relation: String, arity: Int) -> [SQLKind] {
    guard arity > 0 else { return [.integer] }
    if let k = kinds[relation], k.count == arity { return k }
    return Array(repeating: .mixed, count: arity)
  }

  // MARK: - Values

  /// A constant of its own kind.
  func literal(_ c: Constant) -> Typed {
    switch c {
    case .integer(let i): return Typed(sql: "(\(i))::bigint", kind: .integer)
    case .decimal(let d): return Typed(sql: "'\(SQLValueEncoding.floatText(d))'::float8", kind: .decimal)
    case .date(let d): return Typed(sql: "(\(d))::bigint", kind: .date)
    case .symbol(let s): return Typed(sql: "(\(SQLValueEncoding.quote(s))::text COLLATE \"C\")", kind: .symbol)
    }
  }

  /// A value as a `dqv`.
  func composite(_ v: Typed) -> String {
    switch v.kind {
    case .integer: return "ROW(0, \(v.sql), 0, '')::\(schema).dqv"
    case .decimal: return "ROW(1, 0, \(v.sql), '')::\(schema).dqv"
    case .date: return "ROW(2, \(v.sql), 0, '')::\(schema).dqv"
    case .symbol: return "ROW(3, 0, 0, \(v.sql))::\(schema).dqv"
    case .mixed: return v.sql
    case .none: return "NULL::\(schema).dqv"
    }
  }

  /// A value as stored in a column of kind `kind`. The inference makes the value's kind the
  /// column's (or `none`: no row reaches it) unless the column is `mixed`.
  func stored(_ v: Typed, as kind: SQLKind) -> String {
    if v.kind == kind { return v.sql }
    if kind == .mixed { return composite(v) }
    if v.kind == .none || kind == .none { return "NULL::\(kind.sqlType(schema))" }
    // Not reached when the kinds were inferred from the same plans; read the part regardless.
    return "(\(composite(v))).\(Self.part(kind))"
  }

  /// The field of a `dqv` holding a value of a scalar kind.
  private static func part(_ kind: SQLKind) -> String {
    switch kind {
    case .decimal: return "f"
    case .symbol: return "s"
    default: return "i"
    }
  }

  /// The kind a `dqv` result of `dq_arith`, `dq_neg` or `dq_sum` is known to have, read out.
  private func narrowed(_ sql: String, to kind: SQLKind) -> Typed {
    switch kind {
    case .integer, .decimal, .date, .symbol: return Typed(sql: "(\(sql)).\(Self.part(kind))", kind: kind)
    case .none, .mixed: return Typed(sql: sql, kind: .mixed)
    }
  }

  /// `x = y` (dq's identity: values of different kinds differ, 1 and 1.0 too).
  func equal(_ x: Typed, _ y: Typed) -> String {
    if x.kind == .none || y.kind == .none { return "FALSE" }
    if x.kind == y.kind { return "\(x.sql) = \(y.sql)" }
    return "\(composite(x)) = \(composite(y))"
  }

  /// A comparison in dq's order: natively between values of one kind, else by `dq_cmp`.
  func compare(_ op: ComparisonOperator, _ x: Typed, _ y: Typed) -> String {
    switch op {
    case .equal: return equal(x, y)
    case .notEqual:
      if x.kind == .none || y.kind == .none { return "FALSE" }
      if x.kind == y.kind { return "\(x.sql) <> \(y.sql)" }
      return "\(composite(x)) <> \(composite(y))"
    default:
      if x.kind == .none || y.kind == .none { return "FALSE" }
      if x.kind == y.kind && x.kind != .mixed { return "\(x.sql) \(op.rawValue) \(y.sql)" }
      return "\(schema).dq_cmp(\(composite(x)), \(composite(y))) \(op.rawValue) 0"
    }
  }

  var zero: Typed { literal(.integer(0)) }

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
    var slots: [Int: Typed] = [:]
  }

  /// A SELECT of the projection's values (as columns c0, c1, ...) for the plan's bindings: a
  /// rule's stored as its head relation's columns, a query's as `dqv`s.
  mutating func select(_ plan: RulePlan, distinct: Bool = true) -> String {
    let head = plan.headName.map { columnKinds($0, arity: plan.projection.count) }
    var level = Level()
    body(plan.steps, &level)
    var values: [String] = []
    for (i, p) in plan.projection.enumerated() {
      let v = operand(p, &level)
      let kind = head.flatMap { i < $0.count ? $0[i] : nil } ?? .mixed
      values.append(stored(v, as: kind))
    }
    if values.isEmpty { values = [head == nil ? composite(zero) : zero.sql] }
    return finish(level, values.enumerated().map { "\($1) AS \(Self.column($0))" }, distinct: distinct)
  }

  /// A query's SELECT of its answers, each column of its own kind (a `dqv` where mixed), and
  /// those kinds (`none`, where no answer can come, as `integer`).
  mutating func answers(_ plan: RulePlan) -> (String, [SQLKind]) {
    var level = Level()
    body(plan.steps, &level)
    var values: [Typed] = []
    for p in plan.projection { values.append(operand(p, &level)) }
    if values.isEmpty { values = [zero] }
    let kinds = values.map { $0.kind == .none ? SQLKind.integer : $0.kind }
    let outputs = values.enumerated().map { i, v in "\(stored(v, as: kinds[i])) AS \(Self.column(i))" }
    return (finish(level, outputs, distinct: true), kinds)
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

  private func columnValue(_ t: String, _ a: AtomAccess, _ c: Int) -> Typed {
    let k = columnKinds(a.relation, arity: a.arity)
    return Typed(sql: "\(t).\(Self.column(c))", kind: c < k.count ? k[c] : .mixed)
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
      for (c, s) in zip(a.bindColumns, a.bindSlots) where columns.contains(c) {
        level.slots[s] = columnValue(t, a, c)
      }
    case .scan(let a, _), .lookup(let a, _):
      let keys = operands(a.keys, &level)
      let t = alias("t")
      level.from.append("\(table(a.relation, a.range)) AS \(t)")
      for (c, k) in zip(a.keyColumns, keys) { level.conditions.append(equal(columnValue(t, a, c), k)) }
      // Binds first: a check compares a column with a variable bound by the same atom.
      for (c, s) in zip(a.bindColumns, a.bindSlots) { level.slots[s] = columnValue(t, a, c) }
      let checks = operands(a.checkOperands, &level)
      for (c, k) in zip(a.checkColumns, checks) { level.conditions.append(equal(columnValue(t, a, c), k)) }
    case .member(let a):
      level.conditions.append("EXISTS (\(probe(a, &level)))")
    case .absent(let a):
      level.conditions.append("NOT EXISTS (\(probe(a, &level)))")
    case .filter(let op, let a, let b):
      let xy = operands([a, b], &level)
      level.conditions.append(compare(op, xy[0], xy[1]))
    case .assign(let slot, let o):
      level.slots[slot] = operand(o, &level)
    case .aggregate(let plan):
      let v = aggregate(plan, &level)
      switch plan.result {
      case .bind(let slot):
        level.slots[slot] = v
        level.conditions.append("\(v.sql) IS NOT NULL")
      case .compare(let o):
        level.conditions.append(equal(v, operands([o], &level)[0]))
      }
    }
  }

  /// `SELECT 1 FROM table WHERE` the atom's key and check columns equal their operands.
  private mutating func probe(_ a: AtomAccess, _ level: inout Level) -> String {
    let keys = operands(a.keys, &level)
    let t = alias("p")
    // A check may compare with a variable this atom binds (`p(X, X)` as an existence check).
    var inner = level
    for (c, s) in zip(a.bindColumns, a.bindSlots) { inner.slots[s] = columnValue(t, a, c) }
    let checks = a.checkOperands.map { o -> Typed in
      switch o {
      case .slot(let s): return inner.slots[s] ?? Typed(sql: "NULL::bigint", kind: .none)
      case .constant(let c): return literal(c)
      case .expression(let e): return expression(e, inner)
      }
    }
    var conditions: [String] = []
    for (c, k) in zip(a.keyColumns, keys) { conditions.append(equal(columnValue(t, a, c), k)) }
    for (c, k) in zip(a.checkColumns, checks) { conditions.append(equal(columnValue(t, a, c), k)) }
    // A check against a column of the same atom (`not p(X, X)` with X free) compares columns.
    return "SELECT 1 FROM \(table(a.relation, a.range)) AS \(t)" + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
  }

  /// The aggregate's value for each binding of the enclosing level, computed for all of them at
  /// once: the level is closed into a subquery `q`; the distinct values of the group variables
  /// the aggregate reads (its groups) are joined with its body, aggregated with `GROUP BY`, and
  /// the result is joined back to `q` (a LEFT JOIN: `count` and `sum` over nothing are 0; `min`
  /// and `max` over nothing are NULL, no answer). Returns the value's column.
  private mutating func aggregate(_ plan: AggregatePlan, _ level: inout Level) -> Typed {
    let groups = Self.readSlots(plan).filter { level.slots[$0] != nil }.sorted()
    // The enclosing level as a subquery of every slot.
    let slots = level.slots.keys.sorted()
    let closed = finish(level, slots.map { "\(level.slots[$0]?.sql ?? "NULL") AS \(Self.name($0))" }, distinct: false) + " OFFSET 0"
    // Its distinct groups (one constant group when the aggregate reads no group variable).
    // An aggregate of no group variable that cannot fail (all but `sum`) is computed once, for
    // whatever bindings reach it.
    let once = groups.isEmpty && plan.function != .sum
    let gq = alias("g"), g = alias("g")
    let keyList = groups.isEmpty ? "1 AS k0" : groups.enumerated().map { "\(gq).\(Self.name($1)) AS k\($0)" }.joined(separator: ", ")
    var inner = Level()
    if !once { inner.from = ["(SELECT DISTINCT \(keyList) FROM (\(closed)) AS \(gq)) AS \(g)"] }
    for (i, s) in groups.enumerated() { inner.slots[s] = Typed(sql: "\(g).k\(i)", kind: level.slots[s]?.kind ?? .mixed) }
    // The constant group is carried as a hidden slot (a materialize renames every slot).
    var keySlots = groups
    if groups.isEmpty && !once {
      hiddenSlots -= 1
      keySlots = [hiddenSlots]
      inner.slots[hiddenSlots] = Typed(sql: "\(g).k0", kind: .integer)
    }
    body(plan.body, &inner)
    let value = plan.value.map { operand($0, &inner) }
    var outputs = keySlots.enumerated().map { "\(inner.slots[$1]?.sql ?? "NULL") AS k\($0)" }
    outputs += plan.localSlots.compactMap { inner.slots[$0]?.sql }.enumerated().map { "\($1) AS l\($0)" }
    let valueKind = value?.kind ?? .none
    let kind = SQLKind.aggregate(plan.function, value: valueKind)
    let b = alias("b")
    let folded: String
    switch plan.function {
    case .count:
      folded = "count(*)"
    case .sum where valueKind == .integer || valueKind == .none:
      // Exact (numeric) and checked: 64-bit overflow is dq's error at the aggregate.
      if let value { outputs.append("\(value.sql) AS v") }
      folded = "\(schema).dq_isum(sum(\(b).v), \(span(plan.origin)))"
    case .sum:
      if let value { outputs.append("\(composite(value)) AS v") }
      folded = "\(schema).dq_sum(array_agg(\(b).v ORDER BY (\(b).v).f), \(span(plan.origin)))"
    case .min, .max:
      if let value { outputs.append("\(valueKind == .mixed ? composite(value) : value.sql) AS v") }
      let f = plan.function == .min ? "min" : "max"
      folded = valueKind == .mixed ? "\(schema).dq_\(f)(\(b).v)" : "\(f)(\(b).v)"
    }
    if outputs.isEmpty { outputs = ["1 AS l0"] }
    let bindings = finish(inner, outputs, distinct: !Self.distinctBindings(plan))
    let keys = keySlots.indices.map { "\(b).k\($0)" }
    let a = alias("a"), q = alias("q")
    let grouped = once
      ? "SELECT \(folded) AS v FROM (\(bindings)) AS \(b)"
      : "SELECT \(keys.enumerated().map { "\($1) AS k\($0)" }.joined(separator: ", ")), \(folded) AS v FROM (\(bindings)) AS \(b) GROUP BY \(keys.joined(separator: ", "))"
    let on = groups.isEmpty ? "TRUE" : groups.enumerated().map { "\(q).\(Self.name($1)) = \(a).k\($0)" }.joined(separator: " AND ")
    var next = Level()
    next.from = ["(\(closed)) AS \(q) LEFT JOIN (\(grouped)) AS \(a) ON \(on)"]
    for s in slots { next.slots[s] = Typed(sql: "\(q).\(Self.name(s))", kind: level.slots[s]?.kind ?? .mixed) }
    level = next
    switch (plan.function, kind) {
    case (.count, _), (.sum, .integer): return Typed(sql: "COALESCE(\(a).v, 0::bigint)", kind: .integer)
    case (.sum, _): return Typed(sql: "COALESCE(\(a).v, \(composite(zero)))", kind: .mixed)
    default: return Typed(sql: "\(a).v", kind: kind)
    }
  }

  /// A slot's column name in a closed level.
  private static func name(_ s: Int) -> String { s >= 0 ? "s\(s)" : "h\(-s)" }

  /// The slots an aggregate reads (in its body, nested aggregates included, and its value):
  /// those bound outside it are its group variables.
  static func readSlots(_ plan: AggregatePlan) -> Set<Int> {
    var out: Set<Int> = []
    func note(_ e: Expression) {
      switch e {
      case .slot(let s): out.insert(s)
      case .constant: break
      case .binary(_, let x, let y, _): note(x); note(y)
      case .negate(let x, _): note(x)
      }
    }
    func note(_ o: Operand) {
      switch o {
      case .slot(let s): out.insert(s)
      case .constant: break
      case .expression(let e): note(e)
      }
    }
    func note(_ steps: [Step]) {
      for step in steps {
        switch step {
        case .scan(let a, _), .lookup(let a, _), .member(let a), .absent(let a):
          (a.keys + a.checkOperands).forEach(note)
        case .filter(_, let x, let y): note(x); note(y)
        case .assign(_, let o): note(o)
        case .aggregate(let g):
          out.formUnion(readSlots(g))
          if case .compare(let o) = g.result { note(o) }
        }
      }
    }
    note(plan.body)
    if let v = plan.value { note(v) }
    return out
  }

  /// Whether an aggregate's body yields each binding once without DISTINCT: it reads every
  /// row of its atoms (no `distinct` visit), each atom's every column given, bound or checked,
  /// so two rows of an atom (tables hold sets) give different bindings.
  static func distinctBindings(_ plan: AggregatePlan) -> Bool {
    for step in plan.body {
      switch step {
      case .scan(let a, let visit), .lookup(let a, let visit):
        if case .distinct = visit { return false }
        if visit == .firstMatch { continue }
        if Set(a.keyColumns + a.bindColumns + a.checkColumns) != Set(0..<a.arity) { return false }
      case .aggregate: return false
      default: continue
      }
    }
    return true
  }

  /// The SQL of an operand; arithmetic is computed in a subquery of its own first (see above).
  private mutating func operand(_ o: Operand, _ level: inout Level) -> Typed {
    operands([o], &level)[0]
  }

  /// The SQL of several operands of one step: their arithmetic is computed first (each closing
  /// the level, which renames every slot), then all are read from the resulting level.
  private mutating func operands(_ os: [Operand], _ level: inout Level) -> [Typed] {
    var hidden: [Int: Int] = [:]
    for (i, o) in os.enumerated() {
      guard case .expression(let e) = o else { continue }
      let v = materialize(expression(e, level), &level)
      hiddenSlots -= 1
      level.slots[hiddenSlots] = v
      hidden[i] = hiddenSlots
    }
    let unknown = Typed(sql: "NULL::bigint", kind: .none)
    return os.enumerated().map { i, o in
      switch o {
      case .slot(let s): return level.slots[s] ?? unknown
      case .constant(let c): return literal(c)
      case .expression: return hidden[i].flatMap { level.slots[$0] } ?? unknown
      }
    }
  }

  /// Slots below zero hold values computed for a step (not variables of the plan).
  private var hiddenSlots = 0

  /// Arithmetic, by `dq_arith`/`dq_neg` on `dqv`s (raising dq's errors); a result whose kind
  /// the operands' kinds determine is read out of it as that kind.
  private mutating func expression(_ e: Expression, _ level: Level) -> Typed {
    switch e {
    case .slot(let s): return level.slots[s] ?? Typed(sql: "NULL::bigint", kind: .none)
    case .constant(let c): return literal(c)
    case .binary(let op, let a, let b, let origin):
      let x = expression(a, level), y = expression(b, level)
      let kind = SQLKind.arithmetic(op, x.kind, y.kind)
      if kind == .none { return Typed(sql: "NULL::bigint", kind: .none) }
      return narrowed("\(schema).dq_arith('\(op.rawValue)', \(composite(x)), \(composite(y)), \(span(origin)))", to: kind)
    case .negate(let a, let origin):
      let x = expression(a, level)
      let kind = SQLKind.negation(x.kind)
      if kind == .none { return Typed(sql: "NULL::bigint", kind: .none) }
      return narrowed("\(schema).dq_neg(\(composite(x)), \(span(origin)))", to: kind)
    }
  }

  /// Closes the level into a subquery that also outputs `value` (computed once per binding that
  /// reached this step), and returns the column holding it.
  private mutating func materialize(_ value: Typed, _ level: inout Level) -> Typed {
    let q = alias("q")
    let slots = level.slots.keys.sorted()
    var outputs = slots.map { "\(level.slots[$0]?.sql ?? "NULL") AS \(Self.name($0))" }
    outputs.append("\(value.sql) AS x")
    var sql = finish(level, outputs, distinct: false)
    sql += " OFFSET 0"
    var next = Level()
    next.from = ["(\(sql)) AS \(q)"]
    for s in slots { next.slots[s] = Typed(sql: "\(q).\(Self.name(s))", kind: level.slots[s]?.kind ?? .mixed) }
    level = next
    return Typed(sql: "\(q).x", kind: value.kind)
  }
}
