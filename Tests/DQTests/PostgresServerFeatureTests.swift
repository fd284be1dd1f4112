/// `--engine postgres` against a real server (see `PostgresTestServer`), beyond answering
/// queries: Ctrl-C during a server query (in the session, in a real terminal, in a script),
/// the server going away during a query, server tables in `.relations` and `--sql`, and a
/// program over more data than `--memory` lets the native engine hold.
import Foundation
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
      process.executableURL = URL(fileURLWithPath: dq)
      process.arguments =
        ["--no-dataset", "--engine", engine] + (engine == "postgres" ? ["--db", conninfo + " application_name=\(application)"] : []) + [file.path]
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      if engine == "postgres" {
        #expect(try Self.eventually(20) { try Self.active(conninfo, application: application) == "1" })
      } else {
        usleep(1_000_000)
      }
      process.interrupt()
      process.waitUntilExit()
      #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT, "\(engine): \(process.terminationReason) \(process.terminationStatus)")
    }
    // The server notices that dq is gone (client_connection_check_interval) and stops.
    #expect(try Self.eventually(10) { try Self.active(conninfo, application: application) == "0" })
  }
}
