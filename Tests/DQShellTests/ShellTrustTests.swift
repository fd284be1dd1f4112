/// Issue #11 in the shell: history that survives crashes and concurrent shells, `.output`
/// through a temporary file, messages off stdout, usage errors instead of crashes, `.edit`.
@preconcurrency import CEditLine
import DQ
import Foundation
import Testing

@testable import DQShell

private func temporaryPath(_ name: String) -> String {
  FileManager.default.temporaryDirectory.appendingPathComponent("dq-\(name)-\(UUID().uuidString)").path
}

private func contents(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

/// Runs lines through a shell over an empty session: (stdout, stderr).
private func transcript(_ lines: [String], interactive: Bool = true, options: Session.Options = Session.Options())
  -> (out: String, err: String)
{
  let session = Session(options: options, loadDataset: false)
  let reader = ScriptedLineReader(lines, interactive: interactive)
  var out = "", err = ""
  let shell = Shell(session: session, reader: reader, write: { out += $0 }, writeError: { err += $0 })
  shell.run()
  shell.commands.finishOutput()
  return (out, err)
}

extension HistoryTests {
  @Test func entriesAreEncodedAsLibeditReadsThem() throws {
    let path = temporaryPath("history")
    defer { unlink(path) }
    let entries = ["?- p(a b).", "tab\there", "back\\slash", "multi\nline", "?- X = \"Erdoğan café\".", "ctl\u{1}x\u{7f}"]
    let file = HistoryFile(path: path, limit: 100)
    for e in entries { #expect(file.append(e) == nil) }
    #expect(contents(path)?.hasPrefix("_HiStOrY_V2_\n?-\\040p(a\\040b).\ntab\\011here\nback\\134slash\n") == true)
    // libedit itself reads the file back, entry for entry.
    clear_history()
    #expect(read_history(path) == 0)
    var read: [String] = []
    for i in 0..<history_length {
      if let entry = history_get(history_base + i), let line = entry.pointee.line { read.append(String(cString: line)) }
    }
    clear_history()
    #expect(read == entries)
  }

  @Test func twoShellsAppendingBothKeepTheirEntries() {
    let path = temporaryPath("history")
    defer { unlink(path) }
    let a = HistoryFile(path: path, limit: 100), b = HistoryFile(path: path, limit: 100)
    #expect(a.check() == .missing && b.check() == .missing)
    _ = a.append("a1")
    _ = b.append("b1")
    _ = a.append("a2")
    #expect(contents(path) == "_HiStOrY_V2_\na1\nb1\na2\n")
  }

  @Test func trimmingKeepsTheNewestEntriesOfEveryShell() {
    let path = temporaryPath("history")
    defer { unlink(path) }
    // Limit 4, trimmed once a shell has added more than 5: each trim keeps the other
    // shell's entries that are among the newest 4.
    let a = HistoryFile(path: path, limit: 4), b = HistoryFile(path: path, limit: 4)
    for i in 1...6 {
      _ = a.append("a\(i)")
      _ = b.append("b\(i)")
    }
    let lines = contents(path)?.split(separator: "\n").map(String.init) ?? []
    #expect(lines.first == "_HiStOrY_V2_")
    #expect(Array(lines.dropFirst()) == ["a5", "b5", "a6", "b6"])
    // No temporary file is left in the folder.
    let folder = (path as NSString).deletingLastPathComponent, name = (path as NSString).lastPathComponent
    #expect((try? FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".\(name).") })?.isEmpty == true)
  }

  @Test func trimmingKeepsASymbolicLink() throws {
    let real = temporaryPath("real-history"), link = temporaryPath("history-link")
    defer {
      unlink(real)
      unlink(link)
    }
    #expect(symlink(real, link) == 0)
    let file = HistoryFile(path: link, limit: 1)
    for i in 1...3 { #expect(file.append("e\(i)") == nil) }
    var st = stat()
    #expect(lstat(link, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK)
    #expect(contents(real) == "_HiStOrY_V2_\ne3\n")
  }

  @Test func aLineCutByAKillIsEndedBeforeTheNextEntry() throws {
    let path = temporaryPath("history")
    defer { unlink(path) }
    try "_HiStOrY_V2_\nwhole\nhal".write(toFile: path, atomically: false, encoding: .utf8)
    let file = HistoryFile(path: path, limit: 100)
    #expect(file.check() == .readable)
    _ = file.append("next")
    #expect(contents(path) == "_HiStOrY_V2_\nwhole\nhal\nnext\n")
  }

  @Test func aFileThatIsNotHistoryIsMovedAside() throws {
    let path = temporaryPath("history")
    defer {
      unlink(path)
      unlink(path + ".bad")
    }
    try "my notes\n".write(toFile: path, atomically: false, encoding: .utf8)
    let reader = EditLineReader(historyPath: path, completion: nil)
    var warnings: [String] = []
    reader.warn = { warnings.append($0) }
    reader.loadHistory()
    reader.addHistory("?- q(X).")
    #expect(warnings == ["the history file \(path) is not a history file; moved it to \(path).bad and started a new one"])
    #expect(contents(path + ".bad") == "my notes\n")
    #expect(contents(path) == "_HiStOrY_V2_\n?-\\040q(X).\n")
  }

  @Test func aFullDiskWarnsOnceAndTheSessionGoesOn() {
    let reader = EditLineReader(historyPath: "/dev/full", completion: nil)
    var warnings: [String] = []
    reader.warn = { warnings.append($0) }
    reader.addHistory("?- p(X).")
    reader.addHistory("?- q(X).")
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains("No space left on device") == true)
    #expect(reader.history.suffix(2) == ["?- p(X).", "?- q(X)."])
  }
}

@Suite struct ShellMessageTests {
  @Test func clearConfirmsOnStandardErrorOnly() {
    let t = transcript([".format csv", "p(1).", ".clear", "?- X = 1."])
    #expect(t.out == "X\r\n1\r\n\n")
    #expect(t.err.contains("Cleared"))
  }

  @Test func badHistoryArgumentsAreUsageErrors() {
    for arg in ["-3", "x", "-0x1"] {
      let t = transcript(["?- X = 1.", ".history \(arg)"])
      #expect(t.err.contains("'.history' takes a number of entries (0 or more), not '\(arg)'"))
    }
    let t = transcript([".format tsv", "?- X = 1.", ".history 2", ".history 0"])
    #expect(t.out.hasSuffix("    2  ?- X = 1.\n    3  .history 2\n\n"))
  }

  @Test func timingShowsTheTimeOfAStoppedQuery() throws {
    var options = Session.Options()
    options.timeout = 0.3
    let t = transcript([".timing on", "n(0). n(Y) :- n(X), Y = X + 1.", "?- n(-1)."], options: options)
    #expect(t.err.contains("time limit"))
    let evaluate = t.err.split(separator: "evaluate ").last?.split(separator: " ").first.flatMap { Double($0) }
    #expect((evaluate ?? 0) >= 250, Comment(rawValue: t.err))
  }
}

@Suite struct OutputFileTests {
  @Test func theOldFileStaysUntilTheOutputIsComplete() throws {
    let path = temporaryPath("output")
    defer { unlink(path) }
    try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
    let session = Session(loadDataset: false)
    var screen = ""
    let commands = Commands(session: session, write: { screen += $0 }, writeError: { screen += $0 })
    commands.attach()
    #expect(session.run(SourceFile(name: "s.dq", text: ".format tsv\n.output \(path)\n?- X = 1.\n")) == .ok)
    #expect(contents(path) == "old\n")
    #expect(commands.finishOutput() == nil)
    #expect(contents(path) == "X\n1\n")
  }

  @Test func theShellsOwnNewlineAtCtrlDStaysOnTheScreen() throws {
    let path = temporaryPath("output")
    defer { unlink(path) }
    let t = transcript([".format tsv", ".output \(path)", "?- X = 1."])
    #expect(contents(path) == "X\n1\n")
    #expect(t.out == "\n")
  }

  @Test func aFailedEntryAddsNothingToTheOutputFile() throws {
    let path = temporaryPath("output")
    defer { unlink(path) }
    let t = transcript([".format tsv", ".output \(path)", "?- X = 2. ?- X = 1 / 0.", "?- X = 1.", "?- X = 4. ?- X = 1 / 0.", "?- X = 3."])
    #expect(t.err.contains("Division by zero"))
    #expect(contents(path) == "X\n1\n\nX\n3\n")
  }

  @Test func anAbandonedOutputLeavesTheOldFile() throws {
    let path = temporaryPath("output")
    defer { unlink(path) }
    try "old\n".write(toFile: path, atomically: false, encoding: .utf8)
    let session = Session(loadDataset: false)
    let commands = Commands(session: session, write: { _ in }, writeError: { _ in })
    commands.attach()
    _ = session.run(SourceFile(name: "s.dq", text: ".output \(path)\n?- X = 1.\n?- X = 1 / 0.\n"))
    commands.finishOutput(keep: false)
    #expect(contents(path) == "old\n")
  }

  @Test func aFailedWriteSaysSoAndAnswersComeBackToTheScreen() {
    let t = transcript([".format tsv", ".output /dev/full", "?- X = 1.", "?- X = 2."])
    #expect(t.err.contains("dq: error: cannot write to '/dev/full': No space left on device"))
    #expect(t.out == "X\n2\n\n")
  }
}

/// `VISUAL` is one per process and suites run in parallel: tests that set it hold this lock.
let editorVariableLock = NSLock()

/// `.edit` edits the entry before it, once, and needs a terminal.
@Suite(.serialized) struct EditTrustTests {
  /// Runs the lines with `VISUAL` set to a shell script `body`; returns stdout+stderr and the
  /// number of times the editor ran.
  func run(editor body: String, _ lines: [String], interactive: Bool = true) throws -> (out: String, runs: Int) {
    let script = temporaryPath("editor") + ".sh"
    let counter = temporaryPath("count")
    defer {
      unlink(script)
      unlink(counter)
    }
    try "#!/bin/sh\necho run >> '\(counter)'\n\(body)\n".write(toFile: script, atomically: true, encoding: .utf8)
    chmod(script, 0o755)
    editorVariableLock.lock()
    setenv("VISUAL", script, 1)
    defer {
      unsetenv("VISUAL")
      editorVariableLock.unlock()
    }
    let session = Session(loadDataset: false)
    let reader = ScriptedLineReader(lines, interactive: interactive)
    var out = ""
    let shell = Shell(session: session, reader: reader, write: { out += $0 }, writeError: { out += $0 })
    shell.run()
    let runs = contents(counter)?.split(separator: "\n").count ?? 0
    return (out, runs)
  }

  @Test func anUnchangedEditReRunsThePreviousEntryOnce() throws {
    let t = try run(editor: "true", [".format tsv", "?- X = 5.", ".edit"])
    #expect(t.runs == 1)
    #expect(t.out == "X\n5\n\nX\n5\n\n")
  }

  @Test func editedTextCannotOpenTheEditorAgain() throws {
    let t = try run(editor: "printf '.edit\\n' > \"$1\"", [".format tsv", "?- X = 5.", ".edit"])
    #expect(t.runs == 1)
    #expect(t.out.contains("'.edit' cannot be run from the text being edited"))
  }

  @Test func withoutATerminalEditIsAnError() throws {
    let t = try run(editor: "true", ["?- X = 5.", ".edit"], interactive: false)
    #expect(t.runs == 0)
    #expect(t.out.contains("'.edit' needs an interactive session"))
  }
}
