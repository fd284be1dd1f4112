/// The shape of the SQL the PostgreSQL engine generates (no server needed): typed columns where
/// a column holds one kind, `dqv` where it mixes kinds, one `WITH RECURSIVE` for a linear
/// recursion, semi-naive rounds otherwise, aggregates as `GROUP BY`. The answers themselves are
/// checked against a server by the golden fixtures and PostgresEngineTests.
import Foundation
import Testing

@testable import DQ

@Suite struct SQLGenerationTests {
  /// The `dq --sql` script of a program.
  static func script(_ program: String) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("dq-sqlgen-\(getpid())-\(UUID().uuidString).dq")
    try program.write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }
    let run = try DQBinary.run(["--no-dataset", "--sql", file.path])
    #expect(run.status == 0, "\(run.stderr)")
    return run.stdout
  }

  @Test("Columns of one kind get its SQL type; a column mixing kinds keeps dqv")
  func typedColumns() throws {
    let sql = try Self.script(
      """
      e(1, a). e(2, b). m(1). m(x). d(2024-01-02, 1.5).
      ?- e(X, Y), m(X), d(D, F).
      """)
    #expect(sql.contains(#"CREATE TABLE pg_temp."e" (c0 bigint, c1 text COLLATE "C")"#), "\(sql)")
    #expect(sql.contains(#"CREATE TABLE pg_temp."m" (c0 pg_temp.dqv)"#), "\(sql)")
    #expect(sql.contains(#"CREATE TABLE pg_temp."d" (c0 bigint, c1 float8)"#), "\(sql)")
  }

  @Test("Kinds flow through rules: arithmetic on integers stays integer, a head fed two kinds is mixed")
  func inferredKinds() {
    let arity = ["n": 1, "h": 1, "k": 2]
    let n = AtomAccess(relation: "n", arity: 1, bindColumns: [0], bindSlots: [0])
    let double = RulePlan(
      steps: [.scan(n, .everyRow), .assign(1, .expression(.binary(.multiply, .slot(0), .constant(.integer(2)), .none)))],
      projection: [.slot(0), .slot(1)], headName: "k", slotNames: ["X", "Y"])
    let fromN = RulePlan(steps: [.scan(n, .everyRow)], projection: [.slot(0)], headName: "h", slotNames: ["X"])
    let symbol = RulePlan(steps: [], projection: [.constant(.symbol("s"))], headName: "h", slotNames: [])
    let plans = [
      StratumPlan(relations: ["k"], recursive: false, firstRound: [double], deltaVersions: []),
      StratumPlan(relations: ["h"], recursive: false, firstRound: [fromN, symbol], deltaVersions: []),
    ]
    let kinds = SQLKind.infer(plans, arity: arity, initial: ["n": [.integer]])
    #expect(kinds["k"] == [.integer, .integer])
    #expect(kinds["h"] == [.mixed])
    // With no facts for n, nothing reaches k: its columns hold no value at all.
    #expect(SQLKind.infer(plans, arity: arity, initial: [:])["k"] == [SQLKind.none, .none])
  }

  @Test("A linear recursion is one WITH RECURSIVE; a non-linear one runs in semi-naive rounds")
  func recursion() throws {
    let linear = try Self.script(
      """
      e(1, 2). e(2, 3).
      p(X, Y) :- e(X, Y).
      p(X, Z) :- p(X, Y), e(Y, Z).
      ?- p(1, X).
      """)
    #expect(linear.contains("WITH RECURSIVE"), "\(linear)")
    #expect(!linear.contains("WHILE added > 0"), "\(linear)")
    let doubled = try Self.script(
      """
      e(1, 2). e(2, 3).
      p(X, Y) :- e(X, Y).
      p(X, Z) :- p(X, Y), p(Y, Z).
      ?- p(1, X).
      """)
    #expect(!doubled.contains("WITH RECURSIVE"), "\(doubled)")
    #expect(doubled.contains("WHILE added > 0"), "\(doubled)")
  }

  @Test("A grouped aggregate is one GROUP BY joined to its groups, not a subquery per group")
  func groupedAggregate() throws {
    let sql = try Self.script(
      """
      g(a). g(b). v(a, 1).
      c(G, N) :- g(G), N = count : { v(G, X) }.
      ?- c(G, N).
      """)
    #expect(sql.contains("GROUP BY"), "\(sql)")
    #expect(sql.contains("LEFT JOIN"), "\(sql)")
  }
}
