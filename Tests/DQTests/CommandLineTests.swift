/// The real `dq` binary: exit codes, stderr format, tsv bytes, stdin, -e and files.
import Foundation
import Testing

/// What one run of the binary produced.
struct ProcessResult {
  var status: Int32
  var stdout: String
  var stderr: String
  /// True when the process died of a signal (a crash) rather than exiting.
  var crashed: Bool
}

enum DQBinary {
  /// The `dq` executable built next to the test bundle, or nil.
  static let path: String? = {
    let fm = FileManager.default
    var candidates: [String] = []
    let argv0 = URL(fileURLWithPath: CommandLine.arguments[0])
    // The bundle (dqPackageTests.xctest) or the runner sits in the build's debug folder.
    for dir in [argv0.deletingLastPathComponent(), argv0.deletingLastPathComponent().deletingLastPathComponent()] {
      candidates.append(dir.appendingPathComponent("dq").path)
    }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    for scratch in [".build-tests", ".build"] {
      candidates.append(root.appendingPathComponent("\(scratch)/debug/dq").path)
    }
    return candidates.first { fm.isExecutableFile(atPath: $0) }
  }()

  /// Runs `dq` with `arguments`, feeding `stdin` (or nothing: /dev/null) and collecting both streams.
  static func run(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    guard let path else {
      throw Failure(
        description: "dq binary not found next to the tests (\(CommandLine.arguments[0])); build it first: "
          + "swift build --scratch-path .build-tests --product dq")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = nil
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let tmp = FileManager.default.temporaryDirectory
    let id = UUID().uuidString
    let outURL = tmp.appendingPathComponent("dq-test-\(id).out")
    let errURL = tmp.appendingPathComponent("dq-test-\(id).err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
      try? FileManager.default.removeItem(at: outURL)
      try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    if stdin != nil {
      process.standardInput = input
    } else {
      process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
    }
    try process.run()
    if let stdin {
      input.fileHandleForWriting.write(Data(stdin.utf8))
      try input.fileHandleForWriting.close()
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return ProcessResult(
      status: process.terminationStatus,
      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
      crashed: process.terminationReason == .uncaughtSignal)
  }

  /// Writes `text` to a fresh temporary `.dq` file and returns its path.
  static func temporaryFile(_ text: String, name: String = "prog") throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).dq")
    try Data(text.utf8).write(to: url)
    return url.path
  }

  struct Failure: Error, CustomStringConvertible {
    var description: String
  }
}

@Suite struct CommandLineTests {
  /// `dq --no-dataset --format tsv -e TEXT`.
  private func tsv(_ text: String, _ extra: [String] = []) throws -> ProcessResult {
    try DQBinary.run(["--no-dataset", "--format", "tsv"] + extra + ["-e", text])
  }

  @Test func binaryIsBuilt() {
    #expect(
      DQBinary.path != nil,
      "dq binary not found near \(CommandLine.arguments[0]); run: swift build --scratch-path .build-tests --product dq")
  }

  // MARK: - Output

  @Test func tsvOutputByteForByte() throws {
    let r = try tsv(
      """
      p(1, "tab\\there"). p(2, "new\\nline"). p(3, "back\\\\slash"). p(-4, plain). p(5, 2016-08-09). p(6, 2.5).
      ?- p(N, S).
      ?- p(1, _).
      ?- p(9, _).
      ?- p(N, _), N > 100.
      """)
    #expect(r.status == 0)
    #expect(r.stderr == "")
    #expect(
      r.stdout
        == "N\tS\n-4\tplain\n1\ttab\\there\n2\tnew\\nline\n3\tback\\\\slash\n5\t2016-08-09\n6\t2.5\n"
        + "\ntrue\n" + "\nfalse\n" + "\nN\n")
  }

  @Test func answersAreSortedAndDistinct() throws {
    let r = try tsv("v(b). v(a). v(10). v(9). v(2016-01-01). v(\"B\"). v(a). ?- v(X).")
    #expect(r.stdout == "X\n9\n10\n2016-01-01\nB\na\nb\n")
  }

  @Test func defaultFormatIsTable() throws {
    let r = try DQBinary.run(["--no-dataset", "-e", "p(1). ?- p(X)."])
    #expect(r.status == 0)
    #expect(r.stdout == "┌───┐\n│ X │\n├───┤\n│ 1 │\n└───┘\n1 row\n")
  }

  @Test func severalJSONAnswersAreOneDocument() throws {
    // Two queries, a yes/no query, a listing and an error: stdout is still one JSON value.
    let r = try DQBinary.run([
      "--no-dataset", "-f", "json", "--list", "-e", "p(1, a). p(2, b). ?- p(X, Y). ?- p(1, _). .schema p\n?- p(X, _), X > 1.",
    ])
    #expect(r.status == 0, "\(r.stderr)")
    let document = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
    #expect(document?.count == 5, "\(r.stdout)")
    #expect(document?[0]["query"] as? String == "?- p(X, Y).")
    #expect((document?[0]["rows"] as? [[String: Any]])?.count == 2)
    #expect(document?[1]["answer"] as? Bool == true)
    #expect(document?[2]["command"] as? String == ".schema p")
    #expect(document?[4]["command"] as? String == ".relations")
    // A run that stops on an error still closes the document.
    let failed = try DQBinary.run(["--no-dataset", "-f", "json", "-e", "p(1). ?- p(X). ?- q(X) :- ."])
    #expect(failed.status == 65)
    let stopped = try DQBinary.run(["--no-dataset", "-f", "json", "-e", "p(1). ?- p(X). ?- X = 1 / 0."])
    #expect(stopped.status == 70)
    #expect((try JSONSerialization.jsonObject(with: Data(stopped.stdout.utf8)) as? [Any])?.count == 1, "\(stopped.stdout)")
  }

  @Test func jsonLinesIsOneObjectPerLine() throws {
    let r = try DQBinary.run(["--no-dataset", "-f", "jsonl", "-e", "p(1). ?- p(X). ?- p(2). .relations"])
    let lines = r.stdout.split(separator: "\n")
    #expect(lines.count == 3, "\(r.stdout)")
    for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line)") }
    #expect(lines[1] == "{\"query\": \"?- p(2).\", \"columns\": [], \"answer\": false}")
  }

  @Test func catalogCommandsHonourTheFormat() throws {
    let list = try DQBinary.run(["--no-dataset", "-f", "tsv", "--list", "-e", "p(1, a). q(X) :- p(X, _)."])
    #expect(list.stdout == "relation\tarity\tcolumns\trows\tdescription\np\t2\tc1, c2\t1\t\nq\t1\tc1\t1\t(rules) \n")
    let csv = try DQBinary.run(["--no-dataset", "-f", "csv", "-e", "p(1, a). .memory p"])
    #expect(csv.stdout.hasPrefix("relation,arity,tuples,bytes,bytes/tuple,indexes,facts bytes\r\np,2,1,"), "\(csv.stdout)")
    let schema = try DQBinary.run(["--no-dataset", "-f", "csv", "-e", ".decl p(a, b) \"Two, things\".\np(1, 2). q(X) :- p(X, _). .schema p\n.schema q"])
    #expect(
      schema.stdout
        == "relation,clause\r\np,\".decl p(a, b) \"\"Two, things\"\"\"\r\n\r\nrelation,clause\r\nq,.decl q(c1)\r\nq,\"q(X) :- p(X, _).\"\r\n",
      "\(schema.stdout)")
  }

  @Test func tablesAreFittedOnlyWhenAsked() throws {
    let wide = "p(\"" + String(repeating: "w", count: 300) + "\"). ?- p(X)."
    // A pipe is not a terminal: nothing is cut.
    let piped = try DQBinary.run(["--no-dataset", "-e", wide])
    #expect(!piped.stdout.contains("…"))
    let fitted = try DQBinary.run(["--no-dataset", "-e", ".width 40", "-e", wide])
    #expect(fitted.stdout.contains("…"))
    #expect(fitted.stdout.split(separator: "\n").first?.count == 40, "\(fitted.stdout)")
  }

  @Test func csvAndJsonFormats() throws {
    let csv = try DQBinary.run(["--no-dataset", "--format", "csv", "-e", "p(\"a,b\", 1). ?- p(X, Y)."])
    #expect(csv.stdout == "X,Y\r\n\"a,b\",1\r\n")
    let json = try DQBinary.run(["--no-dataset", "-f", "json", "-e", "p(\"a,b\", 1). ?- p(X, Y)."])
    #expect(
      json.stdout == "[\n  {\"query\": \"?- p(X, Y).\", \"columns\": [\"X\", \"Y\"], \"rows\": [\n    {\"X\": \"a,b\", \"Y\": 1}\n  ]}\n]\n")
    let eq = try DQBinary.run(["--no-dataset", "--format=json", "-e", "p(1). ?- p(X)."])
    #expect(eq.stdout == "[\n  {\"query\": \"?- p(X).\", \"columns\": [\"X\"], \"rows\": [\n    {\"X\": 1}\n  ]}\n]\n")
  }

  // MARK: - Inputs

  @Test func programOnStdin() throws {
    let r = try DQBinary.run(["--no-dataset", "--format", "tsv"], stdin: "p(1).\np(2).\n?- p(X).\n")
    #expect(r.status == 0)
    #expect(r.stdout == "X\n1\n2\n")
    #expect(r.stderr == "")
  }

  @Test func dashReadsStdin() throws {
    let r = try DQBinary.run(["--no-dataset", "--format", "tsv", "-"], stdin: "?- 1 < 2.\n")
    #expect(r.stdout == "true\n")
  }

  @Test func errorsInStdinAreNamedStdin() throws {
    let r = try DQBinary.run(["--no-dataset"], stdin: "p(1).\n?- p(X), Y = X / 0.\n")
    #expect(r.status == 70)
    #expect(r.stderr.hasPrefix("<stdin>:2:14: error: Division by zero\n?- p(X), Y = X / 0.\n             ^~~~~\n"))
  }

  @Test func filesRunInOrderInOneSession() throws {
    let a = try DQBinary.temporaryFile("edge(a, b). edge(b, c).\n", name: "a")
    let b = try DQBinary.temporaryFile("path(X, Y) :- edge(X, Y).\npath(X, Z) :- path(X, Y), edge(Y, Z).\n?- path(a, X).\n", name: "b")
    defer {
      try? FileManager.default.removeItem(atPath: a)
      try? FileManager.default.removeItem(atPath: b)
    }
    let r = try DQBinary.run(["--no-dataset", "--format", "tsv", a, b, "-e", "?- path(X, c)."])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout == "X\nb\nc\n\nX\na\nb\n")
  }

  @Test func repeatedEvalRunsInOrder() throws {
    let r = try DQBinary.run(["--no-dataset", "--format", "tsv", "-e", "p(1).", "--eval", "?- p(X)."])
    #expect(r.stdout == "X\n1\n")
  }

  @Test func datasetLoadsByDefault() throws {
    let r = try DQBinary.run(["--format", "tsv", "-e", "?- 1 = 1."])
    #expect(r.status == 0)
    #expect(r.stdout == "true\n")
    #expect(r.stderr == "", "the built-in dataset should load silently")
  }

  // MARK: - Errors and exit codes

  @Test func syntaxErrorExits65WithLocationSourceAndCaret() throws {
    let file = try DQBinary.temporaryFile("p(1).\nq(X) :- p(X) r(X).\n")
    defer { try? FileManager.default.removeItem(atPath: file) }
    let r = try DQBinary.run(["--no-dataset", file])
    #expect(r.status == 65)
    #expect(r.stdout == "")
    #expect(r.stderr == "\(file):2:14: error: Expected '.' at the end of the rule, found 'r'\nq(X) :- p(X) r(X).\n             ^\n")
  }

  @Test func severalErrorsAreCounted() throws {
    let r = try DQBinary.run(["--no-dataset", "-e", "p(1 .\nq(.\n"])
    #expect(r.status == 65)
    #expect(r.stderr.hasSuffix("\n2 errors\n"), "\(r.stderr)")
    #expect(r.stderr.components(separatedBy: ": error: ").count == 3)
  }

  @Test func semanticErrorExits65() throws {
    let r = try DQBinary.run(["--no-dataset", "-e", "q(1).\np(X) :- q(Y)."])
    #expect(r.status == 65)
    #expect(
      r.stderr == """
        <command line>:2:3: error: Variable 'X' in the head of 'p' is not bound by the body
        p(X) :- q(Y).
          ^
        hint: add a positive atom that mentions 'X' to the body

        """)
  }

  @Test func staticErrorRunsNothing() throws {
    let r = try tsv("p(1). ?- p(X). q(X) :- r(Y).")
    #expect(r.status == 65)
    #expect(r.stdout == "")
  }

  @Test func runtimeErrorExits70AndKeepsEarlierOutput() throws {
    let r = try tsv("p(0). ?- p(X). ?- p(X), Y = 1 / X. ?- p(X).")
    #expect(r.status == 70)
    #expect(r.stdout == "X\n0\n")
    #expect(r.stderr.hasPrefix("<command line>:1:29: error: Division by zero\n"), "\(r.stderr)")
  }

  @Test func overflowIsARuntimeError() throws {
    let r = try tsv("?- X = 9223372036854775807 + 1.")
    #expect(r.status == 70)
    #expect(!r.crashed)
    #expect(r.stderr.hasPrefix("<command line>:1:8: error: Integer overflow in '+'\n"))
  }

  @Test func tupleLimitIsARuntimeError() throws {
    let r = try tsv("n(0). n(Y) :- n(X), Y = X + 1. ?- n(X).", ["--max-tuples", "1000"])
    #expect(r.status == 70)
    #expect(r.stdout == "")
    #expect(r.stderr.contains("error: Evaluation stopped after deriving more than 1000 tuples (the tuple limit)"))
  }

  @Test func missingFileExits66() throws {
    let r = try DQBinary.run(["--no-dataset", "/nonexistent/dir/prog.dq"])
    #expect(r.status == 66)
    #expect(r.stdout == "")
    #expect(r.stderr.contains("/nonexistent/dir/prog.dq"))
  }

  @Test(arguments: [
    ["--bogus"], ["--format", "xml", "-e", "p."], ["--format"], ["--max-tuples", "many", "-e", "p."],
    ["--max-tuples", "-1", "-e", "p."], ["--timeout", "soon", "-e", "p."], ["-e"],
  ])
  func badCommandLineExits64(_ arguments: [String]) throws {
    let r = try DQBinary.run(["--no-dataset"] + arguments)
    #expect(r.status == 64, "\(arguments)")
    #expect(r.stdout == "")
    #expect(r.stderr.hasPrefix("dq: error: "), "\(r.stderr)")
  }

  @Test func helpAndVersionExit0() throws {
    let help = try DQBinary.run(["--help"])
    #expect(help.status == 0)
    #expect(help.stdout.hasPrefix("usage: dq"))
    let version = try DQBinary.run(["--version"])
    #expect(version.status == 0)
    #expect(version.stdout.hasPrefix("dq "))
  }

  @Test func noColourWhenStderrIsNotATerminal() throws {
    let r = try tsv("?- X = 1 / 0.")
    #expect(!r.stderr.contains("\u{1B}["))
  }

  // MARK: - Warnings

  @Test func warningsGoToStderrAndKeepStatus() throws {
    let r = try tsv("parent(a, b). ?- parnet(X, Y).")
    #expect(r.status == 0)
    #expect(r.stdout == "X\tY\n")
    #expect(
      r.stderr == """
        <command line>:1:18: warning: Relation 'parnet' has no facts and no rules, so it is empty
        parent(a, b). ?- parnet(X, Y).
                         ^~~~~~
        hint: did you mean 'parent'?

        """)
    let quiet = try tsv("parent(a, b). ?- parnet(X, Y).", ["--no-warnings"])
    #expect(quiet.stderr == "")
    #expect(quiet.stdout == r.stdout)
  }

  // MARK: - Robustness

  @Test func deepParenthesesAreReportedNotACrash() throws {
    let text = "?- X = " + String(repeating: "(", count: 1000) + "1" + String(repeating: ")", count: 1000) + "."
    let r = try tsv(text)
    #expect(!r.crashed)
    #expect(r.status == 65)
    #expect(r.stderr.contains("error: Expression nested too deeply (more than 200 levels)"))
  }
}
