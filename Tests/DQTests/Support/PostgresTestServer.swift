/// The PostgreSQL server the `--engine postgres` tests use: the one `Scripts/test` started
/// (DQ_TEST_PGHOST, DQ_TEST_PGPORT), or else one started here with the same script
/// (Scripts/postgres-test-server) in a temporary folder, stopped when the test process exits.
/// Never skipped: when no server can be had, the tests that need one fail, saying why.
import Foundation

@testable import DQ

enum PostgresTestServer {
  /// The libpq connection string of the server, or why there is none.
  static let conninfo: Result<String, ServerProblem> = start()

  struct ServerProblem: Error, CustomStringConvertible {
    let description: String
  }

  /// The engine choice for the test server (the failure's message when it could not start).
  static func engine() throws -> EngineChoice {
    .postgres(conninfo: try conninfo.get(), schema: nil)
  }

  /// The engine for the golden fixtures: its search_path is a schema that does not exist, so
  /// the tables and views other tests create in `public` meanwhile are not the fixtures'
  /// relations (`.relations` and `.schema` list a server's tables; dq's own tables live in
  /// `pg_temp`, which is always searched).
  static func fixtureEngine() throws -> EngineChoice {
    .postgres(conninfo: try conninfo.get() + " options='-c search_path=dq_fixtures_see_no_tables'", schema: nil)
  }

  nonisolated(unsafe) private static var startedDirectory: String?

  private static func start() -> Result<String, ServerProblem> {
    let env = ProcessInfo.processInfo.environment
    if let host = env["DQ_TEST_PGHOST"], let port = env["DQ_TEST_PGPORT"] {
      return .success("host=\(host) port=\(port) user=postgres dbname=postgres connect_timeout=10")
    }
    let script = Fixture.root.appendingPathComponent("Scripts/postgres-test-server").path
    // Started with system(), its output sent to a file: the server it starts inherits the test
    // process's descriptors, so neither a pipe's end nor Foundation's wait for a Process (which
    // watches a descriptor the child holds) would ever come.
    let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("dq-pg-env-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: outPath) }
    let status = system("'\(script)' start > '\(outPath)'")
    guard status == 0 else {
      return .failure(ServerProblem(description: "\(script) start failed (status \(status))"))
    }
    let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    var values: [String: String] = [:]
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
      let kv = word.split(separator: "=", maxSplits: 1)
      if kv.count == 2 { values[String(kv[0])] = String(kv[1]) }
    }
    guard let host = values["DQ_TEST_PGHOST"], let port = values["DQ_TEST_PGPORT"] else {
      return .failure(ServerProblem(description: "\(script) printed no server: \(text)"))
    }
    startedDirectory = host
    atexit {
      guard let dir = PostgresTestServer.startedDirectory else { return }
      let script = Fixture.root.appendingPathComponent("Scripts/postgres-test-server").path
      _ = system("'\(script)' stop '\(dir)' > /dev/null 2>&1")
    }
    return .success("host=\(host) port=\(port) user=postgres dbname=postgres connect_timeout=10")
  }
}
