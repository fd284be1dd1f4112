/// The command line is parsed into a value or a problem; nothing exits halfway.
import DQ
import DQShell
import Testing

@Suite struct ArgumentsTests {
  @Test func optionsFilesAndTextsAreRead() throws {
    let a = try Arguments.parse(["--no-dataset", "-f", "csv", "--timeout=2.5", "-e", "?- p(X).", "a.dq", "--", "-b.dq"]).get()
    #expect(a.action == .run)
    #expect(!a.loadDataset)
    #expect(a.options.format == .csv)
    #expect(a.options.timeout == 2.5)
    #expect(a.texts == ["?- p(X)."])
    #expect(a.files == ["a.dq", "-b.dq"])
  }

  @Test func theFirstProblemIsReturned() {
    #expect(throws: Arguments.Problem.unknownOption("--bogus")) { try Arguments.parse(["--bogus", "--format", "xml"]).get() }
    #expect(throws: Arguments.Problem.missingValue(option: "--eval")) { try Arguments.parse(["--eval"]).get() }
    guard case .failure(.badValue(let option, let value, let reason)) = Arguments.parse(["-f", "xml"]) else {
      Issue.record("-f xml was accepted")
      return
    }
    #expect(option == "-f" && value == "xml")
    #expect(reason == "unknown format 'xml' (use table, tsv, csv, json, jsonl, markdown, line)")
  }

  @Test func everyProblemIsCollectedForOptionLines() {
    let (a, problems) = Arguments.parseAll(["--timeout", "nan", "--no-warnings", "--max-tuples", "-4"])
    #expect(problems.count == 2)
    #expect(!a.options.warnings)
  }

  @Test("--db after --sql names the server whose tables the script reads; alone it needs --engine postgres")
  func dbWithSQL() throws {
    let a = try Arguments.parse(["--sql", "--db", "host=/tmp", "a.dq"]).get()
    #expect(a.sql && a.options.engine == .postgres(conninfo: "host=/tmp", schema: nil))
    guard case .failure(.badValue(let option, _, let reason)) = Arguments.parse(["--db", "host=/tmp", "a.dq"]) else {
      Issue.record("--db without --engine postgres or --sql was accepted")
      return
    }
    #expect(option == "--db" && reason == "'--db' needs '--engine postgres' (or '--sql') before it")
  }

  @Test func helpAndVersionEndTheParsing() throws {
    #expect(try Arguments.parse(["--help", "--bogus"]).get().action == .help)
    #expect(try Arguments.parse(["--version"]).get().action == .version)
  }
}

@Suite struct StartupArgumentsTests {
  @Test func interactiveCommandAndStartupFileOptions() throws {
    let a = try Arguments.parse(["-i", "a.dq", "-c", "?- p(X).", "--command=?- q(X)."]).get()
    #expect(a.interactive)
    #expect(a.files == ["a.dq"])
    #expect(a.texts == ["?- p(X).", "?- q(X)."])
    #expect(a.startupFile == .whenInteractive)
    #expect(try Arguments.parse(["--interactive", "--no-rc"]).get().startupFile == .skip)
    #expect(try Arguments.parse(["--rc"]).get().startupFile == .always)
    #expect(try !Arguments.parse(["a.dq"]).get().interactive)
  }
}
