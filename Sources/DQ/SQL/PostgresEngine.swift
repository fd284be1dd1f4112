/// Evaluates queries inside a PostgreSQL server: for each query, the relations it needs are
/// loaded into tables (with COPY), its strata are computed by SQL generated from the same plans
/// the native engine runs (semi-naive rounds driven by dq, with delta tables), and its answers
/// are read back and handed to the session, which sorts and prints them as it always does, so
/// the output is the native engine's.
///
/// Each query loads what it reads afresh from the session, so it sees exactly the clauses above
/// it. By default everything lives in `pg_temp` (gone when the connection closes: nothing is
/// left behind); with a schema name the tables stay there for other tools to read.
public final class PostgresEngine {
  private let connection: PostgresConnection
  /// `pg_temp`, or the schema `--db-schema` names.
  let schema: String
  private var prepared = false
  /// The connection string as given (for `.engine` to show).
  public let conninfo: String

  public init(conninfo: String, schema: String?) throws(PostgresError) {
    self.conninfo = conninfo
    connection = try PostgresConnection(conninfo)
    self.schema = schema.map(SQLValueEncoding.identifier) ?? "pg_temp"
  }

  /// Creates the type and functions once per connection (in a kept schema: afresh, replacing
  /// what an earlier run left there).
  private func prepare() throws(PostgresError) {
    guard !prepared else { return }
    if schema != "pg_temp" {
      try connection.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE; CREATE SCHEMA \(schema)")
    }
    try connection.execute("SET client_min_messages = warning; " + SQLValueEncoding.support(schema: schema))
    prepared = true
  }

  /// The distinct bindings of `variables` satisfying `body`, computed in the server (unsorted).
  func bindings(
    of body: [Literal], variables: [String], rules: [Rule], database: Database, budget: Budget, querySpan: SourceSpan?
  ) throws(EvaluationError) -> [[Value]] {
    var generator = SQLGenerator(schema: schema)
    var statement = ""
    do throws(PostgresError) {
      try prepare()
      let size: (String) -> Int = { database.rowCount($0) }
      let strata = Stratifier.strata(neededBy: body, rules: rules) ?? []
      let plans = strata.map { (s, r) in
        Planner.plan(stratum: s.relations, recursive: s.recursive, rules: r, size: size)
      }
      let query = Planner.plan(body: body, projection: variables, size: size)
      // Every relation read or derived, with its arity.
      var arity: [String: Int] = [:]
      func note(_ steps: [Step]) {
        for step in steps {
          switch step {
          case .scan(let a, _), .lookup(let a, _), .member(let a), .absent(let a): arity[a.relation] = a.arity
          case .aggregate(let g): note(g.body)
          default: break
          }
        }
      }
      for p in plans {
        for r in p.firstRound + p.deltaVersions {
          note(r.steps)
          if let h = r.headName { arity[h] = r.projection.count }
        }
      }
      note(query.steps)
      let derived = Set(plans.flatMap(\.relations))
      for (name, n) in arity.sorted(by: { $0.key < $1.key }) {
        try load(name, arity: n, derived: derived.contains(name), database: database)
      }
      for p in plans {
        do { try budget.check(nil) } catch { throw PostgresError(evaluation: error) }
        try run(p, &generator, &statement, budget: budget)
      }
      let select = generator.select(query)
      let parts = (0..<max(1, variables.count)).map { SQLValueEncoding.selectParts("a.\(SQLGenerator.column($0))") }
      statement = "SELECT \(parts.joined(separator: ", ")) FROM (\(select)) AS a"
      let rows = try connection.query(statement)
      if variables.isEmpty { return rows.isEmpty ? [] : [[]] }
      do { try budget.countDerived(rows.count, querySpan) } catch { throw PostgresError(evaluation: error) }
      let store = database.store
      var out: [[Value]] = []
      out.reserveCapacity(rows.count)
      for row in rows {
        var tuple: [Value] = []
        for c in 0..<variables.count {
          guard
            let constant = SQLValueEncoding.decode(k: row[4 * c], i: row[4 * c + 1], f: row[4 * c + 2], s: row[4 * c + 3])
          else {
            throw PostgresError(unavailable: false, message: "PostgreSQL returned a value dq cannot read", statement: "SELECT")
          }
          tuple.append(store.constant(constant))
        }
        out.append(tuple)
      }
      return out
    } catch {
      throw Self.evaluationError(error, spans: generator.spans, at: querySpan)
    }
  }

  /// (Re)creates a relation's tables: the full one with its explicit facts (a relation with
  /// rules starts from its facts only), and for derived relations the delta and new tables.
  private func load(_ name: String, arity: Int, derived: Bool, database: Database) throws(PostgresError) {
    let g = SQLGenerator(schema: schema)
    let columns = (0..<SQLGenerator.columnCount(arity)).map { "\(SQLGenerator.column($0)) \(schema).dqv" }.joined(separator: ", ")
    var tables = [g.table(name)]
    if derived { tables += [g.table(name, .delta), g.newTable(name)] }
    var sql = ""
    for t in tables { sql += "DROP TABLE IF EXISTS \(t); CREATE TABLE \(t) (\(columns)); " }
    try connection.execute(sql)
    guard let table = database.tables[name], table.arity == arity else { return }
    let facts = table.hasRules ? table.facts : table.rows
    guard let facts, facts.count > 0 else { return }
    var data = ""
    let store = database.store
    for r in 0..<facts.count {
      if arity == 0 {
        SQLValueEncoding.copyField(.integer(0), into: &data)
      } else {
        let row = facts.row(r)
        for (c, v) in row.enumerated() {
          if c > 0 { data += "\t" }
          SQLValueEncoding.copyField(store.decode(v), into: &data)
        }
      }
      data += "\n"
      if arity == 0 { break }
    }
    try connection.copy("COPY \(g.table(name)) FROM STDIN", data: data)
    try connection.execute("ANALYZE \(g.table(name))")
  }

  /// Computes a stratum: every rule once over the full relations, then, when it is recursive,
  /// the delta versions in rounds until no relation gains a row.
  private func run(_ plan: StratumPlan, _ g: inout SQLGenerator, _ statement: inout String, budget: Budget) throws(PostgresError) {
    func derive(_ rules: [RulePlan]) throws(PostgresError) {
      for rule in rules {
        guard let head = rule.headName else { continue }
        statement = "INSERT INTO \(g.newTable(head)) " + g.select(rule)
        try connection.execute(statement)
      }
    }
    /// Moves the new rows to the delta and full tables; returns how many were new.
    func merge() throws(PostgresError) -> Int {
      var added = 0
      for name in plan.relations {
        let full = g.table(name), delta = g.table(name, .delta), new = g.newTable(name)
        statement = """
          TRUNCATE \(delta); INSERT INTO \(delta) SELECT * FROM \(new) EXCEPT SELECT * FROM \(full); \
          INSERT INTO \(full) SELECT * FROM \(delta); TRUNCATE \(new); ANALYZE \(delta); ANALYZE \(full)
          """
        try connection.execute(statement)
        statement = "SELECT count(*) FROM \(delta)"
        added += Int(try connection.query(statement).first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0)
      }
      return added
    }
    try derive(plan.firstRound)
    var added = try merge()
    do { try budget.countDerived(added, nil) } catch { throw PostgresError(evaluation: error) }
    guard plan.recursive else { return }
    while added > 0 {
      do { try budget.check(nil) } catch { throw PostgresError(evaluation: error) }
      try derive(plan.deltaVersions)
      added = try merge()
      do { try budget.countDerived(added, nil) } catch { throw PostgresError(evaluation: error) }
    }
  }

  /// A server error as dq reports it: dq's own errors (raised by its SQL functions) exactly as
  /// the native engine words them, at the place in the program; others name the statement.
  static func evaluationError(_ e: PostgresError, spans: [SourceSpan?], at span: SourceSpan?) -> EvaluationError {
    if let inner = e.evaluation { return inner }
    if e.code == SQLValueEncoding.errorCode, let detail = e.detail {
      let parts = detail.split(separator: SQLValueEncoding.separator, omittingEmptySubsequences: false)
      let where_ = parts.first.flatMap { Int($0) }.flatMap { $0 >= 0 && $0 < spans.count ? spans[$0] : nil }
      var message = e.message
      if parts.count > 1, let a = SQLValueEncoding.decodeDetail(parts[1]) {
        message = message.replacing("{a}", with: Arithmetic.describe(a))
      }
      if parts.count > 2, let b = SQLValueEncoding.decodeDetail(parts[2]) {
        message = message.replacing("{b}", with: Arithmetic.describe(b))
      }
      return EvaluationError(.runtime, message, at: where_ ?? span, hint: e.hint.flatMap { $0.isEmpty ? nil : $0 })
    }
    var message = "PostgreSQL: \(e.message)"
    if let s = e.statement { message += " (in: \(s))" }
    return EvaluationError(e.unavailable ? .unavailable : .runtime, message, at: span)
  }
}
