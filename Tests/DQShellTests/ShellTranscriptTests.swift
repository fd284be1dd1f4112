/// Drives the shell with a scripted line reader and compares transcripts.
import Foundation
import DQ
import Testing

@testable import DQShell

@Suite struct ShellTranscriptTests {
  /// Runs the lines through a shell over an empty session; returns (stdout, stderr, prompts).
  func transcript(_ lines: [String], dataset: Bool = false) -> (out: String, err: String, prompts: [String], history: [String]) {
    let session = Session(loadDataset: dataset)
    let reader = ScriptedLineReader(lines)
    var out = "", err = ""
    let shell = Shell(session: session, reader: reader, write: { out += $0 }, writeError: { err += $0 })
    shell.run()
    // The shell ends an interactive session with a newline after Ctrl-D.
    if out.hasSuffix("\n") { out.removeLast() }
    return (out, err, reader.prompts, reader.history)
  }

  @Test func multiLineClauseUsesContinuationPrompt() {
    let t = transcript(["e(1, 2).", "?- e(X,", "  Y).", ".format tsv", "?- e(X, Y)."])
    #expect(t.prompts == ["dq> ", "dq> ", "...> ", "dq> ", "dq> ", "dq> "])
    #expect(t.history == ["e(1, 2).", "?- e(X,   Y).", ".format tsv", "?- e(X, Y)."])
    #expect(t.out.hasSuffix("X\tY\n1\t2\n"))
  }

  @Test func errorsDoNotEndTheSession() {
    let t = transcript(["?- p(X Y).", "p(1).", ".format tsv", "?- p(X)."])
    #expect(t.err.contains("error"))
    #expect(t.out.hasSuffix("X\n1\n"))
  }

  @Test func periodInsideStringDateOrDecimalDoesNotEndClause() {
    let t = transcript([".format tsv", "v(\"a.b\", 2016-08-09, 3.25", ").", "?- v(A, B, C)."])
    #expect(t.out == "A\tB\tC\na.b\t2016-08-09\t3.25\n")
  }

  @Test func quitStops() {
    let t = transcript([".format tsv", ".quit", "?- 1 = 1."])
    #expect(t.out == "")
  }

  @Test func unknownCommandIsAnErrorWithHint() {
    let t = transcript([".frobnicate"])
    #expect(t.err.contains("Unknown command '.frobnicate'"))
  }

  @Test func prefixesSelectCommands() {
    let t = transcript(["p(a).", ".rel"])
    #expect(t.out.contains("│ p "))
  }

  @Test func retractAndClear() {
    let t = transcript([".format tsv", "p(a). p(b).", ".retract p(a).", "?- p(X).", ".clear", "?- p(X)."])
    #expect(t.out.contains("X\nb\n"))
    #expect(t.out.hasSuffix("X\n"))
  }

  @Test("At the prompt a computed closure is readied for edits, and `.memory` counts it after them")
  func closureIsReadiedForEditsAtThePrompt() {
    let t = transcript([
      ".format tsv", "e(1, 2). e(2, 3).", "p(X, Y) :- e(X, Y).", "p(X, Z) :- p(X, Y), e(Y, Z).",
      "?- p(1, X).", ".memory p", "e(3, 4).", ".memory p", ".retract e(1, 2).", ".memory p", "?- p(X, 4).",
    ])
    // Kept after the query: the deduplication table and p by its second column, which an
    // inserted e(Y, Z) is joined with (renumbered in place by the retraction, not rebuilt);
    // each `.memory` counts p as the edits left it.
    let rows = t.out.split(separator: "\n").filter { $0.hasPrefix("p\t") }.map { $0.split(separator: "\t") }
    #expect(rows.map { String($0[2]) } == ["3", "6", "3"], "\(t.out)")
    #expect(rows.allSatisfy { $0[5].split(separator: " ").contains("(c2)") }, "\(t.out)")
    #expect(t.out.hasSuffix("X\n2\n3\n"), "\(t.out)")
    #expect(t.err == "")
  }

  @Test func completionKnowsRelationsConstantsAndVariables() {
    let session = Session(loadDataset: false)
    _ = session.run(SourceFile(name: "t", text: "met(erdogan, putin). met(abe, putin). met(erdogan, may)."))
    let c = Completer(session: session)
    #expect(c.completions(line: "me", word: "me") == .words(["met("]))
    #expect(c.completions(line: "?- met(erdogan, ", word: "") == .words(["may", "putin"]))
    #expect(c.completions(line: "?- met(X, Y), met(Y, ", word: "") == .words(["may", "putin", "X", "Y"]))
    #expect(c.completions(line: "?- met(abe, ", word: "") == .words(["putin"]))
    #expect(c.completions(line: "?- met(X, putin), met(\"abe\", ", word: "") == .words(["putin", "X"]))
    #expect(c.describe("met(") == "met(c1, c2)")
    #expect(c.completions(line: ".hel", word: ".hel") == .words([".help"]))
    #expect(c.completions(line: ".he", word: ".he") == .words([".headers", ".help"]))
    #expect(c.completions(line: ".headers o", word: "o") == .words(["on", "off"]))
    #expect(c.completions(line: ".format j", word: "j") == .words(["json", "jsonl"]))
    #expect(c.completions(line: "?", word: "?") == .words(["?-"]))
    if case .words(let start) = c.completions(line: "", word: "") {
      #expect(start.first == "?-" && start.contains("met(") && start.contains(".help"))
    }
    #expect(c.completions(line: "?- met(X, Y), no", word: "no") == .words(["not"]))
    #expect(c.completions(line: ".load Ex", word: "Ex") == .fileNames)
  }

  @Test func theShellShowsAScreenfulOfRows() {
    let facts = (1...100).map { "n(\($0))." }.joined(separator: " ")
    let t = transcript([facts, "?- n(X)."])
    let tail = "│ 40 │\n└────┘\n… 60 more rows (use .maxrows 0 or .output FILE)\n100 rows\n"
    #expect(t.out.contains(tail), "\(t.out)")
    #expect(!t.out.contains("│ 41 │"))
    let all = transcript([facts, ".maxrows 0", "?- n(X)."])
    #expect(all.out.contains("│ 100 │") && !all.out.contains("more rows"))
    // The formats for programs always print every row.
    let tsv = transcript([facts, ".format tsv", "?- n(X)."])
    #expect(tsv.out.hasSuffix("99\n100\n"))
  }

  @Test func settingsShowTheirValueWithoutAnArgument() {
    let t = transcript([
      ".format", ".headers", ".timing", ".maxrows", ".width", ".format csv", ".headers off", ".maxrows 5", ".width 60",
      ".format", ".headers", ".maxrows", ".width", ".width auto", ".width",
    ])
    let lines = t.out.split(separator: "\n", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    #expect(lines == ["table", "on", "off", "40", "auto (no limit here)", "csv", "off", "5", "60", "auto (no limit here)"], "\(t.out)")
  }

  @Test func showListsEverySetting() {
    let t = transcript([".headers off", ".timing on", ".show"])
    for expected in ["format: table", "headers: off", "width: auto", "maxrows: 40", "timing: on", "output: stdout", "limit tuples:"] {
      #expect(t.out.contains(expected), "\(expected) in \(t.out)")
    }
  }

  @Test func headersOffInTheShell() {
    let t = transcript(["p(1).", ".format tsv", ".headers off", "?- p(X).", ".headers on", "?- p(X)."])
    #expect(t.out == "1\n\nX\n1\n")
  }

  @Test func onceSendsOnlyTheNextAnswerToAFile() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dq-once-\(UUID().uuidString).txt").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let facts = (1...50).map { "n(\($0))." }.joined(separator: " ")
    let t = transcript([facts, ".once \(path)", "?- n(X).", "?- n(1)."])
    let file = try String(contentsOfFile: path, encoding: .utf8)
    // The file gets every row (no .maxrows), the screen the next answer.
    #expect(file.contains("│ 50 │") && file.hasSuffix("50 rows\n") && !file.contains("more rows"), "\(file)")
    #expect(t.out == "true\n", "\(t.out)")
    let missing = transcript([".once"])
    #expect(missing.err.contains("'.once' needs a file name"))
  }

  @Test func jsonAtThePromptIsOneDocumentPerEntry() throws {
    let t = transcript(["p(1).", ".format json", "?- p(X). ?- p(2).", "?- p(1)."])
    let entries = t.out.components(separatedBy: "\n\n")
    #expect(entries.count == 2, "\(t.out)")
    for e in entries { #expect((try? JSONSerialization.jsonObject(with: Data(e.utf8))) != nil, "\(e)") }
    #expect((try JSONSerialization.jsonObject(with: Data(entries[0].utf8)) as? [Any])?.count == 2)
  }
}

/// `.edit` opens $EDITOR on the last entry and runs what comes back.
@Suite(.serialized) struct EditCommandTests {
  @Test func editRunsTheEditedClause() throws {
    let script = FileManager.default.temporaryDirectory.appendingPathComponent("dq-editor-\(UUID().uuidString).sh")
    defer { try? FileManager.default.removeItem(at: script) }
    // An "editor" that replaces the query with another one.
    try "#!/bin/sh\nprintf '?- p(X), X > 1.\\n' > \"$1\"\n".write(to: script, atomically: true, encoding: .utf8)
    chmod(script.path, 0o755)
    editorVariableLock.lock()
    setenv("VISUAL", script.path, 1)
    defer {
      unsetenv("VISUAL")
      editorVariableLock.unlock()
    }
    let session = Session(loadDataset: false)
    let reader = ScriptedLineReader([".format tsv", "p(1). p(2).", "?- p(X).", ".edit"])
    var out = ""
    let shell = Shell(session: session, reader: reader, write: { out += $0 }, writeError: { out += $0 })
    shell.run()
    #expect(out.contains("X\n1\n2\n\nX\n2\n"))
  }
}

/// History that cannot be written gives one warning, never a crash; duplicates and entries
/// starting with a space are not stored.
@Suite(.serialized) struct HistoryTests {
  @Test func unwritableHistoryWarnsOnce() {
    let reader = EditLineReader(historyPath: "/nonexistent-dir/dq_history", completion: nil)
    var warnings: [String] = []
    reader.warn = { warnings.append($0) }
    reader.addHistory("?- p(X).")
    reader.addHistory("?- q(X).")
    #expect(warnings.count == 1)
    #expect(warnings.first?.contains("cannot write the history file") == true)
  }

  @Test func duplicatesAndSpaceLinesAreNotStored() {
    let reader = EditLineReader(historyPath: nil, completion: nil)
    reader.addHistory("?- p(X).")
    reader.addHistory("?- p(X).")
    reader.addHistory(" ?- secret(X).")
    reader.addHistory("?- q(X).")
    #expect(reader.history.suffix(2) == ["?- p(X).", "?- q(X)."])
  }
}

/// `.output FILE` sends answers to the file, in scripts as in the shell.
@Suite struct OutputCommandTests {
  @Test func outputRedirectsAnswersInAScript() throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("dq-output-\(UUID().uuidString).tsv").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let session = Session(loadDataset: false)
    var screen = ""
    let commands = Commands(session: session, write: { screen += $0 }, writeError: { screen += $0 })
    commands.attach()
    let status = session.run(
      SourceFile(name: "s.dq", text: "p(1).\n.format tsv\n.output \(path)\n?- p(X).\n.output stdout\n?- p(2).\n"))
    #expect(status == .ok)
    #expect(screen == "false\n")
    let file = try String(contentsOfFile: path, encoding: .utf8)
    #expect(file == "X\n1\n")
  }
}
