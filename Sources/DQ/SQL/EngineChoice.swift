/// Which engine a session computes answers with (`--engine`, `--db`, `--db-schema`, `.engine`).
public enum EngineChoice: Sendable, Equatable {
  case native
  /// A PostgreSQL server: the connection string (empty: libpq's environment, PGHOST etc.) and
  /// the schema to keep derived relations in (nil: a temporary one, nothing left behind).
  case postgres(conninfo: String, schema: String?)
  /// `dq --sql`: nothing is computed; each query's SQL is added to the session's `sqlScript`.
  /// With a connection string (`--sql --db CONNINFO`), a relation the program does not define
  /// is read from the server's table or view of its name, as `--engine postgres` reads it.
  case sqlScript(conninfo: String?)

  public var name: String {
    switch self {
    case .native: return "native"
    case .postgres: return "postgres"
    case .sqlScript: return "sql"
    }
  }
}

extension Session {
  /// The query's bindings computed by the PostgreSQL engine (unsorted). The connection opens
  /// on the first query that needs it and stays open while the choice stays the same.
  func postgresBindings(of body: [Literal], variables: [String], budget: Budget) throws(EvaluationError) -> [[Value]] {
    let choice = options.engine
    if case .sqlScript(let conninfo) = choice {
      let script = sqlScript ?? SQLScript(conninfo: conninfo)
      sqlScript = script
      let title = "?- " + body.map { "\($0)" }.joined(separator: ", ") + "."
      try script.add(query: body, variables: variables, title: title, rules: rules, database: database)
      return []
    }
    let span = body.first?.span
    guard let pg = try openPostgres(at: span) else { return [] }
    do {
      return try pg.bindings(of: body, variables: variables, rules: rules, database: database, budget: budget, querySpan: span)
    } catch {
      // A lost connection is not kept: the next query (in the REPL) connects afresh.
      if error.reason == .unavailable { postgres = nil }
      throw error
    }
  }
}

extension Session {
  /// Whether, with `--engine postgres`, `name` is a table or view of the server (so a relation
  /// the program does not define is not empty). Opens the connection if needed; false when it
  /// cannot be opened (the query then reports why).
  func isServerRelation(_ name: String) -> Bool {
    guard let engine = try? openPostgres() else { return false }
    return engine.hasServerRelation(name)
  }
}

extension Session {
  /// `.engine [native | postgres [CONNINFO]]`.
  func chooseEngine(_ text: String) -> CommandOutcome {
    let words = text.split(separator: " ", maxSplits: 1).map(String.init)
    guard let first = words.first else {
      beginBlock()
      switch options.engine {
      case .native: write("native\n")
      case .sqlScript: write("sql\n")
      case .postgres(let conninfo, let schema):
        write("postgres" + (conninfo.isEmpty ? "" : " " + conninfo) + (schema.map { " (schema \($0))" } ?? "") + "\n")
      }
      return .ok
    }
    switch first {
    case "native" where words.count == 1:
      options.engine = .native
    case "postgres", "postgresql":
      var schema: String? = nil
      if case .postgres(_, let s) = options.engine { schema = s }
      options.engine = .postgres(conninfo: words.count > 1 ? words[1] : "", schema: schema)
    default:
      return .usage("'.engine' takes native or postgres [CONNINFO], not '\(text)'")
    }
    return .ok
  }
}
