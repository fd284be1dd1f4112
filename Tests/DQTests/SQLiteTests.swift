/// SQLite in and out: `.export RELATION FILE.db` then `.attach` / `.import FILE.db` giving back
/// exactly the same tuples, a table replaced in place, failures that change no relation and
/// leave no file behind. Databases are made through the library's own SQLite connection (the C
/// API), so the tests need no `sqlite3` program.
import Foundation
import Testing

@testable import DQ

@Suite struct SQLiteTests {
  /// A fresh empty folder for one test's files.
  private func folder() throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dq-sqlite-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
  }

  /// A session without the dataset whose errors are collected.
  private final class Run {
    let session = TestDQ.quietSession()
    var errors: [String] = []
    init() { session.capture.onReport = { [unowned self] in errors.append($0.message) } }

    @discardableResult func callAsFunction(_ text: String) -> Session.Status {
      session.run(SourceFile(name: "<test>", text: text + "\n"))
    }

    /// The tuples of a relation, decoded (so 1 and 1.0, a date and its text, differ).
    func tuples(_ name: String) -> Set<[Constant]> {
      guard let rows = session.database.tables[name]?.rows else { return [] }
      return Set((0..<rows.count).map { rows.row($0).map(session.database.store.decode) })
    }

    func columns(_ name: String) -> [String]? { session.schema[name]?.columns }
  }

  /// Every kind of value, in single-kind columns and mixed ones: codes with leading zeros,
  /// dates, decimals that are not short in binary, a large integer, symbols with tabs, line
  /// breaks, quotes, backslashes and non-ASCII text, the empty symbol, 1 beside 1.0.
  private let program = """
    .decl item(code, day, amount, label, count)
    item("040", 2020-01-02, 1.5, "tab\\there", 1).
    item("007", 2021-12-31, 0.1, "line\\nbreak, \\"q\\" 'single'", -9223372036854775807).
    item(abc, 1999-03-04, 12345.678901234567, "back\\\\slash", 12345678901234).
    item(def, 0001-01-01, -0.25, "", 0).
    item("", 9999-12-31, 0.0000001, "Ünïcødé ✓", 268435456).
    .decl mix(a, b, c)
    mix(1, 1.0, x).
    mix(2, "x", 2020-01-01).
    mix(2020-01-01, 3, "").
    mix(abc, 2.5, 7).

    """

  @Test func exportThenAttachGivesBackTheSameTuples() throws {
    let dir = try folder()
    let out = Run()
    #expect(out(program) == .ok, "\(out.errors)")
    #expect(out(".export item \(dir)/all.db\n.export mix \(dir)/all.db") == .ok, "\(out.errors)")
    #expect(out.tuples("item").count == 5)
    let back = Run()
    #expect(back(".attach \(dir)/all.db") == .ok, "\(back.errors)")
    #expect(back.tuples("item") == out.tuples("item"))
    #expect(back.tuples("mix") == out.tuples("mix"))
    #expect(back.columns("item") == ["code", "day", "amount", "label", "count"])
    // One table, under another name.
    let one = Run()
    #expect(one(".import \(dir)/all.db mix m") == .ok, "\(one.errors)")
    #expect(one.tuples("m") == out.tuples("mix"))
    #expect(one.tuples("item").isEmpty)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["all.db"])
  }

  @Test func columnTypesComeFromTheValues() throws {
    let dir = try folder()
    let out = Run()
    #expect(out(program + ".export item \(dir)/t.db\n.export mix \(dir)/t.db") == .ok, "\(out.errors)")
    let db = try SQLiteConnection(path: dir + "/t.db", writable: false)
    let stmt = try db.prepare("SELECT sql FROM sqlite_master ORDER BY name", while: "")
    var sql: [String] = []
    while stmt.nextRow() { sql.append(stmt.text(0)) }
    #expect(
      sql == [
        #"CREATE TABLE "item" ("code" TEXT, "day" DATE, "amount" REAL, "label" TEXT, "count" INTEGER)"#,
        #"CREATE TABLE "mix" ("a" DATE BLOB, "b", "c" DATE BLOB)"#,
      ])
  }

  @Test func aMixedColumnWithADateAndASymbolSpellingOneIsRefused() throws {
    let dir = try folder()
    let out = Run()
    #expect(out("d(2020-01-01). d(\"2020-01-01\").\n.export d \(dir)/d.db") == .runtimeError)
    #expect(out.errors.first?.contains("cannot tell apart") == true, "\(out.errors)")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
  }

  @Test func cliExportAndFormatSqliteAndTheHeaderMagic() throws {
    let dir = try folder()
    let prog = try DQBinary.temporaryFile(program)
    let export = try DQBinary.run(["--no-dataset", prog, "--export", "item", dir + "/item.sqlite"])
    #expect(export.status == 0, "\(export.stderr)")
    let other = try DQBinary.run(["--no-dataset", prog, "-e", ".export --format sqlite mix \(dir)/mix.bin"])
    #expect(other.status == 0, "\(other.stderr)")
    let query = ["?- item(A, B, C, D, E).", "?- mix(A, B, C)."]
    let original = try DQBinary.run(["--no-dataset", "-f", "jsonl", prog, "-e", query[0], "-e", query[1]])
    // mix.bin has no SQLite extension: its header says what it is.
    let back = try DQBinary.run([
      "--no-dataset", "-f", "jsonl", "-e", ".import \(dir)/item.sqlite", "-e", ".import \(dir)/mix.bin mix", "-e", query[0], "-e",
      query[1],
    ])
    #expect(back.status == 0, "\(back.stderr)")
    #expect(back.stdout == original.stdout)
    #expect(original.stdout.contains("\"2020-01-02\""))
  }

  @Test func exportReplacesOnlyItsTableInAnExistingDatabase() throws {
    let dir = try folder()
    let path = dir + "/shop.db"
    let out = Run()
    #expect(out("a(1, x). a(2, y). b(\"keep\", 2020-05-06).\n.export a \(path)\n.export b \(path)") == .ok, "\(out.errors)")
    // A view in the database survives too.
    let db = try SQLiteConnection(path: path, writable: true)
    try db.execute("CREATE VIEW v AS SELECT c1 FROM a")
    let changed = Run()
    #expect(changed("a(3, z, \"three\").\n.export a \(path)") == .ok, "\(changed.errors)")
    let back = Run()
    #expect(back(".attach \(path)") == .ok, "\(back.errors)")
    #expect(back.tuples("a") == [[.integer(3), .symbol("z"), .symbol("three")]])
    #expect(back.tuples("b") == out.tuples("b"))
    #expect(back.tuples("b").first?.last == .date(DateCodec.parse("2020-05-06") ?? 0))
    #expect(back.tuples("v") == [[.integer(3)]])
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["shop.db"])
  }

  @Test func aFileThatIsNotADatabaseIsReplacedByOne() throws {
    let dir = try folder()
    let path = dir + "/t.db"
    try Data("just text\n".utf8).write(to: URL(fileURLWithPath: path))
    let out = Run()
    #expect(out("t(1).\n.export t \(path)") == .ok, "\(out.errors)")
    let back = Run()
    #expect(back(".attach \(path)") == .ok, "\(back.errors)")
    #expect(back.tuples("t") == [[.integer(1)]])
  }

  @Test func exportToAFolderThatCannotBeWrittenFailsAndLeavesNoFile() throws {
    let dir = try folder()
    let file = dir + "/plain"
    try Data("x".utf8).write(to: URL(fileURLWithPath: file))
    let out = Run()
    #expect(out("t(1).") == .ok)
    var targets = [dir + "/missing/t.db", file + "/t.db"]
    // Permissions stop everyone but root.
    let locked = dir + "/locked"
    if getuid() != 0 {
      try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
      chmod(locked, 0o555)
      targets.append(locked + "/t.db")
    }
    defer { chmod(locked, 0o755) }
    for target in targets {
      out.errors = []
      #expect(out(".export t \(target)") == .ioError, "\(target)")
      #expect(out.errors.first?.hasPrefix("Cannot write '\(target)'") == true, "\(out.errors)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == (getuid() != 0 ? ["locked", "plain"] : ["plain"]))
    if getuid() != 0 { #expect(try FileManager.default.contentsOfDirectory(atPath: locked).isEmpty) }
  }

  /// A database whose second table fails (a BLOB) after the first read well.
  private func halfBadDatabase(_ dir: String) throws -> String {
    let path = dir + "/half.db"
    let db = try SQLiteConnection(path: path, writable: true)
    try db.execute(
      """
      CREATE TABLE good (n INTEGER); INSERT INTO good VALUES (1), (2);
      CREATE TABLE "Bad Table" ("Some Name" TEXT, data); INSERT INTO "Bad Table" VALUES ('a', 'ok'), ('b', x'01');
      """)
    return path
  }

  @Test func aFailedAttachLeavesEveryRelationAsItWas() throws {
    let dir = try folder()
    let run = Run()
    #expect(run("good(7). orders(1, 2).") == .ok)
    let schema = run.session.schema.relations.mapValues(\.columns)
    #expect(run(".attach \(try halfBadDatabase(dir))") == .runtimeError)
    #expect(run.errors.first?.contains("table 'Bad Table', row 2, column 'data' holds a BLOB") == true, "\(run.errors)")
    #expect(run.tuples("good") == [[.integer(7)]])
    #expect(run.session.schema.relations.mapValues(\.columns) == schema)
    // The arity clash with shop.db's orders: its customers and view are not loaded either.
    run.errors = []
    #expect(run(".attach \(Fixture.root.path)/Tests/DQTests/Fixtures/sqlite/shop.db") == .staticError)
    #expect(run.errors.first?.contains("Relation 'orders' has 2 columns") == true, "\(run.errors)")
    #expect(run.session.schema.relations.mapValues(\.columns) == schema)
    #expect(run.tuples("orders") == [[.integer(1), .integer(2)]])
    #expect(run.session.database.tables["customers"] == nil)
  }

  @Test func namesAreLowerSnakeCaseAndNullIsTheEmptySymbol() throws {
    let dir = try folder()
    let path = dir + "/names.db"
    let db = try SQLiteConnection(path: path, writable: true)
    try db.execute(
      """
      CREATE TABLE "Event Log" ("Event ID" INTEGER, "eventDate" DATE, "Source-Name" TEXT, "Event_ID" TEXT);
      INSERT INTO "Event Log" VALUES (1, '2024-02-29', NULL, ''), (2, 'soon', 'x', NULL);
      """)
    let run = Run()
    #expect(run(".attach \(path)") == .ok, "\(run.errors)")
    #expect(run.columns("event_log") == ["event_id", "eventdate", "source_name", "event_id_2"])
    #expect(
      run.tuples("event_log") == [
        [.integer(1), .date(DateCodec.parse("2024-02-29") ?? 0), .symbol(""), .symbol("")],
        [.integer(2), .symbol("soon"), .symbol("x"), .symbol("")],
      ])
  }

  @Test func theMemoryLimitOrCtrlCStopsALargeTableAndLoadsNothing() throws {
    let dir = try folder()
    let path = dir + "/big.db"
    let db = try SQLiteConnection(path: path, writable: true)
    try db.execute(
      "CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT x, x * 2 AS y FROM c")
    let run = Run()
    // Other tests allocate in this process too: the budget is what is held now plus 64 KiB,
    // well under the 2.4 MB of staged values.
    run.session.options.maxMemory = Memory.held + (64 << 10)
    #expect(run(".attach \(path)") == .runtimeError)
    #expect(run.errors.first?.contains("would hold more than the memory limit") == true, "\(run.errors)")
    #expect(run.session.database.tables["big"] == nil)
    run.session.options.maxMemory = 0
    // Ctrl-C stops the read too, loading nothing.
    run.errors = []
    run.session.capture.interruption = { true }
    #expect(run(".import \(path) big") == .runtimeError)
    #expect(run.errors.first?.contains("reading table 'big' was interrupted") == true, "\(run.errors)")
    #expect(run.session.database.tables["big"] == nil)
    run.session.capture.interruption = nil
    #expect(run(".import \(path) big") == .ok, "\(run.errors)")
    #expect(run.session.database.tables["big"]?.rows.count == 300_000)
  }
}
