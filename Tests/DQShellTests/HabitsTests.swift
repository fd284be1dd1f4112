/// Habits from sqlite3, psql and SWI-Prolog in the shell (aliases, did-you-mean, `halt.`,
/// foreign spellings, `.shell`) and pictures (`.graph`, `.why --graph`, rendering with `dot`).
import Foundation
import DQ
import Testing

@testable import DQShell

@Suite struct HabitsTests {
  /// Runs the lines through a shell; returns (stdout, stderr).
  func transcript(_ lines: [String], dataset: Bool = false, dot: Bool = true) -> (out: String, err: String) {
    let session = Session(loadDataset: dataset)
    let reader = ScriptedLineReader(lines)
    var out = "", err = ""
    let shell = Shell(session: session, reader: reader, write: { out += $0 }, writeError: { err += $0 })
    if !dot { shell.commands.findDot = { nil } }
    shell.run()
    return (out, err)
  }

  @Test func psqlQuitStopsTheShell() {
    let t = transcript([".format tsv", "\\q", "?- 1 = 1."])
    #expect(t.out.trimmingCharacters(in: .newlines) == "")
    #expect(t.err == "")
  }

  @Test func psqlHelpAndTablesAndTimerAreCommands() {
    let t = transcript(["p(a).", "\\?", ".tables", ".timer on", ".timer off"])
    #expect(t.out.contains(".relations [PATTERN]"))
    #expect(t.out.contains("Other names:"))
    #expect(t.out.contains(".tables = .relations"))
    #expect(t.out.contains("│ p "))
    #expect(t.err == "")
  }

  @Test func completionOffersAliasesButNotPsqlNames() {
    #expect(Commands.names.contains("tables"))
    #expect(Commands.names.contains("timer"))
    #expect(!Commands.names.contains { $0.hasPrefix("\\") })
  }

  @Test func shellArgumentKeepsAQuotedPercent() {
    // '%' starts a comment on a command line, as anywhere; inside double quotes it is text.
    let t = transcript([".shell printf \"%s-%s\\n\" a b % a comment"])
    #expect(t.out.contains("a-b\n"))
  }

  @Test func ambiguousPrefixListsTheCandidates() {
    let t = transcript([".s"])
    #expect(t.err.contains("Ambiguous command '.s': it could be "))
    for name in [".schema", ".steps", ".shell"] { #expect(t.err.contains(name)) }
  }

  @Test func unknownCommandSuggestsTheClosest() {
    let t = transcript([".relatoins", ".hepl", ".frobnicate"])
    #expect(t.err.contains("Unknown command '.relatoins'"))
    #expect(t.err.contains("did you mean '.relations'?"))
    #expect(t.err.contains("did you mean '.help'?"))
    // Nothing close: only the pointer to .help.
    let last = t.err.components(separatedBy: "'.frobnicate'").last ?? ""
    #expect(!last.contains("did you mean"))
  }

  @Test func haltAtTheShellSaysHowToQuit() {
    let t = transcript(["halt.", ".format tsv", "?- halt."])
    #expect(t.err.contains("'halt.' does not quit dq"))
    #expect(t.err.contains("type .quit"))
    // The language's meaning stays: the fact is stored.
    #expect(t.out.hasSuffix("true\n\n"))
  }

  @Test func foreignSpellingsNameDqsOwn() {
    let t = transcript(["p(1).", "?- p(X), \\+ q(X).", "?- p(X), X == 1.", "?- p(X), X <> 2.", "?- p(X), not(q(X)).", "?- N = count(p(X))."])
    #expect(t.err.contains("hint: write 'not p(X)'"))
    #expect(t.err.contains("hint: compare with '=', as in 'X = Y'"))
    #expect(t.err.contains("hint: write '!=', as in 'X != Y'"))
    #expect(t.err.contains("hint: write 'not q(...)', as in 'not p(X)'"))
    #expect(t.err.contains("hint: write 'N = count : { p(X) }'"))
  }

  @Test func whyWithNoAnswersGivesTheNearMiss() {
    let t = transcript([".why met(puttin, X, _, _, _)"], dataset: true)
    #expect(t.err.contains("'puttin' occurs nowhere"))
    #expect(t.err.contains("did you mean 'putin'?"))
    #expect(t.out.contains("No answers, so nothing to explain."))
  }

  @Test func shellRunsACommandAndReportsItsFailure() {
    let t = transcript([".shell echo hello from sh", ".system exit 4", ".shell"])
    #expect(t.out.contains("hello from sh\n"))
    #expect(t.err.contains("the command exited with status 4"))
    #expect(t.err.contains("'.shell' needs a command"))
  }

  @Test func graphWritesDotWhereAnswersGo() {
    let t = transcript(["e(a, b).", "e(b, c).", ".graph e(X, Y)"])
    #expect(t.out.contains("digraph answers {"))
    #expect(t.out.contains("  \"a\" -> \"b\";\n  \"b\" -> \"c\";\n}"))
  }

  @Test func graphToAPlainFileWritesTheDotText() throws {
    let path = NSTemporaryDirectory() + "dq-habits-\(UUID().uuidString).dot"
    defer { unlink(path) }
    let t = transcript(["e(a, b).", ".graph --output \(path) e(X, Y)"])
    #expect(t.err == "")
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.contains("\"a\" -> \"b\";"))
  }

  @Test(.enabled(if: External.which("dot") != nil, "Graphviz's dot is not installed"))
  func graphRendersSvgAndPngWithDot() throws {
    let dir = NSTemporaryDirectory() + "dq-habits-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let t = transcript([
      "e(a, b, one).", ".graph --output \(dir)/g.svg e(X, Y, L)", ".graph --output \(dir)/g.png e(X, Y, L)",
      ".output \(dir)/o.svg", ".why --graph e(a, b, L)", ".output stdout",
    ])
    #expect(t.err == "")
    let twice = transcript(["e(a, b).", ".output \(dir)/two.svg", ".graph e(X, Y)", ".graph e(X, Y)"])
    #expect(twice.err.contains("already holds a drawing"))
    let svg = try String(contentsOfFile: "\(dir)/g.svg", encoding: .utf8)
    #expect(svg.contains("<svg"))
    #expect(svg.contains(">one</text>"))
    let png = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/g.png"))
    #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
    let why = try String(contentsOfFile: "\(dir)/o.svg", encoding: .utf8)
    #expect(why.contains("<svg"))
    #expect(why.contains("e(a, b, one)"))
  }

  @Test func pictureWithoutDotSaysWhatToInstall() throws {
    // No Graphviz: the error names it; no file is made.
    let path = NSTemporaryDirectory() + "dq-habits-\(UUID().uuidString).svg"
    let t = transcript(["e(a, b).", ".graph --output \(path) e(X, Y)"], dot: false)
    #expect(t.err.contains("Graphviz's 'dot' is not on PATH"))
    #expect(!FileManager.default.fileExists(atPath: path))
  }
}
