/// The real `dq` binary at start-up: `-i` (files, then the shell), `-c`, the start-up file
/// (`~/.dqrc`, `DQRC`, `--no-rc`, `--rc`) and executable scripts with a `#!` line.
import Foundation
import Testing

@Suite struct StartupCommandLineTests {
  /// A fresh HOME holding `.dqrc` with `rc` (none when nil), and its path.
  private func home(rc: String?) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dq-home-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    if let rc { try Data(rc.utf8).write(to: URL(fileURLWithPath: dir + "/.dqrc")) }
    return dir
  }

  // MARK: - -i and -c

  @Test func interactiveRunsTheFilesThenReadsStandardInputAsTheShell() throws {
    let file = try DQBinary.temporaryFile("edge(1, 2).\npath(X, Y) :- edge(X, Y).\n")
    defer { try? FileManager.default.removeItem(atPath: file) }
    let h = try home(rc: nil)
    // As the shell does: an error does not end the session; the entries see the file's state.
    let r = try DQBinary.run(
      ["--no-dataset", "-f", "tsv", "-i", file], stdin: "?- path(1, X).\n?- p(X Y).\nedge(2, 3).\n?- path(X, 3).\n",
      environment: ["HOME": h])
    #expect(r.status == 0)
    #expect(r.stdout == "X\n2\n\nX\n2\n")
    #expect(r.stderr.contains("<stdin>:2:8: error:"))
  }

  @Test func interactiveGoesOnAfterAFileThatFails() throws {
    let bad = try DQBinary.temporaryFile("p(1.\n")
    let good = try DQBinary.temporaryFile("q(1).\n")
    let h = try home(rc: nil)
    let r = try DQBinary.run(
      ["--no-dataset", "-f", "tsv", "--interactive", bad, "/nonexistent/x.dq", good], stdin: "?- q(X).\n",
      environment: ["HOME": h])
    #expect(r.status == 0)
    #expect(r.stdout == "X\n1\n")
    #expect(r.stderr.contains("\(bad):1:4: error:"))
    #expect(r.stderr.contains("dq: error: cannot read '/nonexistent/x.dq'"))
  }

  @Test func interactiveRefusesInspectionOptions() throws {
    let r = try DQBinary.run(["-i", "--list"])
    #expect(r.status == 64)
  }

  @Test func commandIsAnAliasOfEval() throws {
    let c = try DQBinary.run(["--no-dataset", "-f", "tsv", "-c", "?- X = 1.", "--command", "?- Y = 2."])
    #expect(c.status == 0)
    #expect(c.stdout == "X\n1\n\nY\n2\n")
  }

  // MARK: - The start-up file

  @Test func startupFileRunsBeforeTheShellAndItsErrorsDoNotStopIt() throws {
    let h = try home(rc: "% settings\n.frobnicate\n.format tsv\np(1. \nstarted(yes).\n")
    let r = try DQBinary.run(["--no-dataset", "-i"], stdin: "?- started(X).\n", environment: ["HOME": h])
    #expect(r.status == 0)
    #expect(r.stdout == "X\nyes\n")
    // Each error with the file's line and column; the statements after it still ran.
    #expect(r.stderr.contains("\(h)/.dqrc:2:1: error: Unknown command '.frobnicate'"))
    #expect(r.stderr.contains("\(h)/.dqrc:4:"))
  }

  @Test func dqrcOverridesTheFileAndNoRcSkipsIt() throws {
    let h = try home(rc: ".format csv\n")
    let other = try DQBinary.temporaryFile(".format tsv\n")
    let env = ["HOME": h, "DQRC": other]
    let named = try DQBinary.run(["--no-dataset", "-i"], stdin: "?- X = 1.\n", environment: env)
    #expect(named.stdout == "X\n1\n")
    let skipped = try DQBinary.run(["--no-dataset", "-i", "--no-rc"], stdin: "?- X = 1.\n", environment: env)
    #expect(skipped.stdout.hasPrefix("┌───┐"))
    let home = try DQBinary.run(["--no-dataset", "-i"], stdin: "?- X = 1.\n", environment: ["HOME": h])
    #expect(home.stdout == "X\r\n1\r\n")
    // DQRC set but empty: no start-up file.
    let none = try DQBinary.run(["--no-dataset", "-i"], stdin: "?- X = 1.\n", environment: ["HOME": h, "DQRC": ""])
    #expect(none.stdout.hasPrefix("┌───┐"))
    let missing = try DQBinary.run(
      ["--no-dataset", "-i"], stdin: "?- X = 1.\n", environment: ["HOME": h, "DQRC": "/nonexistent/rc"])
    #expect(missing.status == 0)
    #expect(missing.stderr.contains("dq: warning: cannot read start-up file '/nonexistent/rc'"))
  }

  @Test func scriptsRunTheStartupFileOnlyWithRc() throws {
    let h = try home(rc: ".format tsv\n")
    let script = try DQBinary.run(["--no-dataset", "-e", "?- X = 1."], environment: ["HOME": h])
    #expect(script.stdout.hasPrefix("┌───┐"))
    let piped = try DQBinary.run(["--no-dataset"], stdin: "?- X = 1.\n", environment: ["HOME": h])
    #expect(piped.stdout.hasPrefix("┌───┐"))
    let forced = try DQBinary.run(["--no-dataset", "--rc", "-e", "?- X = 1."], environment: ["HOME": h])
    #expect(forced.stdout == "X\n1\n")
  }

  // MARK: - #!

  @Test func anExecutableScriptRunsDirectly() throws {
    guard let binary = DQBinary.path else { throw DQBinary.Failure(description: "dq binary not found") }
    let path = try DQBinary.temporaryFile("#!/usr/bin/env dq\n.format tsv\n?- X = 1 + 1.\n?- Y = 1 / 0.\n")
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(chmod(path, 0o755) == 0)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    var env = ProcessInfo.processInfo.environment
    env["PATH"] = URL(fileURLWithPath: binary).deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
    env["NO_COLOR"] = "1"
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(stdout == "X\n2\n")
    // The #! line counts: the division is on line 4 of the file.
    #expect(stderr.hasPrefix("\(path):4:"))
    #expect(process.terminationStatus == 70)
  }
}
