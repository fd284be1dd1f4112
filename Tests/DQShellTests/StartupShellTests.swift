/// The shell at start-up: the start-up file runs in the shell (its commands included), `-i`'s
/// files run before the prompt, and the file commands say what they did.
import Foundation
import DQ
import Testing

@testable import DQShell

@Suite struct StartupShellTests {
  /// A shell over an empty session reading `lines`, with what it wrote.
  final class Run {
    let shell: Shell
    private let out = Box(), err = Box()
    var answers: String { out.text }
    var messages: String { err.text }

    init(_ lines: [String]) {
      shell = Shell(
        session: Session(loadDataset: false), reader: ScriptedLineReader(lines), write: { [out] in out.text += $0 },
        writeError: { [err] in err.text += $0 })
    }
  }

  final class Box { var text = "" }

  func file(_ text: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dq-rc-\(UUID().uuidString)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
  }

  @Test func theStartupFileRunsShellCommandsAndGoesOnAfterErrors() throws {
    let rc = try file(".timing on\n.nosuch\n.format tsv\n")
    let run = Run([])
    #expect(run.shell.runStartupFile(rc, named: true))
    #expect(run.shell.commands.timing)
    #expect(run.shell.session.options.format == .tsv)
    #expect(run.messages.contains("\(rc):2:1: error: Unknown command '.nosuch'"))
  }

  @Test func quitInTheStartupFileEndsDq() throws {
    let rc = try file(".quit\n.format tsv\n")
    let run = Run([])
    #expect(!run.shell.runStartupFile(rc, named: true))
    #expect(run.shell.session.options.format == .table)
  }

  @Test func aMissingStartupFileIsAWarningOnlyWhenNamed() {
    let quiet = Run([])
    #expect(quiet.shell.runStartupFile("/nonexistent/.dqrc", named: false))
    #expect(quiet.messages == "")
    let named = Run([])
    #expect(named.shell.runStartupFile("/nonexistent/rc", named: true))
    #expect(named.messages.hasPrefix("dq: warning: cannot read start-up file '/nonexistent/rc'"))
  }

  @Test func filesGivenWithDashIAreLoadedFilesTheShellCanReload() throws {
    let path = try file("p(1).\n")
    let run = Run([".format tsv", ".reload", "?- p(X).", ".rules", ".unload \(path)", ".reload"])
    #expect(run.shell.runInput(name: path, text: .success("p(1).\n")))
    try "p(2).\n".write(toFile: path, atomically: true, encoding: .utf8)
    run.shell.run()
    // (The shell ends with a newline after the end of input.)
    #expect(run.answers == "X\n2\n\n")
    #expect(run.messages.contains("Reloaded \(path)."))
    #expect(run.messages.contains("No rules of this session's own"))
    #expect(run.messages.contains("Unloaded \(path)."))
    #expect(run.messages.contains("No file is loaded"))
  }
}
