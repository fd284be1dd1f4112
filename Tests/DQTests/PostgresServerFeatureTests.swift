/// `--engine postgres` against a real server (see `PostgresTestServer`), beyond answering
/// queries: Ctrl-C during a server query (in the session, in a real terminal, in a script),
/// the server going away during a query, server tables in `.relations` and `--sql`, and a
/// program over more data than `--memory` lets the native engine hold.
import Foundation
import DQShell
import Testing

@testable import DQ

@Suite struct PostgresServerFeatureTests {
  /// The session's output and diagnostics, collected as it runs.
  final class Collected {
    var output = ""
    var diagnostics: [String] = []
  }

  static func session(_ engine: EngineChoice, timeout: Double = 60, maxMemory: Int = 0) -> (Session, Collected) {
    var options = Session.Options()
    options.format = .tsv
    options.timeout = timeout
    options.engine = engine
    if maxMemory > 0 { options.maxMemory = maxMemory }
    let session = Session(options: options, loadDataset: false)
    let collected = Collected()
    session.capture.onWrite = { collected.output += $0 }
    session.capture.onReport = { d in
      collected.diagnostics.append("\(d.span?.line ?? 0):\(d.span?.column ?? 0): \(d.message)")
    }
    return (session, collected)
  }

  /// How many statements connections named `application` run in the server (`state` active).
  static func active(_ conninfo: String, application: String) throws -> String? {
    try PostgresConnection(conninfo).query(
      "SELECT count(*) FROM pg_stat_activity WHERE application_name = '\(application)' AND state = 'active'"
    ).first?.first ?? nil
  }

  /// Polls `condition` every 0.2 s for at most `seconds`; whether it came true.
  static func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
      if try condition() { return true }
      usleep(200_000)
    }
    return try condition()
  }

  static let runaway = "n(0).\nn(Y) :- n(X), Y = X + 1.\n?- n(-1).\n"

  // MARK: - Ctrl-C

  @Test("Ctrl-C during a server query cancels it in the server; it is reported as interrupted and the session goes on")
  func interruptCancelsTheServerQuery() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let application = "dqint\(getpid())"
    let (session, collected) = Self.session(.postgres(conninfo: conninfo + " application_name=\(application)", schema: nil))
    let start = Date()
    // Ctrl-C "pressed" two seconds in, once the server is computing the runaway recursion.
    session.capture.interruption = { Date().timeIntervalSince(start) > 2 }
    let status = session.run(SourceFile(name: "t.dq", text: Self.runaway))
    let elapsed = Date().timeIntervalSince(start)
    #expect(status == .runtimeError)
    #expect(collected.diagnostics == ["0:0: Interrupted"], "\(collected.diagnostics)")
    // Without the cancel, the statement would run on to the 60 s time limit.
    #expect(elapsed < 15, "\(elapsed) s")
    #expect(try Self.active(conninfo, application: application) == "0")
    session.capture.interruption = nil
    collected.diagnostics = []
    collected.output = ""
    // The same session and connection answer the next query.
    let next = session.run(SourceFile(name: "u.dq", text: "m(7). m(8).\n?- m(X), Y = X + 1.\n"))
    #expect(next == .ok, "\(collected.diagnostics)")
    #expect(collected.output == "X\tY\n7\t8\n8\t9\n")
  }

  @Test("Ctrl-C in the REPL's terminal while the server computes: Interrupted, the next query answers (Tests/Terminal/repl_postgres_pty.py)")
  func interruptInARealTerminal() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let dq = try #require(DQBinary.path, "build the dq binary first (swift build --product dq)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
      "timeout", "-k", "5", "120", "python3",
      Fixture.root.appendingPathComponent("Tests/Terminal/repl_postgres_pty.py").path, dq, conninfo,
    ]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, Comment(rawValue: output))
  }

  @Test("Ctrl-C ends a script as natively (killed by SIGINT), and the server stops the statement it was running")
  func interruptEndsAScript() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let dq = try #require(DQBinary.path, "build the dq binary first (swift build --product dq)")
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("dq-sigint-\(getpid()).dq")
    try Self.runaway.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let application = "dqsig\(getpid())"
    for engine in ["native", "postgres"] {
      let process = Process()
      // Started through python3, which gives SIGINT its default action first: a test running
      // system() meanwhile (starting a server) has SIGINT ignored in this process for that
      // time, and a child started then would inherit that.
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments =
        ["python3", "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])", dq]
        + ["--no-dataset", "--engine", engine] + (engine == "postgres" ? ["--db", conninfo + " application_name=\(application)"] : []) + [file.path]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      if engine == "postgres" {
        #expect(try Self.eventually(20) { try Self.active(conninfo, application: application) == "1" })
      } else {
        usleep(1_500_000)
      }
      process.interrupt()
      process.waitUntilExit()
      #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT, "\(engine): \(process.terminationReason) \(process.terminationStatus)")
    }
    // The server notices that dq is gone (client_connection_check_interval) and stops.
    #expect(try Self.eventually(10) { try Self.active(conninfo, application: application) == "0" })
  }

  // MARK: - Server errors mid-run

  /// Runs the dq binary with `arguments` and waits at most `seconds` for it (then kills it):
  /// its exit status (nil when it had to be killed) and standard error.
  static func runBounded(_ arguments: [String], seconds: Double, whileRunning: () throws -> Void) throws -> (Int32?, String) {
    let dq = try #require(DQBinary.path, "build the dq binary first (swift build --product dq)")
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("dq-lost-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err")
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errURL) }
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: dq)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = err
    try process.run()
    try whileRunning()
    let end = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < end { usleep(50_000) }
    var status: Int32? = nil
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    } else {
      status = process.terminationStatus
    }
    try err.close()
    return (status, (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
  }

  @Test("The server stopped during a query: an error naming the cause and the statement, exit 69, not a hang")
  func serverStoppedDuringAQuery() throws {
    var server: PostgresShardTests.Server? = try PostgresShardTests.start()
    defer { server.map(PostgresShardTests.stop) }
    let s = try #require(server)
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("dq-lost-\(getpid()).dq")
    try Self.runaway.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let application = "dqlost\(getpid())"
    let (status, stderr) = try Self.runBounded(
      ["--no-dataset", "--engine", "postgres", "--db", s.conninfo + " application_name=\(application)", file.path], seconds: 30
    ) { () throws -> Void in
      let running = try Self.eventually(20) { try Self.active(s.conninfo, application: application) == "1" }
      #expect(running)
      PostgresShardTests.stop(s)
      server = nil
    }
    #expect(status == 69, "\(stderr)")
    #expect(stderr.hasPrefix("\(file.path):3:4: error: PostgreSQL: lost the connection to the server: "), "\(stderr)")
    // The runaway recursion is linear: one INSERT ... WITH RECURSIVE, named by its start.
    #expect(stderr.contains("(in: INSERT INTO pg_temp.\"n\" SELECT * FROM (WITH RECURSIVE"), "\(stderr)")
    #expect(!stderr.contains("WARNING"), "\(stderr)")
  }

  @Test("A connection the server ends between queries: that query fails (exit 69), the next one reconnects")
  func lostConnectionReconnects() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let application = "dqterm\(getpid())"
    let (session, collected) = Self.session(.postgres(conninfo: conninfo + " application_name=\(application)", schema: nil))
    #expect(session.run(SourceFile(name: "a.dq", text: "e(1). e(2).\n?- e(X).\n")) == .ok, "\(collected.diagnostics)")
    let admin = try PostgresConnection(conninfo)
    let ended = try admin.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '\(application)'")
    #expect(ended.first?.first == "1")
    collected.output = ""
    collected.diagnostics = []
    let lost = session.run(SourceFile(name: "b.dq", text: "?- e(X), X > 1.\n"))
    #expect(lost == .unavailable && lost.exitCode == 69)
    #expect(collected.diagnostics.count == 1 && collected.diagnostics[0].hasPrefix("1:4: PostgreSQL: "), "\(collected.diagnostics)")
    #expect(collected.diagnostics.last?.contains("terminating connection due to administrator command") == true, "\(collected.diagnostics)")
    collected.diagnostics = []
    let again = session.run(SourceFile(name: "c.dq", text: "?- e(X), X > 1.\n"))
    #expect(again == .ok, "\(collected.diagnostics)")
    // (After the first query's answers, a blank line.)
    #expect(collected.output == "\nX\n2\n", "\(collected.output)")
  }

  @Test("Permission denied on a server table: a dq error naming the statement, exit 70")
  func permissionDenied() throws {
    guard case .postgres(let conninfo, _) = try PostgresTestServer.engine() else { return }
    let role = "dqnoperm\(getpid())", table = "secret\(getpid())"
    let admin = try PostgresConnection(conninfo)
    try admin.execute("CREATE ROLE \(role) LOGIN; CREATE TABLE public.\(table) (a bigint); INSERT INTO public.\(table) VALUES (1); REVOKE ALL ON public.\(table) FROM PUBLIC")
    defer {
      try? admin.execute("DROP TABLE public.\(table)")
      try? admin.execute("DROP OWNED BY \(role)")
      try? admin.execute("DROP ROLE \(role)")
    }
    let (status, collected) = {
      // The session (its connection and its temporary tables) ends before the role is dropped.
      let (session, collected) = Self.session(.postgres(conninfo: conninfo + " user=\(role)", schema: nil))
      return (session.run(SourceFile(name: "p.dq", text: "?- \(table)(X).\n")), collected)
    }()
    #expect(status == .runtimeError && status.exitCode == 70)
    #expect(collected.output.isEmpty)
    #expect(collected.diagnostics.count == 1, "\(collected.diagnostics)")
    #expect(
      // The first statement reading the table (which asks which of its columns hold NULLs).
      collected.diagnostics.first?.hasPrefix("1:4: PostgreSQL: permission denied for table \(table) (in: SELECT bool_or(\"a\" IS NULL) FROM \"public\".\"\(table)\"") == true,
      "\(collected.diagnostics)")
  }

  // MARK: - Server tables in .relations, .schema and --sql

  @Test(".relations and .schema list the server's tables and views with their columns, marked as the server's")
  func serverTablesListed() throws {
    try PostgresEngineTests.withServerTables({ p in
      "CREATE TABLE \(p)edge (a bigint, b integer); INSERT INTO \(p)edge VALUES (1, 2); CREATE VIEW \(p)big AS SELECT a AS x FROM \(p)edge"
    }) { p, conninfo in
      let (session, collected) = Self.session(.postgres(conninfo: conninfo, schema: nil))
      let text = "\(p)path(X, Y) :- \(p)edge(X, Y).\n\(p)own(1).\n.relations \(p)\n.schema \(p)edge\n.schema\n"
      #expect(session.run(SourceFile(name: "l.dq", text: text)) == .ok, "\(collected.diagnostics)")
      let relations = """
        relation\tarity\tcolumns\trows\tdescription
        \(p)big\t1\tx\t-\tPostgreSQL view public.\(p)big (x bigint)
        \(p)edge\t2\ta, b\t-\tPostgreSQL table public.\(p)edge (a bigint, b integer)
        \(p)own\t1\tc1\t1\t
        \(p)path\t2\tc1, c2\t0\t(rules) \n
        """
      #expect(collected.output.hasPrefix(relations), "\(collected.output)")
      #expect(collected.output.contains("\(p)edge\t.decl \(p)edge(a, b) \"PostgreSQL table public.\(p)edge (a bigint, b integer)\"\n"), "\(collected.output)")
      // .schema with no argument: the server's declarations among the program's, one each.
      let declarations = collected.output.split(separator: "\n").filter { $0.hasPrefix(".decl \(p)") }
      #expect(declarations == [
        ".decl \(p)big(x) \"PostgreSQL view public.\(p)big (x bigint)\"",
        ".decl \(p)edge(a, b) \"PostgreSQL table public.\(p)edge (a bigint, b integer)\"",
        ".decl \(p)own(c1)", ".decl \(p)path(c1, c2)",
      ], "\(collected.output)")
      // Natively, the server is not asked: the program's relations only.
      let native = Self.session(.native)
      #expect(native.0.run(SourceFile(name: "n.dq", text: text)) == .ok)
      #expect(!native.1.output.contains("PostgreSQL"), "\(native.1.output)")
    }
  }

  @Test("With --engine postgres, completion offers the server's tables and views beside the program's relations")
  func completionKnowsServerTables() throws {
    try PostgresEngineTests.withServerTables({ p in
      "CREATE TABLE \(p)edge (a bigint, b bigint); CREATE VIEW \(p)ev AS SELECT a FROM \(p)edge"
    }) { p, conninfo in
      let text = "\(p)own(1).\n\(p)path(X, Y) :- \(p)edge(X, Y).\n"
      let (session, collected) = Self.session(.postgres(conninfo: conninfo, schema: nil))
      #expect(session.run(SourceFile(name: "c.dq", text: text)) == .ok, "\(collected.diagnostics)")
      let completer = Completer(session: session)
      // edge is used by the program (in its schema) and a table of the server: offered once.
      #expect(completer.completions(line: "?- \(p)", word: p) == .words(["\(p)edge(", "\(p)ev(", "\(p)own(", "\(p)path("]))
      #expect(completer.completions(line: ".schema \(p)e", word: "\(p)e") == .words(["\(p)edge", "\(p)ev"]))
      // Natively the server is not asked.
      let (native, _) = Self.session(.native)
      #expect(native.run(SourceFile(name: "c.dq", text: text)) == .ok)
      #expect(Completer(session: native).completions(line: "?- \(p)", word: p) == .words(["\(p)edge(", "\(p)own(", "\(p)path("]))
    }
  }

  static func psql() -> String? {
    let candidates = ["/usr/bin/psql"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map {
      "/usr/lib/postgresql/\($0)/bin/psql"
    }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs an SQL script with psql against `conninfo`: its output (unaligned, tuples only) and status.
  static func runScript(_ sql: String, conninfo: String) throws -> (String, Int32) {
    let psqlPath = try #require(Self.psql(), "psql not found (Debian: postgresql-client)")
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("dq-sqldb-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sql")
    try sql.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: psqlPath)
    p.arguments = ["-X", "-q", "-A", "-t", "-d", conninfo, "-f", file.path]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (String(decoding: data, as: UTF8.self), p.terminationStatus)
  }

  @Test("dq --sql --db reads the server tables a program uses in its script; without --db they are empty, and the script says so")
  func sqlScriptReadsServerTables() throws {
    try PostgresEngineTests.withServerTables({ p in
      "CREATE TABLE \(p)edge (a bigint, b integer); INSERT INTO \(p)edge VALUES (1, 2), (2, 3), (3, 1), (3, 4)"
    }) { p, conninfo in
      let program = "\(p)path(X, Y) :- \(p)edge(X, Y).\n\(p)path(X, Z) :- \(p)path(X, Y), \(p)edge(Y, Z).\n?- \(p)path(4, X).\n?- N = count : { \(p)path(X, Y) }.\n"
      let withServer = try DQBinary.run(["--no-dataset", "--sql", "--db", conninfo, "-e", program])
      #expect(withServer.status == 0, "\(withServer.stderr)")
      #expect(withServer.stdout.contains("FROM \"public\".\"\(p)edge\""), "\(withServer.stdout)")
      let (answers, status) = try Self.runScript(withServer.stdout, conninfo: conninfo)
      #expect(status == 0)
      // path(4, X): none; 3 nodes on a cycle reach each other and 4: 3 * 4 pairs.
      #expect(answers == "12\n", "\(answers)")
      let without = try DQBinary.run(["--no-dataset", "--sql", "-e", program])
      #expect(without.status == 0, "\(without.stderr)")
      #expect(!without.stdout.contains("public"))
      #expect(without.stdout.contains("-- '\(p)edge' has no facts and no rules: empty here (dq --sql --db CONNINFO reads a server table of that name)"))
      #expect(try Self.runScript(without.stdout, conninfo: conninfo).0 == "0\n")
      // The arity is checked against the server table's columns, as --engine postgres does.
      let wrong = try DQBinary.run(["--no-dataset", "--sql", "--db", conninfo, "-e", "?- \(p)edge(X, Y, Z).\n"])
      #expect(wrong.status == 70 && wrong.stderr.contains("is used with 3 arguments but the PostgreSQL table"), "\(wrong.stderr)")
    }
  }

  @Test("dq --sql --db types a server column by its catalog (NOT NULL or not), so a NULL added before the script runs is read as the engine reads it")
  func sqlScriptNullsAddedLater() throws {
    try PostgresEngineTests.withServerTables({ p in
      "CREATE TABLE \(p)edge (a bigint NOT NULL, b integer); INSERT INTO \(p)edge VALUES (1, 2), (2, 3)"
    }) { p, conninfo in
      let program = "?- N = count : { \(p)edge(X, \"\") }.\n?- N = count : { \(p)edge(X, Y) }.\n"
      let script = try DQBinary.run(["--no-dataset", "--sql", "--db", conninfo, "-e", program])
      #expect(script.status == 0, "\(script.stderr)")
      // a is NOT NULL: bigint; b holds no NULL yet but may: a dqv, which holds the empty symbol.
      #expect(script.stdout.contains("CREATE TABLE pg_temp.\"\(p)edge\" (c0 bigint, c1 pg_temp.dqv)"), "\(script.stdout)")
      try PostgresConnection(conninfo).execute("INSERT INTO \(p)edge VALUES (3, NULL), (4, NULL)")
      let (answers, status) = try Self.runScript(script.stdout, conninfo: conninfo)
      #expect(status == 0)
      #expect(answers == "2\n4\n", "\(answers)")
      // The engine, reading the table now, agrees.
      let engine = try DQBinary.run(["--no-dataset", "--format", "tsv", "--engine", "postgres", "--db", conninfo, "-e", program])
      #expect(engine.stdout == "N\n2\n\nN\n4\n", "\(engine.stdout) \(engine.stderr)")
    }
  }

  @Test("Server columns are typed by the catalog's NOT NULL (on tables only: not views), a script trusting only it")
  func nullScanOnlyForNullableColumns() throws {
    try PostgresEngineTests.withServerTables({ p in
      "CREATE TABLE \(p)t (a bigint NOT NULL, b bigint, c text NOT NULL); INSERT INTO \(p)t VALUES (1, 2, 'x'); "
        + "CREATE VIEW \(p)v AS SELECT * FROM \(p)t"
    }) { p, conninfo in
      let engine = try PostgresEngine(conninfo: conninfo, schema: nil)
      let db = Database()
      let found = try engine.serverRelations(["\(p)t"], database: db, at: nil)
      #expect(found["\(p)t"]?.kinds == [.integer, .integer, .symbol])
      let script = try engine.serverRelations(["\(p)t"], database: db, at: nil, scanNulls: false)
      #expect(script["\(p)t"]?.kinds == [.integer, .mixed, .symbol])
      // NOT NULL is the catalog's promise: nothing to scan when every column makes it.
      #expect(try engine.catalog(["\(p)t"]).first?.columns.map(\.notNull) == [true, false, true])
      // A view promises nothing (nor does a foreign table: the server does not enforce it there).
      #expect(try engine.catalog(["\(p)v"]).first?.columns.map(\.notNull) == [false, false, false])
      let viewScript = try engine.serverRelations(["\(p)v"], database: db, at: nil, scanNulls: false)
      #expect(viewScript["\(p)v"]?.kinds == [.mixed, .mixed, .symbol])  // NULL is the empty symbol: text stays symbol
    }
  }

  @Test("A foreign table's NOT NULL is not trusted (the server does not enforce it there): a NULL in it is answered as on a view")
  func foreignTableNotNullIsNotTrusted() throws {
    // file_fdw reads the file as it is: the second column's NOT NULL is broken by its first row.
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("dq-foreign-\(getpid()).csv")
    try "1,\n2,5\n".write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    try PostgresEngineTests.withServerTables({ p in
      "CREATE EXTENSION IF NOT EXISTS file_fdw; CREATE SERVER \(p)files FOREIGN DATA WRAPPER file_fdw; "
        + "CREATE FOREIGN TABLE \(p)f (a bigint NOT NULL, b bigint NOT NULL) SERVER \(p)files "
        + "OPTIONS (filename '\(file.path)', format 'csv')"
    }) { p, conninfo in
      defer { try? PostgresConnection(conninfo).execute("DROP SERVER IF EXISTS \(p)files CASCADE") }
      let engine = try PostgresEngine(conninfo: conninfo, schema: nil)
      #expect(try engine.catalog(["\(p)f"]).first?.columns.map(\.notNull) == [false, false])
      let script = try engine.serverRelations(["\(p)f"], database: Database(), at: nil, scanNulls: false)
      #expect(script["\(p)f"]?.kinds == [.mixed, .mixed])
      // Trusting the catalog would have typed b bigint and failed on the NULL; it is the empty symbol.
      let run = try DQBinary.run(["--no-dataset", "--format", "tsv", "--engine", "postgres", "--db", conninfo, "-e", "?- \(p)f(A, B)."])
      #expect(run.status == 0, "\(run.stderr)")
      #expect(run.stdout == "A\tB\n1\t\n2\t5\n", "\(run.stdout)")
      // The same through a script for psql (`--sql`): no column of it is declared bigint.
      let sql = try DQBinary.run(["--no-dataset", "--sql", "--db", conninfo, "-e", "?- \(p)f(A, B)."])
      #expect(sql.status == 0, "\(sql.stderr)")
      #expect(!sql.stdout.contains("c1 bigint"), "\(sql.stdout)")
    }
  }

  // MARK: - More data than --memory allows the native engine

  @Test("A program over more data than --memory lets the native engine hold: natively the limit error, in the server the answers")
  func moreDataThanMemory() throws {
    let rows = 200_000
    try PostgresEngineTests.withServerTables({ p in
      "CREATE TABLE \(p)big AS SELECT i::bigint AS a, (i % 1000)::bigint AS k FROM generate_series(1, \(rows)) AS i"
    }) { p, conninfo in
      let program = """
        band(0, low). band(1, high).
        ?- N = count : { \(p)big(A, K) }, S = sum A : { \(p)big(A, K), K < 10 }.
        ?- B = low, N = count : { \(p)big(A, K), band(K, B) }.

        """
      let dir = FileManager.default.temporaryDirectory
      let programFile = dir.appendingPathComponent("dq-memory-\(getpid()).dq"), factsFile = dir.appendingPathComponent("dq-memory-facts-\(getpid()).dq")
      try program.write(to: programFile, atomically: true, encoding: .utf8)
      var facts = ""
      for i in 1...rows { facts += "\(p)big(\(i), \(i % 1000)).\n" }
      try facts.write(to: factsFile, atomically: true, encoding: .utf8)
      defer {
        try? FileManager.default.removeItem(at: programFile)
        try? FileManager.default.removeItem(at: factsFile)
      }
      // The answers, computed here.
      let sum = (1...rows).filter { $0 % 1000 < 10 }.reduce(0, +)
      let low = (1...rows).filter { $0 % 1000 == 0 }.count
      let expected = "N\tS\n\(rows)\t\(sum)\n\nB\tN\nlow\t\(low)\n"

      let native = try DQBinary.run(["--no-dataset", "-f", "tsv", "--memory", "2M", factsFile.path, programFile.path])
      #expect(native.status == 70)
      #expect(native.stdout.isEmpty)
      #expect(native.stderr.contains("error: Evaluation stopped: dq holds ") && native.stderr.contains("more than the memory limit (2 MiB)"), "\(native.stderr)")

      let server = try DQBinary.run(["--no-dataset", "-f", "tsv", "--memory", "2M", "--engine", "postgres", "--db", conninfo, programFile.path])
      #expect(server.status == 0, "\(server.stderr)")
      #expect(server.stdout == expected, "\(server.stdout)")

      // Natively without the limit, the same answers.
      let unlimited = try DQBinary.run(["--no-dataset", "-f", "tsv", "--memory", "0", factsFile.path, programFile.path])
      #expect(unlimited.stdout == expected, "\(unlimited.stderr)")
    }
  }
}
