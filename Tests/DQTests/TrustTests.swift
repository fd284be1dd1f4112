/// Issue #11, "no wrong answer, no crash, no lost data", for the front end: option values past
/// what dq can count, `.load` cycles and depth, endless inputs, all-or-nothing imports, the exit
/// status of dot-commands, long-line diagnostics. Each test fails on the code before the fix.
import Foundation
import Testing

@testable import DQ
import DQCheck

@Suite struct TrustTests {
  // MARK: - Option values (item 1)

  @Test func maxTuplesPastTheCeilingMeansNoLimit() {
    #expect(Limits.parseMaxTuples("9223372036854775807") == .success(0))
    #expect(Limits.parseMaxTuples("99999999999999999999999") == .success(0))
    #expect(Limits.parseMaxTuples("10000000001") == .success(0))
    #expect(Limits.parseMaxTuples("10000000000") == .success(10_000_000_000))
    #expect(Limits.parseMaxTuples("1000") == .success(1000))
    #expect(Limits.parseMaxTuples("0") == .success(0))
    for bad in ["-1", "", "1e3", "abc", "--5"] {
      guard case .failure = Limits.parseMaxTuples(bad) else {
        Issue.record("'\(bad)' should be refused")
        continue
      }
    }
  }

  @Test func timeoutPastTheCeilingMeansNoLimit() {
    #expect(Limits.parseTimeout("1e16") == .success(0))
    #expect(Limits.parseTimeout("inf") == .success(0))
    #expect(Limits.parseTimeout("2.5") == .success(2.5))
    for bad in ["nan", "-1", "-inf", "soon"] {
      guard case .failure = Limits.parseTimeout(bad) else {
        Issue.record("'\(bad)' should be refused")
        continue
      }
    }
    // A value set in code is clamped when the budget is made.
    #expect(Limits.budgetTimeout(.nan) == 0)
    #expect(Limits.budgetTimeout(1e300) == 0)
    #expect(Limits.budgetMaxTuples(Int.max) == 0)
    #expect(Limits.budgetMaxTuples(-3) == 0)
  }

  @Test func optionsLinesUseTheSameParsing() {
    let e = ExpectationChecker.expectations(in: "% options: --max-tuples 9223372036854775807 --timeout 1e16\n")
    #expect(e.options.maxTuples == 0)
    #expect(e.options.timeout == 0)
    #expect(e.optionProblems.isEmpty)
    let bad = ExpectationChecker.expectations(in: "% options: --timeout nan --max-tuples -4\n")
    #expect(bad.optionProblems.count == 2)
  }

  @Test func hugeOptionsOnTheCommandLineRunOrAreRefused() throws {
    let program = "e(1, 2). e(2, 3). p(X, Y) :- e(X, Y). p(X, Z) :- p(X, Y), e(Y, Z). ?- N = count : { p(_, _) }."
    for flags in [["--max-tuples", "9223372036854775807"], ["--timeout", "1e16"], ["--timeout=inf"]] {
      let r = try DQBinary.run(["--no-dataset", "--format", "tsv"] + flags + ["-e", program])
      #expect(!r.crashed && r.status == 0 && r.stdout == "N\n3\n", "\(flags): \(r.status) \(r.stderr)")
    }
    for flags in [["--timeout", "nan"], ["--timeout", "-1"], ["--max-tuples", "-1"], ["--depth", "99999999999999999999"]] {
      let r = try DQBinary.run(["--no-dataset"] + flags + ["-e", program])
      #expect(!r.crashed && r.status == 64, "\(flags): \(r.status)")
      #expect(r.stderr.hasPrefix("dq: error: \(flags[0]) needs"), "\(r.stderr)")
    }
  }

  // MARK: - .load (items 2 and 6)

  /// A directory of files: `f1.dq` loads `f2.dq` ... loads `f<count>.dq`, which holds a fact.
  private func chain(_ count: Int) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dq-chain-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for i in 1..<count { try Data(".load f\(i + 1).dq\n".utf8).write(to: dir.appendingPathComponent("f\(i).dq")) }
    try Data("deep(1).\n".utf8).write(to: dir.appendingPathComponent("f\(count).dq"))
    return dir
  }

  @Test func aChainOf3000FilesStopsAtTheDepthLimit() throws {
    let dir = try chain(3000)
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try DQBinary.run(["--no-dataset", dir.appendingPathComponent("f1.dq").path])
    #expect(!r.crashed)
    #expect(r.status == 65)
    #expect(r.stderr.contains("error: '.load' nested more than \(Limits.maxLoadDepth) files deep"), "\(r.stderr.prefix(500))")
  }

  @Test func aChainWithinTheLimitLoads() throws {
    let dir = try chain(Limits.maxLoadDepth)
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try DQBinary.run(["--no-dataset", "--format", "tsv", dir.appendingPathComponent("f1.dq").path, "-e", "?- deep(X)."])
    #expect(r.status == 0, "\(r.stderr.prefix(500))")
    #expect(r.stdout == "X\n1\n")
  }

  @Test func aFileThatLoadsItselfNamesTheCycle() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dq-self-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let a = dir.appendingPathComponent("a.dq").path
    try Data("p(1).\n.load a.dq\n".utf8).write(to: URL(fileURLWithPath: a))
    let r = try DQBinary.run(["--no-dataset", a])
    #expect(!r.crashed && r.status == 65)
    #expect(r.stderr.contains("error: '.load' cycle: \(a) -> \(dir.path)/a.dq"), "\(r.stderr)")
  }

  @Test func loadExitStatusesMatchTheCommandLine() throws {
    let missing = try DQBinary.run(["--no-dataset", "-e", ".load no-such-file.dq"])
    #expect(missing.status == 66, "\(missing.stderr)")
    let bad = try DQBinary.temporaryFile("p(1 .\n", name: "bad")
    defer { try? FileManager.default.removeItem(atPath: bad) }
    let syntax = try DQBinary.run(["--no-dataset", "-e", ".load \(bad)"])
    #expect(syntax.status == 65, "\(syntax.stderr)")
    #expect(try DQBinary.run(["--no-dataset", "-e", ".format xml"]).status == 64)
    #expect(try DQBinary.run(["--no-dataset", "-e", ".timing maybe"]).status == 64)
    #expect(try DQBinary.run(["--no-dataset", "-e", ".why --depth x p(X)"]).status == 64)
    #expect(try DQBinary.run(["--no-dataset", "-e", ".load"]).status == 64)
    // A prefix of a session command runs it (it once fell through to "Unknown command").
    let prefix = try DQBinary.run(["--no-dataset", "-e", ".lo no-such-file.dq"])
    #expect(prefix.status == 66, "\(prefix.stderr)")
  }

  // MARK: - Endless and huge inputs (item 3)

  @Test func endlessInputsStopWithAnError() throws {
    let file = try DQBinary.run(["--no-dataset", "/dev/zero"])
    #expect(file.status == 66 && file.stderr.contains("longer than 16 MiB"), "\(file.stderr)")
    let load = try DQBinary.run(["--no-dataset", "-e", ".load /dev/zero"])
    #expect(load.status == 66 && load.stderr.contains("longer than 16 MiB"), "\(load.stderr)")
    let importing = try DQBinary.run(["--no-dataset", "-e", ".import /dev/zero r"])
    #expect(importing.status == 66 && importing.stderr.contains("longer than 16 MiB"), "\(importing.stderr)")
    let directory = try DQBinary.run(["--no-dataset", "-e", ".load /"])
    #expect(directory.status == 66 && directory.stderr.contains("Is a directory"), "\(directory.stderr)")
  }

  @Test func standardInputIsBoundedToo() throws {
    let process = Process()
    guard let path = DQBinary.path else { throw DQBinary.Failure(description: "dq binary not built") }
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = ["--no-dataset"]
    process.standardInput = FileHandle(forReadingAtPath: "/dev/zero")
    process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
    let err = Pipe()
    process.standardError = err
    try process.run()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 66)
    #expect(message == "dq: error: cannot read '<stdin>': line 1 is longer than 16 MiB, the longest line dq reads\n")
  }

  @Test func readerLimitsAreExact() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dq-lines-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("abc\nabcd\nab\n".utf8).write(to: url)
    #expect(try SourceReader.readBytes(url.path, maxBytes: 100, maxLineBytes: 4).get().count == 12)
    #expect(SourceReader.readBytes(url.path, maxBytes: 100, maxLineBytes: 3) == .failure(
      SourceReader.Failure(reason: "line 2 is longer than 3 bytes, the longest line dq reads", line: 2)))
    guard case .failure(let big) = SourceReader.readBytes(url.path, maxBytes: 11, maxLineBytes: 4) else {
      Issue.record("a file past maxBytes must be refused")
      return
    }
    #expect(big.reason.hasPrefix("it is larger than 11 bytes"))
  }

  @Test func bytesThatAreNotUTF8AreRefusedNotReplaced() throws {
    func valid(_ bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer(SourceReader.isValidUTF8) }
    #expect(valid(Array("café 😀 中 plain".utf8)))
    #expect(!valid([0xFF]))
    #expect(!valid([0xC0, 0xAF]))  // overlong '/'
    #expect(!valid([0xED, 0xA0, 0x80]))  // a surrogate
    #expect(!valid([0xF4, 0x90, 0x80, 0x80]))  // past U+10FFFF
    #expect(!valid([0xE4, 0xB8]))  // cut short
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dq-latin1-\(UUID().uuidString).dq")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data([0x70, 0x28, 0x31, 0x29, 0x2E, 0x0A] + [0x70, 0x28, 0x22, 0xE9, 0x22, 0x29, 0x2E, 0x0A]).write(to: url)
    let r = try DQBinary.run(["--no-dataset", url.path])
    #expect(r.status == 66)
    #expect(r.stderr == "dq: error: cannot read '\(url.path)': line 2 is not valid UTF-8 text\n")
  }

  // MARK: - Imports (item 5)

  @Test func unterminatedQuoteLoadsNothing() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dq-quote-\(UUID().uuidString).csv")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("a,1\nb,2\n\"c,3\nd,4\n".utf8).write(to: url)
    var diagnostics: [Diagnostic] = []
    let session = TestDQ.quietSession()
    session.capture.onReport = { diagnostics.append($0) }
    #expect(session.run(SourceFile(name: "t.dq", text: "kept(x, 0).\n")) == .ok)
    #expect(session.run(SourceFile(name: "t.dq", text: ".import \(url.path) kept\n")) == .runtimeError)
    #expect(diagnostics.map(\.message) == ["Line 3 of '\(url.path)' opens a quoted field that is never closed"])
    #expect(session.database.tables["kept"]?.factRows.count == 1)
    // A relation the import would have created is not left behind either.
    #expect(session.run(SourceFile(name: "t.dq", text: ".import \(url.path) fresh\n")) == .runtimeError)
    #expect(session.schema["fresh"] == nil)
    #expect(session.database.tables["fresh"] == nil)
  }

  @Test func aFieldOfTheWrongKindInADeclaredColumnLoadsNothing() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("dq-kinds-\(UUID().uuidString).csv")
    defer { try? FileManager.default.removeItem(at: url) }
    try Data("b,2\nc,x\nd,4\n".utf8).write(to: url)
    var diagnostics: [Diagnostic] = []
    let session = TestDQ.quietSession()
    session.capture.onReport = { diagnostics.append($0) }
    #expect(session.run(SourceFile(name: "t.dq", text: ".decl kept(name, n)\nkept(a, 1).\n")) == .ok)
    #expect(session.run(SourceFile(name: "t.dq", text: ".import \(url.path) kept\n")) == .runtimeError)
    #expect(diagnostics.map(\.message) == [
      "\(url.path):2:3: 'x' is a symbol, but column 2 ('n') of the declared relation holds only numbers; nothing was imported"
    ])
    #expect(session.database.tables["kept"]?.factRows.count == 1)
    // An undeclared relation takes any kind: the same file loads.
    #expect(session.run(SourceFile(name: "t.dq", text: "loose(a, 1).\n.import \(url.path) loose\n")) == .ok)
    #expect(session.database.tables["loose"]?.factRows.count == 4)
  }

  // MARK: - Diagnostics on long lines (item 11)

  @Test func aLongLineIsShownAsAWindowAroundTheCaret() {
    let before = String(repeating: "p(1). ", count: 200_000)
    let text = before + "q(X) :- p(X) r(X). " + String(repeating: "p(2). ", count: 200_000)
    let run = TestDQ.run(text)
    #expect(run.errors.count == 1)
    guard let d = run.errors.first else { return }
    let out = DiagnosticRenderer().render(d)
    let lines = out.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(out.utf8.count < 600, "\(out.utf8.count) bytes")
    #expect(lines[0] == "test.dq:1:\(before.count + 14): error: Expected '.' at the end of the rule, found 'r'")
    #expect(lines[1].hasPrefix("…") && lines[1].hasSuffix("…"))
    #expect(lines[1].count <= DiagnosticRenderer.maxLineWidth)
    // The caret sits under the 'r', however the window is cut.
    let caret = lines[2].firstIndex(of: "^").map { lines[2].distance(from: lines[2].startIndex, to: $0) }
    let r = lines[1].range(of: ") r(X)").map { lines[1].distance(from: lines[1].startIndex, to: $0.lowerBound) + 2 }
    #expect(caret != nil && caret == r, "\(lines[1])\n\(lines[2])")
  }

  @Test func aShortLineIsShownWhole() {
    let run = TestDQ.run("q(X) :- p(X) r(X).")
    guard let d = run.errors.first else {
      Issue.record("expected an error")
      return
    }
    #expect(DiagnosticRenderer().render(d) == "test.dq:1:14: error: Expected '.' at the end of the rule, found 'r'\nq(X) :- p(X) r(X).\n             ^\n")
  }

  @Test func controlCharactersAreShownAsPicturesAndARunIsOneError() {
    let run = TestDQ.run("p(1).\u{0}\u{0}\u{0}\n?- p(X).\n")
    #expect(run.errors.count == 1)
    guard let d = run.errors.first else { return }
    #expect(DiagnosticRenderer().render(d) == "test.dq:1:6: error: Unexpected character '\\u{0}'\np(1).␀␀␀\n     ^~~\n")
    let escape = TestDQ.run("p(1). \u{1B}[31m")
    guard let e = escape.errors.first else {
      Issue.record("expected an error")
      return
    }
    #expect(DiagnosticRenderer().render(e).contains("p(1). ␛[31m\n      ^\n"))
  }

  // MARK: - Numbers from users (item 4)

  @Test func datesAreDigitsOnly() {
    #expect(DateCodec.parse("+123-01-01") == nil)
    #expect(DateCodec.parse("2016-08-09") != nil)
  }

  @Test func historyWithAHugeNegativeCountDoesNotTrap() throws {
    // A negative count is a usage error (exit 64), never an overflow.
    let r = try DQBinary.run(["--no-dataset", "-e", ".history -9223372036854775808"])
    #expect(!r.crashed && r.status == 64, "\(r.stderr)")
  }

  @Test func aClauseWithManyVariablesIsCollectedInLinearTime() {
    let names = (0..<50_000).map { "X\($0)" }
    let body: [Literal] = [
      .positive(Atom(name: "p", arguments: names.map { .variable($0, Session.nowhere) }, span: Session.nowhere, nameSpan: Session.nowhere))
    ]
    let clock = ContinuousClock()
    let elapsed = clock.measure { #expect(Query(body: body, span: Session.nowhere).shownVariables.count == 50_000) }
    #expect(elapsed < .seconds(5), "\(elapsed)")
  }
}
