/// Evaluates queries inside a PostgreSQL server: for each query, the relations it needs are
/// loaded into tables (with COPY; columns typed by `SQLKind`), its strata are computed by SQL
/// generated from the same plans the native engine runs (one statement per stratum: an INSERT,
/// `WITH RECURSIVE` for a linear recursion, or a PL/pgSQL block of semi-naive rounds; a linear
/// recursion only the query reads is the query's own `WITH RECURSIVE`, not stored: `inlinable`),
/// and its answers are read back and handed to the session, which sorts and prints them as it
/// always does, so the output is the native engine's.
///
/// A query sees exactly the clauses above it: a table an earlier query left is used again only
/// while its state (`states`: the facts, plans and kinds it was built from) is unchanged. By
/// default everything lives in `pg_temp` (gone when the connection closes: nothing is left
/// behind); with a schema name the tables stay there for other tools to read.
public final class PostgresEngine {
  let connection: PostgresConnection
  /// `pg_temp`, or the schema `--db-schema` names.
  let schema: String
  private var prepared = false
  /// What each relation's table holds (`states`), for the tables an earlier query left that a
  /// later one can use as they are; a table being rebuilt or computed has none.
  private var held: [String: Int] = [:]
  /// Tables filled by one INSERT and not yet analysed: analysed before something that joins
  /// them is planned (`analyse`), not when nothing does.
  private var unanalysed: Set<String> = []
  /// The lookup indexes each table has (`lookups`).
  private var indexed: [String: Set<[Int]>] = [:]
  /// The states of the relations a query computed inside its own statement (`inlinable`): a
  /// later query needing one of them again stores it in its table.
  private var inlinedStates: Set<Int> = []
  /// The rule of the stratum being computed, where a time limit reached in the server is reported.
  private var currentSpan: SourceSpan?
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
    var cte = ""
    currentSpan = nil
    connection.interrupted = budget.interrupted
    do throws(PostgresError) {
      try prepare()
      // The time limit holds in the server too: a statement still running when it passes is
      // cancelled (and reported as the native engine reports the limit, below).
      let left = budget.timeout > 0 && budget.timeout < 3.2e9 ? max(1, Int((budget.timeout - budget.elapsedSeconds) * 1000) + 200) : 0
      try connection.execute("SET statement_timeout = \(left)")
      let size: (String) -> Int = { database.rowCount($0) }
      let strata = Stratifier.strata(neededBy: body, rules: rules) ?? []
      let plans = strata.map { (s, r) in
        Planner.plan(stratum: s.relations, recursive: s.recursive, rules: r, size: size)
      }
      let query = Planner.plan(body: body, projection: variables, size: size)
      let (arity, derived) = Self.relations(plans, query)
      let keys = Self.lookups(plans, query)
      let server = try serverRelations(Set(arity.keys), database: database, at: querySpan)
      let kinds = Self.kinds(plans, arity: arity, database: database, server: server.mapValues(\.kinds))
      generator = SQLGenerator(schema: schema, kinds: kinds)
      let stepwise = Self.stepwise(plans, derived)
      let states = Self.states(plans, arity: arity, kinds: kinds, database: database, server: Set(server.keys))
      var seeded: Set<String> = []
      for (name, n) in arity.sorted(by: { $0.key < $1.key }) {
        // A table already holding what this query needs (an earlier query built it) is kept.
        if let state = states[name], held[name] == state { continue }
        held[name] = nil
        indexed[name] = nil
        unanalysed.remove(name)
        if let source = server[name] {
          try loadServerRelation(name, arity: n, derived: stepwise.contains(name), source, generator, at: querySpan)
          seeded.insert(name)
        } else if try load(name, arity: n, derived: stepwise.contains(name), database: database, generator) {
          seeded.insert(name)
        }
        if !derived.contains(name) { held[name] = states[name] }
      }
      for (name, k) in keys {
        let missing = k.subtracting(indexed[name] ?? [])
        guard !missing.isEmpty else { continue }
        try connection.execute(Self.indexes(name, missing, generator))
        indexed[name, default: []].formUnion(missing)
      }
      // A linear recursion that only the query reads is computed inside the query's statement
      // (see `inlinable`): its rows are not stored.
      var inlined: (name: String, source: String, span: SourceSpan?)? = nil
      var recursion = ""
      if let p = plans.last, let name = inlinable(p, plans, states: states, seeded: seeded),
        let definition = Self.recursion(p, &generator, seeded: false)
      {
        // With a tuple limit, the query reads the recursion through `dq_i`, which stops it
        // one row past what is left of the limit once the strata before it have run.
        recursion = definition
        inlined = (name, budget.maxTuples > 0 ? "dq_i" : "dq_w", Self.limitSpan(p))
        generator.inlined[name] = inlined?.source
      }
      for p in plans {
        if p.relations.allSatisfy({ held[$0] != nil && held[$0] == states[$0] }) { continue }
        if let inlined, p.relations == [inlined.name] {
          try analyse(Self.relations([p], Self.noQuery).arity.keys, generator)
          continue
        }
        do { try budget.check(nil) } catch { throw PostgresError(evaluation: error) }
        for r in p.relations { held[r] = nil }
        try analyse(Self.relations([p], Self.noQuery).arity.keys, generator)
        try run(p, &generator, &statement, budget: budget, seeded: seeded)
        for r in p.relations { held[r] = states[r] }
      }
      // A query reading one relation is planned the same whatever its statistics.
      if Self.atoms(query.steps) > 1 { try analyse(Self.relations([], query).arity.keys, generator) }
      // Answers come back as text: a value of a typed column as one field, a `dqv` as its four.
      let (select, answerKinds) = generator.answers(query)
      var fields: [String] = []
      for (c, kind) in answerKinds.enumerated() {
        let column = "a.\(SQLGenerator.column(c))"
        fields.append(kind == .mixed ? SQLValueEncoding.selectParts(column) : column)
      }
      statement = "SELECT \(fields.joined(separator: ", ")) FROM (\(select)) AS a"
      var rows: [[String?]]
      if let inlined {
        // The recursion runs only as far as its rows are read; the count below then reports
        // the limit.
        cte = "WITH RECURSIVE \(recursion)"
        if budget.maxTuples > 0 { cte += ", dq_i AS (SELECT * FROM dq_w LIMIT \(max(0, budget.maxTuples - budget.derived) + 1))" }
        // The inlined relation's rows are counted (derived tuples, the tuple limit) in a row
        // of their own: its first field holds the count, the answers' is NULL.
        let width = answerKinds.reduce(0) { $0 + ($1 == .mixed ? 4 : 1) }
        let nulls = Array(repeating: ", NULL", count: width).joined()
        statement = "\(cte)\nSELECT NULL::bigint AS dq_n, \(fields.joined(separator: ", ")) FROM (\(select)) AS a\n"
          + "UNION ALL SELECT count(*)\(nulls) FROM \(inlined.source)"
        currentSpan = inlined.span
        var derived = 0
        rows = []
        for row in try connection.query(statement) {
          if let n = row.first, let n { derived = Int(n) ?? 0 } else { rows.append(Array(row.dropFirst())) }
        }
        do { try budget.countDerived(derived, inlined.span) } catch { throw PostgresError(evaluation: error) }
        if let state = states[inlined.name] { inlinedStates.insert(state) }
      } else {
        rows = try connection.query(statement)
      }
      if variables.isEmpty { return rows.isEmpty ? [] : [[]] }
      do { try budget.countDerived(rows.count, querySpan) } catch { throw PostgresError(evaluation: error) }
      let store = database.store
      var out: [[Value]] = []
      out.reserveCapacity(rows.count)
      for row in rows {
        var tuple: [Value] = []
        var f = 0
        for c in 0..<variables.count {
          let kind = c < answerKinds.count ? answerKinds[c] : .mixed
          let width = kind == .mixed ? 4 : 1
          guard f + width <= row.count, let constant = SQLValueEncoding.decode(row[f..<(f + width)], kind: kind) else {
            throw PostgresError(unavailable: false, message: "PostgreSQL returned a value dq cannot read", statement: "SELECT")
          }
          f += width
          tuple.append(store.constant(constant))
        }
        out.append(tuple)
      }
      return out
    } catch {
      if error.code == "57014" {
        do { try budget.check(currentSpan ?? querySpan) } catch { throw error }
      }
      if error.code == Self.tupleLimitCode {
        let at = error.detail.flatMap { Int($0) }.flatMap { $0 >= 0 && $0 < generator.spans.count ? generator.spans[$0] : nil }
        do { try budget.countDerived(max(1, budget.maxTuples - budget.derived + 1), at ?? querySpan) } catch { throw error }
      }
      throw Self.evaluationError(error, spans: generator.spans, at: querySpan)
    }
  }

  /// (Re)creates a relation's tables: the full one with its explicit facts (a relation with
  /// rules starts from its facts only), and for derived relations the delta and new tables.
  /// Returns whether it copied any rows.
  private func load(_ name: String, arity: Int, derived: Bool, database: Database, _ g: SQLGenerator) throws(PostgresError) -> Bool {
    try connection.execute(Self.createTables(name, arity: arity, derived: derived, g))
    guard let data = Self.copyBytes(name, arity: arity, database: database, g) else { return false }
    try connection.copy("COPY \(g.table(name)) FROM STDIN", bytes: data)
    try connection.execute("ANALYZE \(g.table(name))")
    return true
  }

  /// The derived relations computed in semi-naive rounds (the strata not `isDirect`): those
  /// need delta and new tables and a unique index.
  static func stepwise(_ plans: [StratumPlan], _ derived: Set<String>) -> Set<String> {
    derived.subtracting(plans.filter(isDirect).flatMap(\.relations))
  }

  /// A table or view that already exists in the server: where it is and its columns.
  struct ServerRelation {
    /// The qualified name, quoted (`"public"."edge"`).
    var qualified: String
    var columns: [(name: String, type: String)]
    /// The kind of each column's values (`SQLKind.ofServerType`).
    var kinds: [SQLKind] = []
  }

  /// The relations among `names` read from the server: those the program gives no facts and no
  /// rules that exist on the connection's search_path (the schema dq works in left out) as a
  /// table, view, materialized view, partitioned or foreign table. Facts given for a relation
  /// that is such a table are an error: the server's tables are read-only to dq.
  ///
  /// A column's kind (`serverKinds`) allows for NULL unless the catalog says NOT NULL; with
  /// `scanNulls` (the engine, which reads the table at once) a column that holds no NULL now is
  /// typed as if it were NOT NULL; a script (`dq --sql --db`), run later, trusts only the catalog.
  func serverRelations(
    _ names: Set<String>, database: Database, at span: SourceSpan?, scanNulls: Bool = true
  ) throws(PostgresError) -> [String: ServerRelation] {
    guard !names.isEmpty else { return [:] }
    var out: [String: ServerRelation] = [:]
    for entry in try catalog(names) {
      let name = entry.name
      let table = database.tables[name]
      if let table, table.hasRules { continue }
      if let table, table.rows.count > 0 {
        throw PostgresError(evaluation: EvaluationError(
          .runtime, "'\(name)' is a table in the PostgreSQL server (\(entry.schema).\(name)), read-only: facts cannot be added to it",
          at: span, hint: "rename the relation in the program, or add the rows to the table in the server"))
      }
      let qualified = SQLValueEncoding.identifier(entry.schema) + "." + SQLValueEncoding.identifier(name)
      let columns = entry.columns.map { (name: $0.name, type: $0.type) }
      out[name] = ServerRelation(
        qualified: qualified, columns: columns,
        kinds: try serverKinds(qualified, entry.columns, scanNulls: scanNulls))
    }
    return out
  }

  /// The kinds of a server table's columns: a column that may hold a NULL (read as the empty
  /// symbol) is mixed unless it holds symbols anyway. Only columns not declared NOT NULL are
  /// looked at, with `scanNulls` for whether they hold a NULL now (else they may).
  private func serverKinds(
    _ qualified: String, _ columns: [CatalogColumn], scanNulls: Bool
  ) throws(PostgresError) -> [SQLKind] {
    var nullable = columns.map { !$0.notNull }
    let unknown = columns.indices.filter { nullable[$0] }
    if scanNulls && !unknown.isEmpty {
      let checks = unknown.map { "bool_or(\(SQLValueEncoding.identifier(columns[$0].name)) IS NULL)" }.joined(separator: ", ")
      let row = try connection.query("SELECT \(checks) FROM \(qualified)").first ?? []
      // bool_or over no rows is NULL: an empty table holds no NULL.
      for (i, c) in unknown.enumerated() { nullable[c] = i < row.count && row[i] == "t" }
    }
    return columns.enumerated().map { i, c in SQLKind.ofServerType(c.type, nullable: nullable[i]) }
  }

  /// A column of a server table or view as the catalog describes it.
  struct CatalogColumn {
    var name: String
    /// `format_type`'s name of its type (`bigint`, `numeric(10,2)`, `text`).
    var type: String
    /// Declared NOT NULL (a view's columns never are).
    var notNull: Bool
  }

  /// A table or view of the server a relation can be read from.
  struct CatalogEntry {
    var name: String
    /// The schema it is in (the first of the search_path that has the name).
    var schema: String
    /// `pg_class.relkind`: r, v, m, p or f.
    var kind: String
    var columns: [CatalogColumn]
  }

  /// The tables and views (of any kind dq reads) on the connection's search_path, dq's own
  /// schema left out, where several schemas have a name the first of the path: those named in
  /// `names`, or with nil every one whose name can be a dq relation (a lower-case identifier).
  /// The one catalog query of `serverRelations`, `hasServerRelation` and `serverTables`.
  func catalog(_ names: Set<String>?) throws(PostgresError) -> [CatalogEntry] {
    let own = schema == "pg_temp" ? "''" : SQLValueEncoding.quote(String(schema.dropFirst().dropLast()).replacing("\"\"", with: "\""))
    let which = names.map { "c.relname IN (\($0.sorted().map(SQLValueEncoding.quote).joined(separator: ", ")))" }
      ?? "c.relname ~ '^[a-z][A-Za-z0-9_]*$'"
    // Each column as name, type and NOT NULL joined with the ASCII unit separator, the columns
    // with the record separator. NOT NULL counts only where the server enforces it: on tables,
    // not on a foreign table (the remote side may hold NULLs) nor a view.
    let rows = try connection.query(
      """
      SELECT DISTINCT ON (c.relname) c.relname, n.nspname, c.relkind::text,
        (SELECT string_agg(a.attname || chr(31) || format_type(a.atttypid, a.atttypmod) || chr(31)
                             || (a.attnotnull AND c.relkind IN ('r', 'p'))::text,
                           chr(30) ORDER BY a.attnum)
         FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND n.nspname = ANY (current_schemas(false)) AND n.nspname <> \(own)
        AND \(which)
      ORDER BY c.relname, array_position(current_schemas(false), n.nspname)
      """)
    return rows.compactMap { row in
      guard row.count == 4, let name = row[0], let space = row[1], let kind = row[2] else { return nil }
      let columns = (row[3] ?? "").split(separator: "\u{1E}").map { c in
        let parts = c.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        return CatalogColumn(
          name: parts.first ?? "", type: parts.count > 1 ? parts[1] : "", notNull: parts.count > 2 && parts[2] == "true")
      }
      return CatalogEntry(name: name, schema: space, kind: kind, columns: columns)
    }
  }

  /// Whether `name` is a table or view of the server dq would read (false when it cannot ask).
  func hasServerRelation(_ name: String) -> Bool {
    guard let found = try? catalog([name]) else { return false }
    return !found.isEmpty
  }

  /// Fills the relation's table (in dq's schema) from a table or view of the server, inside the
  /// server (nothing is copied out of it), its values converted as `SQLValueEncoding.fromColumn`
  /// says. Its arity must be its number of columns.
  private func loadServerRelation(
    _ name: String, arity: Int, derived: Bool, _ source: ServerRelation, _ g: SQLGenerator, at span: SourceSpan?
  ) throws(PostgresError) {
    if let mismatch = Self.arityMismatch(name, arity: arity, source, at: span) { throw PostgresError(evaluation: mismatch) }
    try connection.execute(Self.createTables(name, arity: arity, derived: derived, g))
    try connection.execute(Self.fill(name, from: source, g))
  }

  /// The error when a relation is used with a number of arguments other than its server
  /// table's number of columns (nil when they agree).
  static func arityMismatch(_ name: String, arity: Int, _ source: ServerRelation, at span: SourceSpan?) -> EvaluationError? {
    guard source.columns.count != arity || arity == 0 else { return nil }
    let columns = source.columns.map(\.name).joined(separator: ", ")
    return EvaluationError(
      .runtime,
      "'\(name)' is used with \(arity) argument\(arity == 1 ? "" : "s") but the PostgreSQL table \(source.qualified) has \(source.columns.count) column\(source.columns.count == 1 ? "" : "s") (\(columns))",
      at: span)
  }

  /// The statements filling a relation's table from a server table or view, each value converted
  /// to the kind of its column (see `loadServerRelation`; `dq --sql --db` writes them into its
  /// script).
  static func fill(_ name: String, from source: ServerRelation, _ g: SQLGenerator) -> String {
    let kinds = g.columnKinds(name, arity: source.columns.count)
    let values = source.columns.enumerated().map { i, c in
      let column = SQLValueEncoding.identifier(c.name)
      let kind = i < kinds.count ? kinds[i] : .mixed
      return "\(SQLValueEncoding.fromColumn(column, type: c.type, kind: kind, schema: g.schema)) AS \(SQLGenerator.column(i))"
    }
    return "INSERT INTO \(g.table(name)) SELECT DISTINCT \(values.joined(separator: ", ")) FROM \(source.qualified); ANALYZE \(g.table(name))"
  }

  /// Drops and creates a relation's table (and its delta and new tables when it is derived).
  static func createTables(_ name: String, arity: Int, derived: Bool, _ g: SQLGenerator) -> String {
    let kinds = g.columnKinds(name, arity: arity)
    let columns = kinds.enumerated().map { "\(SQLGenerator.column($0)) \($1.sqlType(g.schema))" }.joined(separator: ", ")
    var tables = [g.table(name)]
    if derived { tables += [g.table(name, .delta), g.newTable(name)] }
    var sql = ""
    for t in tables { sql += "DROP TABLE IF EXISTS \(t); CREATE TABLE \(t) (\(columns)); " }
    if derived && uniqueIndexed(kinds) {
      let list = (0..<SQLGenerator.columnCount(arity)).map { SQLGenerator.column($0) }.joined(separator: ", ")
      sql += "CREATE UNIQUE INDEX ON \(g.table(name)) (\(list)); "
    }
    return sql
  }

  /// Whether a derived relation's table gets a unique index over all its columns, so a round's
  /// new rows are found with `ON CONFLICT DO NOTHING` (a probe per row) instead of comparing
  /// with the whole table. PostgreSQL indexes at most 32 columns, and a btree entry holds at
  /// most about 2.7 kB: only columns of numbers and dates are indexed so (a symbol may be long).
  static func uniqueIndexed(_ kinds: [SQLKind]) -> Bool { kinds.count <= 32 && kinds.allSatisfy(\.isFixedWidth) }

  /// The kinds of the columns of the relations the plans read or derive (`SQLKind.infer`), from
  /// the facts and the server tables' columns.
  static func kinds(
    _ plans: [StratumPlan], arity: [String: Int], database: Database, server: [String: [SQLKind]]
  ) -> [String: [SQLKind]] {
    var initial: [String: [SQLKind]] = [:]
    for (name, n) in arity {
      if let given = server[name] {
        initial[name] = given
      } else if let facts = facts(name, arity: n, database: database) {
        initial[name] = SQLKind.ofRows(facts, store: database.store)
      }
    }
    return SQLKind.infer(plans, arity: arity, initial: initial)
  }

  /// What each relation's table will hold once the query's strata ran, as a fingerprint: for a
  /// relation of facts, its column kinds and its facts; for a derived one, its stratum's plan,
  /// the kinds of its columns and the states of what the stratum reads. Equal states mean equal
  /// contents, so a table an earlier query left in that state is not rebuilt. Tables of the
  /// server (which other clients may change) have none, nor does what is derived from them.
  static func states(
    _ plans: [StratumPlan], arity: [String: Int], kinds: [String: [SQLKind]], database: Database, server: Set<String>
  ) -> [String: Int] {
    var out: [String: Int] = [:]
    let derived = Set(plans.flatMap(\.relations))
    for (name, n) in arity where !derived.contains(name) && !server.contains(name) {
      var h = Hasher()
      combineTable(name, arity: n, kinds: kinds, database: database, into: &h)
      out[name] = h.finalize()
    }
    for plan in plans {
      let (reads, _) = relations([plan], noQuery)
      var h = Hasher()
      h.combine(plan)
      var known = true
      for name in reads.keys.sorted() {
        h.combine(name)
        h.combine(kinds[name])
        if plan.relations.contains(name) { continue }
        guard let state = out[name] else { known = false; break }
        h.combine(state)
      }
      // The stratum's own relations: their columns and their facts.
      for name in plan.relations {
        if server.contains(name) { known = false }
        combineTable(name, arity: arity[name] ?? 0, kinds: kinds, database: database, into: &h)
      }
      guard known else { continue }
      let state = h.finalize()
      for name in plan.relations { out[name] = state }
    }
    return out
  }

  /// Adds what a relation's table is built from to a state: its name, columns and facts.
  private static func combineTable(
    _ name: String, arity n: Int, kinds: [String: [SQLKind]], database: Database, into h: inout Hasher
  ) {
    h.combine(name)
    h.combine(n)
    h.combine(kinds[name])
    if let facts = facts(name, arity: n, database: database) {
      h.combine(facts.count)
      h.combine(bytes: UnsafeRawBufferPointer(start: facts.data, count: facts.count * n * MemoryLayout<Value>.stride))
    }
  }

  /// The explicit facts of a relation (nil when it has none).
  static func facts(_ name: String, arity: Int, database: Database) -> Relation? {
    guard let table = database.tables[name], table.arity == arity else { return nil }
    let facts = table.hasRules ? table.facts : table.rows
    guard let facts, facts.count > 0 else { return nil }
    return facts
  }

  /// The explicit facts of a relation in COPY's text format, for its columns' kinds (nil when
  /// it has none), as UTF-8.
  static func copyBytes(_ name: String, arity: Int, database: Database, _ g: SQLGenerator) -> [UInt8]? {
    guard let facts = facts(name, arity: arity, database: database) else { return nil }
    let kinds = g.columnKinds(name, arity: arity)
    var out: [UInt8] = []
    out.reserveCapacity(facts.count * max(1, arity) * 8)
    if arity == 0 { return Array("0\n".utf8) }
    let store = database.store
    var text = ""
    for r in 0..<facts.count {
      for c in 0..<arity {
        if c > 0 { out.append(9) }
        let value = facts[r, c]
        // A small integer is written from its word (no decoding).
        if let i = ValueStore.smallInteger(value), kinds[c] == .integer || kinds[c] == .none {
          SQLValueEncoding.appendDecimal(i, to: &out)
          continue
        }
        let constant = store.decode(value)
        switch (kinds[c], constant) {
        case (.integer, .integer(let i)), (.date, .date(let i)), (.none, .integer(let i)):
          SQLValueEncoding.appendDecimal(i, to: &out)
        default:
          text.removeAll(keepingCapacity: true)
          SQLValueEncoding.copyField(constant, kind: kinds[c], into: &text)
          out.append(contentsOf: text.utf8)
        }
      }
      out.append(10)
    }
    return out
  }

  /// `copyBytes` as text, for the scripts of `dq --sql`.
  static func copyData(_ name: String, arity: Int, database: Database, _ g: SQLGenerator) -> String? {
    copyBytes(name, arity: arity, database: database, g).map { String(decoding: $0, as: UTF8.self) }
  }

  /// The key columns the recursive rules look relations up by (as the native engine's
  /// indexes), so each round's few rows are probed for instead of scanning: one index per
  /// relation and column list. Rules and queries run once are left to PostgreSQL's hash joins
  /// (an index there costs more to build than it saves).
  static func lookups(_ plans: [StratumPlan], _ query: RulePlan) -> [String: Set<[Int]>] {
    var out: [String: Set<[Int]>] = [:]
    func note(_ steps: [Step]) {
      for step in steps {
        switch step {
        case .lookup(let a, _), .absent(let a):
          if !a.keyColumns.isEmpty, a.keyColumns.count <= 32 { out[a.relation, default: []].insert(a.keyColumns) }
        case .aggregate(let g): note(g.body)
        default: break
        }
      }
    }
    for p in plans where p.recursive { for r in p.deltaVersions { note(r.steps) } }
    return out
  }

  /// `CREATE INDEX` statements for the lookups of one relation's full table: a btree over the
  /// key columns when they hold numbers and dates; else a hash index on the first key column
  /// (a btree entry holds at most about 2.7 kB, a long symbol would not fit; a hash index
  /// keeps only hash codes).
  static func indexes(_ name: String, _ keys: Set<[Int]>, _ g: SQLGenerator) -> String {
    var seen: Set<String> = []
    return keys.sorted { $0.lexicographicallyPrecedes($1) }.compactMap { k -> String? in
      guard let first = k.first else { return nil }
      let kinds = g.kinds[name] ?? []
      let fixed = k.allSatisfy { $0 < kinds.count && kinds[$0].isFixedWidth }
      // With every column a number or date, the other columns follow the keys: the index covers
      // the rows, read without visiting the table.
      let columns = k + (kinds.allSatisfy(\.isFixedWidth) && kinds.count <= 32 ? kinds.indices.filter { !k.contains($0) } : [])
      let index = fixed
        ? "CREATE INDEX ON \(g.table(name)) (\(columns.map { SQLGenerator.column($0) }.joined(separator: ", ")));"
        : "CREATE INDEX ON \(g.table(name)) USING hash (\(SQLGenerator.column(first)));"
      return seen.insert(index).inserted ? index : nil
    }.joined(separator: " ")
  }

  /// Relations read or derived by the plans, with their arities, and the derived ones.
  static func relations(_ plans: [StratumPlan], _ query: RulePlan) -> (arity: [String: Int], derived: Set<String>) {
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
    return (arity, Set(plans.flatMap(\.relations)))
  }

  /// Computes a stratum in one round trip (see `stratumBlock`), then counts what it derived
  /// toward the tuple limit (an INSERT's row count, or the tables' growth).
  private func run(_ plan: StratumPlan, _ g: inout SQLGenerator, _ statement: inout String, budget: Budget, seeded: Set<String>) throws(PostgresError) {
    currentSpan = plan.firstRound.first?.origin.span
    let limit = budget.maxTuples > 0 ? max(0, budget.maxTuples - budget.derived) : 0
    statement = Self.stratumBlock(plan, &g, tupleLimit: limit, seeded: seeded)
    // A stratum of facts only (no rule derives a row) has nothing to run.
    if statement.isEmpty { return }
    let added: Int
    if Self.isDirect(plan) {
      // One INSERT: the rows it added are the rows derived.
      added = try connection.executeCounting(statement)
      unanalysed.formUnion(plan.relations)
    } else {
      let before = try count(plan.relations, g)
      try connection.execute(statement)
      added = try count(plan.relations, g) - before
    }
    do { try budget.countDerived(added, Self.isDirect(plan) ? Self.limitSpan(plan) : currentSpan) } catch {
      throw PostgresError(evaluation: error)
    }
  }

  /// Where the tuple limit reached by a stratum of `isDirect` is reported: at its recursive rule
  /// when it has one (the native engine reports the rule deriving the row past the limit: in
  /// a recursion, mostly that one), else at its first rule.
  static func limitSpan(_ plan: StratumPlan) -> SourceSpan? {
    (plan.recursive ? plan.deltaVersions.first?.origin.span : nil) ?? plan.firstRound.first?.origin.span
  }

  private func count(_ relations: [String], _ g: SQLGenerator) throws(PostgresError) -> Int {
    let sql = "SELECT " + relations.map { "(SELECT count(*) FROM \(g.table($0)))" }.joined(separator: " + ")
    return Int(try connection.query(sql).first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0)
  }

  /// The SQLSTATE of the tuple limit raised inside a stratum's block.
  static let tupleLimitCode = "DQ002"

  /// A stratum as one statement: `directStatement` where `isDirect`, else a PL/pgSQL block:
  /// every rule once over the full relations, each relation's
  /// new rows moved to its delta table and into it; then, when the stratum is recursive, the
  /// delta versions of its rules in rounds until no relation gains a row (semi-naive
  /// evaluation). Tables are analysed as they grow (rounds 1, 2, 4, 8, ...), so the server
  /// plans with current sizes. With a tuple limit, exceeding it raises DQ002.
  static func stratumBlock(_ plan: StratumPlan, _ g: inout SQLGenerator, tupleLimit: Int, seeded: Set<String> = []) -> String {
    if isDirect(plan) { return directStatement(plan, &g, tupleLimit: tupleLimit, seeded: seeded) }
    func derive(_ rules: [RulePlan]) -> String {
      var out = ""
      for rule in rules {
        guard let head = rule.headName else { continue }
        out += "    INSERT INTO \(g.newTable(head)) \(g.select(rule));\n"
      }
      return out
    }
    var merge = "    added := 0;\n"
    for (i, name) in plan.relations.enumerated() {
      let full = g.table(name), delta = g.table(name, .delta), new = g.newTable(name)
      let arity = plan.firstRound.first { $0.headName == name }?.projection.count ?? 33
      if uniqueIndexed(g.columnKinds(name, arity: arity)) {
        merge += """
              TRUNCATE \(delta);
              WITH fresh\(i) AS (INSERT INTO \(full) SELECT * FROM \(new) ON CONFLICT DO NOTHING RETURNING *)
                INSERT INTO \(delta) SELECT * FROM fresh\(i);
              GET DIAGNOSTICS n = ROW_COUNT;
              added := added + n;
              TRUNCATE \(new);

          """
      } else {
        merge += """
              TRUNCATE \(delta);
              INSERT INTO \(delta) SELECT * FROM \(new) EXCEPT SELECT * FROM \(full);
              GET DIAGNOSTICS n = ROW_COUNT;
              added := added + n;
              INSERT INTO \(full) SELECT * FROM \(delta);
              TRUNCATE \(new);

          """
      }
    }
    let analyse = plan.relations.map { "ANALYZE \(g.table($0)); ANALYZE \(g.table($0, .delta));" }.joined(separator: " ")
    let spanNumber = g.spanNumber(plan.firstRound.first?.origin ?? .none)
    var limitCheck = "    total := total + added;\n"
    if tupleLimit > 0 {
      limitCheck += "    IF total > \(tupleLimit) THEN RAISE EXCEPTION USING ERRCODE = '\(tupleLimitCode)', MESSAGE = 'tuple limit', DETAIL = '\(spanNumber)'; END IF;\n"
    }
    var sql = "DO $dq$\nDECLARE added bigint := 0; n bigint; total bigint := 0; round int := 1;\nBEGIN\n"
    sql += derive(plan.firstRound) + merge + limitCheck
    sql += "    \(analyse)\n"
    if plan.recursive {
      sql += "  WHILE added > 0 LOOP\n"
      sql += "    round := round + 1;\n"
      sql += derive(plan.deltaVersions) + merge + limitCheck
      sql += "    IF round & (round - 1) = 0 THEN \(analyse) END IF;\n"
      sql += "  END LOOP;\n"
    }
    sql += "END\n$dq$;"
    return sql
  }

  /// Runs ANALYZE on those of `names` filled since they were last analysed.
  private func analyse(_ names: Dictionary<String, Int>.Keys, _ g: SQLGenerator) throws(PostgresError) {
    let due = names.filter { unanalysed.contains($0) }.sorted()
    guard !due.isEmpty else { return }
    try connection.execute(due.map { "ANALYZE \(g.table($0));" }.joined(separator: " "))
    unanalysed.subtract(due)
  }

  /// A plan of nothing, for `relations` of strata alone.
  static let noQuery = RulePlan(steps: [], projection: [], headName: nil, slotNames: [])

  /// How many atoms a body reads (those of its aggregates too).
  static func atoms(_ steps: [Step]) -> Int {
    steps.reduce(0) { n, step in
      switch step {
      case .scan, .lookup, .member, .absent: return n + 1
      case .aggregate(let g): return n + atoms(g.body)
      default: return n
      }
    }
  }

  /// Whether a stratum is computed by one INSERT (see `directStatement`): it derives one
  /// relation, and either is not recursive or is a linear recursion PostgreSQL's
  /// `WITH RECURSIVE ... UNION` computes: one recursive rule, reading the relation once, as a
  /// scan or lookup (PostgreSQL allows the working table in a FROM subquery, as arithmetic
  /// makes, but not in an `EXISTS`, as an existence check makes, and no aggregate there).
  static func isDirect(_ plan: StratumPlan) -> Bool {
    guard plan.relations.count == 1, let name = plan.relations.first else { return false }
    if !plan.recursive { return true }
    guard plan.deltaVersions.count == 1, let rule = plan.deltaVersions.first else { return false }
    var reads = 0
    for step in rule.steps {
      switch step {
      case .scan(let a, let visit), .lookup(let a, let visit):
        guard a.relation == name else { continue }
        guard visit != .firstMatch, visit != .counted, a.range == .delta else { return false }
        reads += 1
      case .member(let a), .absent(let a):
        if a.relation == name { return false }
      case .aggregate: return false
      default: break
      }
    }
    return reads == 1
  }

  /// A stratum of `isDirect` as one statement (empty when no rule derives a row): the relation's rows are the union of its rules
  /// (its facts too, when it has some: `seeded`), the one recursive rule reading the working
  /// table of a `WITH RECURSIVE ... UNION` (which is semi-naive evaluation, run by the server).
  /// With a tuple limit, no more rows than one past it are computed (a recursive query is
  /// evaluated only as far as its rows are read), and the caller's count reports the limit.
  static func directStatement(_ plan: StratumPlan, _ g: inout SQLGenerator, tupleLimit: Int, seeded: Set<String>) -> String {
    guard let name = plan.relations.first else { return "" }
    let full = g.table(name)
    let arity = plan.firstRound.first { $0.headName == name }?.projection.count ?? 0
    let columns = (0..<SQLGenerator.columnCount(arity)).map { SQLGenerator.column($0) }
    let isSeeded = seeded.contains(name)
    let source: String
    if plan.recursive {
      guard let definition = recursion(plan, &g, seeded: isSeeded) else { return "" }
      source = "WITH RECURSIVE \(definition) SELECT * FROM dq_w"
    } else if plan.firstRound.count == 1, let rule = plan.firstRound.first {
      source = g.select(rule)
    } else {
      let branches = plan.firstRound.map { g.select($0, distinct: false) }
      if branches.isEmpty { return "" }
      source = branches.joined(separator: "\n  UNION ")
    }
    var sql = "INSERT INTO \(full) SELECT * FROM (\(source)) AS dq_x"
    if isSeeded {
      let same = columns.map { "dq_o.\($0) = dq_x.\($0)" }.joined(separator: " AND ")
      sql += " WHERE NOT EXISTS (SELECT 1 FROM \(full) AS dq_o WHERE \(same))"
    }
    if tupleLimit > 0 { sql += " LIMIT \(tupleLimit + 1)" }
    return sql + ";"
  }

  /// A linear recursion (`isDirect`, recursive) as the common table expression `dq_w` of a
  /// `WITH RECURSIVE`: the union of its base rules (and its facts, when `seeded`: its table
  /// holds them) and the recursive rule reading the working table. Nil when no rule derives a
  /// row.
  static func recursion(_ plan: StratumPlan, _ g: inout SQLGenerator, seeded: Bool) -> String? {
    guard plan.recursive, let name = plan.relations.first, let rule = plan.deltaVersions.first else { return nil }
    let arity = plan.firstRound.first { $0.headName == name }?.projection.count ?? 0
    let columns = (0..<SQLGenerator.columnCount(arity)).map { SQLGenerator.column($0) }
    var branches: [String] = []
    if seeded { branches.append("SELECT * FROM \(g.table(name))") }
    for base in plan.firstRound where !base.steps.contains(where: { $0.positiveAtom?.relation == name }) {
      branches.append(g.select(base, distinct: false))
    }
    if branches.isEmpty { return nil }
    g.workingTable = (name, "dq_w")
    let step = g.select(rule, distinct: false)
    g.workingTable = nil
    return "dq_w(\(columns.joined(separator: ", "))) AS (\n  \(branches.joined(separator: "\n  UNION "))\n  UNION \(step)\n)"
  }

  /// Whether the query computes `plan`'s relation inside its own statement, as hand-written
  /// SQL would (`WITH RECURSIVE ... SELECT ... FROM` it), instead of storing its rows first:
  /// the relation is a linear recursion without facts that no other stratum reads, in dq's
  /// temporary schema (a kept schema keeps every relation), and not computed so before in the
  /// same state (a query needing it a second time stores it, for the queries after). Returns
  /// its name.
  private func inlinable(_ plan: StratumPlan, _ plans: [StratumPlan], states: [String: Int], seeded: Set<String>) -> String? {
    guard schema == "pg_temp", plan.recursive, Self.isDirect(plan), let name = plan.relations.first, !seeded.contains(name)
    else { return nil }
    if let state = states[name], held[name] == state || inlinedStates.contains(state) { return nil }
    for other in plans where other.relations != plan.relations {
      if Self.relations([other], Self.noQuery).arity[name] != nil { return nil }
    }
    return name
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
