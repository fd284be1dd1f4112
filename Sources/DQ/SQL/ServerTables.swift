/// The tables and views of a PostgreSQL server that `--engine postgres` reads as relations,
/// listed for `.relations` and `.schema` (the reading itself is `PostgresEngine.serverRelations`).
extension PostgresEngine {
  /// A table or view of the server a query would read as a relation of its name.
  struct ServerTable {
    var name: String
    /// The schema it is in (the first of the search_path that has the name).
    var schema: String
    /// table, view, materialized view, partitioned table or foreign table.
    var kind: String
    var columns: [(name: String, type: String)]

    /// How `.relations` describes it: `PostgreSQL table public.edge (a bigint, b integer)`.
    var description: String {
      "PostgreSQL \(kind) \(schema).\(name) (" + columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ") + ")"
    }
  }

  /// Every table and view on the connection's search_path whose name can be a dq relation (a
  /// lower-case identifier); where several schemas have a name, the first of the path wins, as
  /// when a query reads it. dq's own schema (`pg_temp` or `--db-schema`'s) is left out.
  func serverTables() throws(PostgresError) -> [ServerTable] {
    let kinds = ["r": "table", "v": "view", "m": "materialized view", "p": "partitioned table", "f": "foreign table"]
    return try catalog(nil).compactMap { entry in
      guard !entry.columns.isEmpty else { return nil }
      return ServerTable(
        name: entry.name, schema: entry.schema, kind: kinds[entry.kind] ?? "table",
        columns: entry.columns.map { (name: $0.name, type: $0.type) })
    }
  }
}

extension Session {
  /// With `--engine postgres`, the engine for the session's connection, opened if need be
  /// (nil with another engine); a connection that fails is an error at `span`.
  func openPostgres(at span: SourceSpan? = nil) throws(EvaluationError) -> PostgresEngine? {
    guard case .postgres(let conninfo, let schemaName) = options.engine else { return nil }
    if postgres?.choice != options.engine {
      postgres = nil
      do {
        postgres = (try PostgresEngine(conninfo: conninfo, schema: schemaName), options.engine)
      } catch {
        throw PostgresEngine.evaluationError(error, spans: [], at: span)
      }
    }
    return postgres?.engine
  }

  /// With `--engine postgres`, the server's tables and views that queries read as relations:
  /// those whose names the program gives no facts and no rules. Empty with another engine.
  func serverTables() throws(EvaluationError) -> [PostgresEngine.ServerTable] {
    guard let engine = try openPostgres() else { return [] }
    let tables: [PostgresEngine.ServerTable]
    do {
      tables = try engine.serverTables()
    } catch {
      if error.unavailable { postgres = nil }
      throw PostgresEngine.evaluationError(error, spans: [], at: nil)
    }
    return tables.filter { t in
      guard let own = database.tables[t.name] else { return true }
      return !own.hasRules && own.rows.count == 0
    }
  }

  /// With `--engine postgres`, the names of the server's tables and views queries read as
  /// relations (`serverTables`), for completion; empty with another engine, before a connection
  /// is open (a Tab never waits on connecting to a host that may not answer), or when the server
  /// cannot be asked (completion goes on without them).
  public func serverTableNames() -> [String] {
    guard case .postgres = options.engine, postgres != nil, let tables = try? serverTables() else { return [] }
    return tables.map(\.name)
  }

  /// `.schema` with no argument: every declaration, the server's tables and views (from
  /// `serverTables`) among them, as `.decl` lines whose description names the table, in place of
  /// relations the program only uses.
  func schemaListing(server: [PostgresEngine.ServerTable]) -> String {
    guard !server.isEmpty else { return schemaListing() }
    let names = Set(server.map(\.name))
    var lines = schema.relations.values.filter { !names.contains($0.name) }.map { ($0.name, Self.declarationLine($0)) }
    lines += server.map { ($0.name, Self.declarationLine($0)) }
    return lines.sorted { $0.0 < $1.0 }.map(\.1).joined()
  }

  /// The `.schema` line of a server table or view: `.decl edge(a, b) "PostgreSQL table ..."`.
  static func declarationLine(_ t: PostgresEngine.ServerTable) -> String {
    ".decl \(t.name)(\(t.columns.map(\.name).joined(separator: ", "))) \"\(t.description.replacing("\"", with: "\\\""))\"\n"
  }
}
