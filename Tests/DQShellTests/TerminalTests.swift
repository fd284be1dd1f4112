/// Runs the real `dq` binary in a pseudo-terminal (Tests/Terminal/repl_pty.py drives it):
/// Tab completion, Ctrl-C during a query, Ctrl-D, terminal restored, history across sessions
/// (repl_pty.py); no lost input, output or history (repl_trust.py); output fitted to the
/// terminal (repl_output.py); habits (repl_habits.py); start-up with a ~/.dqrc and reloading a
/// file (startup_pty.py).
import Foundation
import Testing

@Suite struct TerminalTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The dq binary built next to the test bundle (`swift build` then `swift test`).
  static func binary() -> URL? {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("dq")
    let candidates = [beside, root.appendingPathComponent(".build/debug/dq")]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
  }

  @Test func replInARealTerminal() throws {
    try runScript("repl_pty.py")
  }

  /// Issue #11: no locale, Ctrl-C while printing, two shells sharing a history file, a history
  /// file that is not history, `.edit`.
  @Test func replLosesNothing() throws {
    try runScript("repl_trust.py")
  }

  /// Issue #13: tables fitted to the terminal's width, `.maxrows`, `.format line`.
  @Test func outputFitsTheTerminal() throws {
    try runScript("repl_output.py")
  }

  /// Issue #13: `.shell` on dq's terminal, `halt.` saying how to quit, psql's `\q`.
  @Test func habitsInARealTerminal() throws {
    try runScript("repl_habits.py")
  }

  /// Issue #13: `dq -i FILE` with a fresh HOME and a ~/.dqrc; `.reload`, `.rules`, `.unload`.
  @Test func startUpInARealTerminal() throws {
    try runScript("startup_pty.py")
  }

  func runScript(_ name: String) throws {
    let dq = try #require(Self.binary(), "build the dq binary first (swift build --product dq)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    // A script that hangs (a dq that never exits) is stopped after two minutes, not waited on.
    process.arguments = [
      "timeout", "-k", "5", "120", "python3", Self.root.appendingPathComponent("Tests/Terminal/\(name)").path, dq.path,
    ]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, Comment(rawValue: output))
  }
}
