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

  nonisolated(unsafe) private static var startedDirectory: String?

  private static func start() -> Result<String, ServerProblem> {
    let env = ProcessInfo.processInfo.environment
    if let host = env["DQ_TEST_PGHOST"], let port = env["DQ_TEST_PGPORT"] {
      return .success("host=\(host) port=\(port) user=postgres dbname=postgres connect_timeout=10")
    }
    let script = Fixture.root.appendingPathComponent("Scripts/postgres-test-server").path
    let p = Process()
    p.executableURL = URL(fileURLWithPath: script)
    p.arguments = ["start"]
    let out = Pipe()
    p.standardOutput = out
    do { try p.run() } catch { return .failure(ServerProblem(description: "cannot run \(script): \(error)")) }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else {
      return .failure(ServerProblem(description: "\(script) start failed (status \(p.terminationStatus))"))
    }
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
      let stop = Process()
      stop.executableURL = URL(fileURLWithPath: Fixture.root.appendingPathComponent("Scripts/postgres-test-server").path)
      stop.arguments = ["stop", dir]
      try? stop.run()
      stop.waitUntilExit()
    }
    return .success("host=\(host) port=\(port) user=postgres dbname=postgres connect_timeout=10")
  }
}
