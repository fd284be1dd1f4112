/// The libFuzzer entry point: one input runs through the whole pipeline (lex, parse, resolve,
/// stratify, plan, evaluate under small limits, render every format and every diagnostic).
///
/// Built by `Scripts/fuzz` with swiftc directly, together with Sources/DQ as one module (so it
/// can reach the library's internals), never by SwiftPM: libFuzzer supplies `main`.
/// Dot-commands that read or write files or start processes: the fuzzer swallows them, so a
/// fuzzed `.import /etc/passwd x` or `.output f` never acts. The session itself runs only
/// `.import`; the others are the shell's, listed so they stay inert if the session learns them.
private let inertCommands = [
  "load", "read", "import", "output", "once", "shell", "system", "edit", "export", "attach",
]

/// The first line of an input that runs with the built-in dataset. Scripts/fuzz puts it on
/// the seeds that the golden test runs with the dataset (no `--no-dataset`). It is a marker,
/// not the options line, because loading the dataset costs ten times a typical input: a
/// mutation that breaks the marker makes an input cheaper, never dearer.
private let datasetMarker = "% fuzz: dataset\n"

/// Limits small enough that no legitimate program keeps one input for long (an input's
/// `% options:` may lower them, not raise them).
private let maxTuples = 10_000
private let queryTimeout = 1.0
/// Wall time for the whole input (all its queries): past it, the running query is interrupted.
private let inputBudget: Duration = .seconds(3)

/// Runs one input. Anything the library may do with it (report errors, stop at a limit) is
/// fine; a crash, a sanitizer report or a failed invariant below is a finding.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  checkRoundTrip(text)
  run(text)
  return 0
}

/// Lexes with the token dump, then runs the text as the golden test would (its `% options:`
/// line chooses the format and warnings, the limits are capped, the dataset is loaded after
/// `datasetMarker`), renders each query's answers in every format and every diagnostic with
/// its caret line, and diffs the output against the `% expect:` lines.
private func run(_ text: String) {
  let file = SourceFile(name: "<fuzz>", text: text)
  _ = SyntaxDump.tokens(file)

  let expectations = ExpectationChecker.expectations(in: text)
  var options = expectations.options
  options.maxTuples = options.maxTuples > 0 ? min(options.maxTuples, maxTuples) : maxTuples
  options.timeout = options.timeout > 0 ? min(options.timeout, queryTimeout) : queryTimeout
  let session = Session(options: options, loadDataset: text.hasPrefix(datasetMarker))
  let deadline = ContinuousClock.now + inputBudget
  session.interrupted = { ContinuousClock.now > deadline }
  var output = ""
  var bytes = 0
  session.write = { output += $0 }
  let renderer = DiagnosticRenderer()
  session.report = { bytes &+= renderer.render($0).utf8.count }
  session.commandHandler = { name, _, _ in
    inertCommands.contains { !name.isEmpty && $0.hasPrefix(name) } ? .handled : .unknown
  }
  session.onAnswers = { [unowned session] query, rows in
    for format in OutputFormat.allCases {
      bytes &+= format.render(columns: query.shownVariables, rows: rows, store: session.database.store).utf8.count
    }
  }
  _ = session.run(file)
  bytes &+= ExpectationChecker.compare(expected: expectations.output, actual: output).count
  // Keep the work from being optimised away.
  if bytes == -1 { print(bytes) }
}

/// What the parser accepts, the printer must print as dq that parses to the same statements
/// (the property ParserTests checks on a few programs, here on every input).
private func checkRoundTrip(_ text: String) {
  let (first, errors) = Parser.parse(SourceFile(name: "<fuzz>", text: text))
  guard errors.isEmpty else { return }
  let printed = first.map(\.description).joined(separator: "\n")
  let (second, again) = Parser.parse(SourceFile(name: "<printed>", text: printed))
  if !again.isEmpty {
    let renderer = DiagnosticRenderer()
    fail("the printed program does not parse:\n\(printed)\n\(again.map(renderer.render).joined())")
  }
  let a = first.map(\.description)
  let b = second.map(\.description)
  if a != b { fail("printing is not a fixpoint:\n\(a.joined(separator: "\n"))\n---\n\(b.joined(separator: "\n"))") }
}

/// Reports a broken invariant and traps, which libFuzzer records as a crash with this input.
private func fail(_ message: String) -> Never {
  fatalError("fuzz invariant failed: \(message)")
}
