/// The PostgreSQL engine against a real server (see `PostgresTestServer`): the same answers and
/// errors as the native engine on random programs, errors at the program's places, an
/// unreachable server as exit 69, `--db-schema`, `.engine`, and `--sql` scripts run by psql.
import Foundation
import Testing

@testable import DQ

@Suite struct PostgresEngineTests {
  /// Output, rendered diagnostics and status of `text` run on `engine`.
  static func run(_ text: String, engine: EngineChoice, maxTuples: Int = 1_000_000) -> (String, [String], Session.Status) {
    var options = Session.Options()
    options.format = .tsv
    options.maxTuples = maxTuples
    options.timeout = 30
    options.engine = engine
    let session = Session(options: options, loadDataset: false)
    var output = ""
    var diagnostics: [String] = []
    session.capture.onWrite = { output += $0 }
    session.capture.onReport = { d in
      diagnostics.append("\(d.span?.line ?? 0):\(d.span?.column ?? 0): \(d.message)" + (d.hint.map { " [\($0)]" } ?? ""))
    }
    let status = session.run(SourceFile(name: "test.dq", text: text))
    return (output, diagnostics, status)
  }

  /// Both engines give the same output, diagnostics and status.
  static func same(_ text: String, maxTuples: Int = 1_000_000) throws -> [String] {
    let pg = try PostgresTestServer.engine()
    let native = run(text, engine: .native, maxTuples: maxTuples), server = run(text, engine: pg, maxTuples: maxTuples)
    var problems: [String] = []
    if native.0 != server.0 { problems.append("output:\n--- native\n\(native.0)--- postgres\n\(server.0)") }
    if native.1 != server.1 { problems.append("diagnostics: native \(native.1), postgres \(server.1)") }
    if native.2 != server.2 { problems.append("status: native \(native.2), postgres \(server.2)") }
    return problems
  }

  @Test("Random programs (recursion, negation, aggregates) answer the same on both engines")
  func randomProgramsAgree() throws {
    var compared = 0
    for seed in UInt64(1)...80 {
      var generator = RandomProgram(seed: seed)
      let text = generator.text() + "?- a(X, Y).\n?- b(X, Y).\n?- c(X).\n"
      let problems = try Self.same(text)
      #expect(problems.isEmpty, "seed \(seed):\n\(problems.joined(separator: "\n"))\n\(text)")
      if !problems.isEmpty { return }
      compared += 1
    }
    #expect(compared == 80)
  }

  @Test("Nested aggregates answer the same on both engines")
  func nestedAggregatesAgree() throws {
    for seed in UInt64(1)...40 {
      var generator = RandomProgram(seed: seed)
      let program = generator.text()
      let text = program + "?- n(X), " + generator.nestedAggregate("X") + ".\n"
      let problems = try Self.same(text)
      #expect(problems.isEmpty, "seed \(seed):\n\(problems.joined(separator: "\n"))\n\(text)")
      if !problems.isEmpty { return }
    }
  }

  @Test("Values: kinds, order across kinds, integer versus decimal, dates, symbols by code point")
  func valuesAgree() throws {
    let text = """
      v(a). v("Zeta"). v("é"). v("e"). v(2024-01-02). v(1999-12-31). v(1.5). v(1). v(1.0). v(-3). v(9223372036854775807).
      v(-0.0). v(0). v("it's \\"q\\" \\\\ x"). v("tab\\there").
      ?- v(X).
      ?- v(X), X > 1.
      ?- v(X), v(Y), X < Y, X >= 1, Y <= 2.
      ?- v(X), X = 1.
      ?- M = max X : { v(X) }.
      ?- M = min X : { v(X) }, N = count : { v(Y) }.
      ?- S = sum X : { v(X), X < 2000-01-01, X != 9223372036854775807 }.
      ?- X = 7 / -2, Y = -7 mod 3, Z = 7 mod -3, W = 2024-03-01 - 1, D = 2024-03-01 - 2024-01-01, F = 1.5 * 2.
      """
    let problems = try Self.same(text)
    #expect(problems.isEmpty, Comment(rawValue: problems.joined(separator: "\n")))
  }

  @Test("Runtime errors: the native engine's message, at the same place", arguments: [
    "big(9223372036854775807).\nr(Y) :- big(X), Y = X + 1.\n?- r(Y).\n",
    "z(0). z(2).\nq(Y) :- z(X), Y = 10 / X.\n?- q(Y).\n",
    "s(a).\nq(Y) :- s(X), Y = X * 2.\n?- q(Y).\n",
    "w(9223372036854775807). w(1).\n?- S = sum X : { w(X) }.\n",
    "n(0).\nn(Y) :- n(X), Y = X + 1.\n?- n(5000).\n",
  ])
  func errorsAgree(_ text: String) throws {
    let problems = try Self.same(text, maxTuples: 1000)
    #expect(problems.isEmpty, Comment(rawValue: problems.joined(separator: "\n")))
    let (_, diagnostics, status) = Self.run(text, engine: try PostgresTestServer.engine(), maxTuples: 1000)
    #expect(status == .runtimeError && diagnostics.count == 1, "\(diagnostics)")
  }

  @Test("A server that cannot be reached is an error (exit 69), not a hang")
  func unreachableServer() {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dq-no-server-\(getpid())").path
    let (output, diagnostics, status) = Self.run(
      "e(1).\n?- e(X).\n", engine: .postgres(conninfo: "host=\(dir) port=1 connect_timeout=3", schema: nil))
    #expect(status == .unavailable && status.exitCode == 69)
    #expect(output.isEmpty)
    #expect(diagnostics.count == 1 && diagnostics[0].hasPrefix("2:4: PostgreSQL: Cannot connect to PostgreSQL"), "\(diagnostics)")
  }

  @Test("A static error is reported before anything is sent to the server")
  func staticErrorsFirst() {
    // No server at all: the error must be the static one, not a connection failure.
    let (_, diagnostics, status) = Self.run(
      "p(X) :- q(X, Y).\n?- p(X, Y).\n", engine: .postgres(conninfo: "host=/nonexistent port=1 connect_timeout=1", schema: nil))
    #expect(status == .staticError)
    #expect(!diagnostics.contains { $0.contains("PostgreSQL") }, "\(diagnostics)")
  }

  @Test("--db-schema keeps the derived relations in the schema it names")
  func keptSchema() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let schema = "dq_kept_\(getpid())"
    let text = "e(1, 2). e(2, 3).\np(X, Y) :- e(X, Y).\np(X, Z) :- p(X, Y), e(Y, Z).\n?- p(1, X).\n"
    let (output, diagnostics, _) = Self.run(text, engine: .postgres(conninfo: conninfo, schema: schema))
    #expect(output == "X\n2\n3\n", "\(diagnostics)")
    let check = try PostgresConnection(conninfo)
    let rows = try check.query("SELECT count(*) FROM \(schema).\"p\"")
    #expect(rows.first?.first == "3")
    try check.execute("DROP SCHEMA \(schema) CASCADE")
  }

  @Test("By default nothing is left behind in the database")
  func nothingLeftBehind() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let before = try PostgresConnection(conninfo).query("SELECT count(*) FROM pg_class WHERE relname = 'left_behind_probe'")
    do {
      _ = Self.run("left_behind_probe(1).\n?- left_behind_probe(X).\n", engine: try PostgresTestServer.engine())
    }
    // The session (and its connection, with its pg_temp tables) is gone once run returns.
    let after = try PostgresConnection(conninfo).query(
      "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE relname = 'left_behind_probe' AND n.nspname NOT LIKE 'pg_temp%'")
    #expect(before.first?.first == "0" && after.first?.first == "0")
  }

  @Test("A linear recursion only the query reads is computed inside the query, not stored; a second query over it stores it; tuple counts and the tuple limit as natively")
  func recursionInsideTheQuery() throws {
    let pg = try PostgresTestServer.engine()
    guard case .postgres = pg else { return }
    // 30 edges of a chain: 465 paths, the base rule 30 of them.
    let program = (1...30).map { "e(\($0), \($0 + 1)).\n" }.joined() + "p(X, Y) :- e(X, Y).\np(X, Z) :- p(X, Y), e(Y, Z).\n"
    var options = Session.Options()
    options.format = .tsv
    options.engine = pg
    let session = Session(options: options, loadDataset: false)
    var output = ""
    session.capture.onWrite = { output += $0 }
    func stored() throws -> String? {
      let engine = try #require(session.postgres?.engine)
      return try engine.connection.query("SELECT count(*) FROM pg_temp.p").first?.first ?? nil
    }
    #expect(session.run(SourceFile(name: "a.dq", text: program + "?- N = count : { p(X, Y) }.\n")) == .ok)
    #expect(output == "N\n465\n", "\(output)")
    #expect(try stored() == "0")
    // Counted as derived all the same: the 465 rows and the one answer.
    #expect(session.lastDerived == 466)
    output = ""
    #expect(session.run(SourceFile(name: "b.dq", text: "?- p(29, Y).\n")) == .ok)
    #expect(output == "\nY\n30\n31\n", "\(output)")
    #expect(try stored() == "465")
    // Stored now, it is read as it is.
    #expect(session.run(SourceFile(name: "c.dq", text: "?- p(X, 2).\n")) == .ok)
    #expect(try stored() == "465")
    #expect(session.lastDerived == 1)
    // The tuple limit inside the query's statement: the native engine's error, at its rule.
    let problems = try Self.same(program + "?- N = count : { p(X, Y) }.\n", maxTuples: 100)
    #expect(problems.isEmpty, Comment(rawValue: problems.joined(separator: "\n")))
    let limited = Self.run(program + "?- N = count : { p(X, Y) }.\n", engine: pg, maxTuples: 100)
    #expect(limited.2 == .runtimeError && limited.1.first?.hasPrefix("32:1: Evaluation stopped after deriving more than 100 tuples") == true, "\(limited.1)")
    // Under the limit: the same answers.
    #expect(try Self.same(program + "?- N = count : { p(X, Y) }.\n?- p(X, 31), X > 27.\n", maxTuples: 500).isEmpty)
  }

  @Test(".engine shows and switches the engine; queries above and below agree")
  func engineCommand() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let text = "e(1). e(2).\n.engine\n?- e(X).\n.engine postgres \(conninfo)\n.engine\n?- e(X), X > 1.\n.engine native\n?- e(X), X < 2.\n"
    let (output, diagnostics, status) = Self.run(text, engine: .native)
    #expect(status == .ok, "\(diagnostics)")
    #expect(output == "native\n\nX\n1\n2\n\npostgres \(conninfo)\n\nX\n2\n\nX\n1\n")
  }

  @Test("dq --sql prints a script psql runs, giving the program's answers")
  func sqlScript() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let psql = ["/usr/bin/psql"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map {
      "/usr/lib/postgresql/\($0)/bin/psql"
    }
    guard let psqlPath = psql.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
      Issue.record("psql not found (Debian: postgresql-client)")
      return
    }
    let program = """
      e(a, b). e(b, c). e(c, a). e(c, d).
      reach(X, Y) :- e(X, Y).
      reach(X, Z) :- reach(X, Y), e(Y, Z).
      far(X) :- e(X, _), not reach(d, X).
      ?- reach(a, X), far(X).
      ?- N = count : { reach(X, Y) }.
      """
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("dq-sql-\(getpid()).dq")
    try program.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let script = try DQBinary.run(["--no-dataset", "--sql", file.path])
    #expect(script.status == 0, "\(script.stderr)")
    let sqlFile = file.deletingPathExtension().appendingPathExtension("sql")
    try script.stdout.write(to: sqlFile, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: sqlFile) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: psqlPath)
    p.arguments = ["-X", "-q", "-A", "-t", "-d", conninfo, "-f", sqlFile.path]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    #expect(p.terminationStatus == 0)
    #expect(String(decoding: data, as: UTF8.self) == "a\nb\nc\n12\n")
  }

  // MARK: - Tables that already exist in the server

  /// Creates tables and views in the test server (public schema) under names unique to this
  /// process, runs `body` with the names, and drops them.
  static func withServerTables(_ sql: (String) -> String, _ body: (String, String) throws -> Void) throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let prefix = "srv\(getpid())_\(UInt32.random(in: 0...UInt32.max))_"
    let admin = try PostgresConnection(conninfo)
    try admin.execute(sql(prefix))
    defer {
      let drop = try? admin.query(
        "SELECT string_agg(format('DROP %s IF EXISTS public.%I CASCADE', CASE relkind WHEN 'v' THEN 'VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, relname), '; ') FROM pg_class WHERE relname LIKE '\(prefix)%' AND relkind IN ('r', 'v', 'f') AND relnamespace = 'public'::regnamespace")
      if let d = drop?.first?.first.flatMap({ $0 }) { try? admin.execute(d) }
    }
    try body(prefix, conninfo)
  }

  @Test("A table and a view of the server are relations: joined with facts, recursed over, as the native engine with the same rows as facts")
  func serverTablesAreRelations() throws {
    let edges = [(1, 2), (2, 3), (3, 1), (3, 4), (5, 6)]
    try Self.withServerTables({ p in
      "CREATE TABLE \(p)edge (a bigint, b integer); INSERT INTO \(p)edge VALUES " + edges.map { "(\($0.0), \($0.1))" }.joined(separator: ", ")
        + "; CREATE VIEW \(p)big AS SELECT a AS x FROM \(p)edge WHERE b > 2"
    }) { p, _ in
      let program = """
        path(X, Y) :- \(p)edge(X, Y).
        path(X, Z) :- path(X, Y), \(p)edge(Y, Z).
        name(1, one). name(4, four). name(6, six).
        ?- N = count : { path(X, Y) }.
        ?- path(1, Y), name(Y, S).
        ?- \(p)big(X), not path(X, 6).
        ?- path(X, X).

        """
      let facts = edges.map { "\(p)edge(\($0.0), \($0.1)).\n" }.joined() + "\(p)big(X) :- \(p)edge(X, Y), Y > 2.\n"
      let native = Self.run(facts + program, engine: .native)
      let server = Self.run(program, engine: try PostgresTestServer.engine())
      #expect(server.2 == .ok, "\(server.1)")
      // No "has no facts and no rules" warning for a table of the server; one for a name that is none.
      #expect(server.1.isEmpty, "\(server.1)")
      let missing = Self.run("?- \(p)nothing(X).\n", engine: try PostgresTestServer.engine())
      #expect(missing.1.contains { $0.contains("Relation '\(p)nothing' has no facts and no rules") }, "\(missing.1)")
      #expect(native.0 == server.0)
      #expect(server.0.hasPrefix("N\n13\n"), "\(server.0)")
    }
  }

  @Test("Server columns: integers, decimals, dates, text and other types as symbols, NULL as the empty symbol")
  func serverColumnTypes() throws {
    try Self.withServerTables({ p in
      """
      CREATE TABLE \(p)mix (i smallint, n numeric(6,2), r double precision, d date, t text, v varchar(5), b boolean);
      INSERT INTO \(p)mix VALUES (7, 2.50, -0.0, '2024-01-02', 'x y', 'vv', true), (NULL, NULL, NULL, NULL, NULL, NULL, NULL)
      """
    }) { p, _ in
      let text = """
        ?- \(p)mix(I, N, R, D, T, V, B), I = 7, N = 2.5, R = 0.0, D = 2024-01-02, T = "x y", V = vv, B = true, J = I + 1, E = D + 1.
        ?- \(p)mix(I, N, R, D, T, V, B), I = "", N = "", D = "", B = "".

        """
      let (output, diagnostics, status) = Self.run(text, engine: try PostgresTestServer.engine())
      #expect(status == .ok, "\(diagnostics)")
      #expect(output == "I\tN\tR\tD\tT\tV\tB\tJ\tE\n7\t2.5\t0.0\t2024-01-02\tx y\tvv\ttrue\t8\t2024-01-03\n\nI\tN\tR\tD\tT\tV\tB\n\t\t\t\t\t\t\n", "\(output)")
    }
  }

  @Test("A server table used with the wrong number of arguments is an error naming its columns")
  func serverTableArity() throws {
    try Self.withServerTables({ p in "CREATE TABLE \(p)t (a bigint, \"B c\" text)" }) { p, _ in
      let (_, diagnostics, status) = Self.run("?- \(p)t(X, Y, Z).\n", engine: try PostgresTestServer.engine())
      #expect(status == .runtimeError)
      #expect(diagnostics.contains { $0.hasPrefix("1:4: '\(p)t' is used with 3 arguments but the PostgreSQL table \"public\".\"\(p)t\" has 2 columns (a, B c)") }, "\(diagnostics)")
    }
  }

  @Test("Facts for a relation that is a table of the server are refused (read-only), naming it")
  func serverTableReadOnly() throws {
    try Self.withServerTables({ p in "CREATE TABLE \(p)t (a bigint); INSERT INTO \(p)t VALUES (1)" }) { p, conninfo in
      let (output, diagnostics, status) = Self.run("\(p)t(2).\n?- \(p)t(X).\n", engine: try PostgresTestServer.engine())
      #expect(status == .runtimeError && output.isEmpty)
      #expect(diagnostics.contains { $0.hasPrefix("2:4: '\(p)t' is a table in the PostgreSQL server (public.\(p)t), read-only") }, "\(diagnostics)")
      #expect(try PostgresConnection(conninfo).query("SELECT count(*) FROM public.\(p)t").first?.first == "1")
      // Rules may still define a relation of that name: the program's own relation wins.
      let ruled = Self.run("\(p)t(X) :- X = 5.\n?- \(p)t(X).\n", engine: try PostgresTestServer.engine())
      #expect(ruled.0 == "X\n5\n", "\(ruled.1)")
    }
  }
}
