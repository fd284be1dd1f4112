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

/// The options of a `% options:` line and the `% expect:` lines of an input, read as the
/// golden test reads them (the checker itself lives in the DQCheck target, outside this module).
private func expectations(in text: String) -> (options: Session.Options, dataset: Bool, output: [String]) {
  var options = Session.Options()
  var dataset = true
  var output: [String] = []
  for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
    guard let at = line.firstIndex(of: "%") else { continue }
    var comment = line[line.index(after: at)...].drop { $0 == " " }
    if comment.hasPrefix("expect:") {
      comment = comment.dropFirst("expect:".count)
      output.append(String(comment.first == " " ? comment.dropFirst() : comment))
    } else if comment.hasPrefix("options:") {
      let words = comment.dropFirst("options:".count).split(separator: " ").map(String.init)
      for (k, w) in words.enumerated() {
        let next = k + 1 < words.count ? words[k + 1] : ""
        switch w {
        case "--no-dataset": dataset = false
        case "--no-warnings": options.warnings = false
        case "--format": if let f = OutputFormat(rawValue: next) { options.format = f }
        case "--max-tuples": if case .success(let n) = Limits.parseMaxTuples(next) { options.maxTuples = n }
        case "--timeout": if case .success(let t) = Limits.parseTimeout(next) { options.timeout = t }
        case "--memory": if case .success(let n) = Limits.parseMemory(next) { options.maxMemory = n }
        default: break
        }
      }
    }
  }
  return (options, dataset, output)
}

/// Where one input's session sends what it produces: answers are kept (and rendered in every
/// format), diagnostics rendered, and the query stopped once the input's time is up.
private final class FuzzFrontEnd: FrontEnd {
  var output = ""
  var bytes = 0
  let renderer = DiagnosticRenderer()
  let deadline = ContinuousClock.now + inputBudget
  unowned(unsafe) var session: Session?

  func write(_ text: String) { output += text }
  func report(_ diagnostic: Diagnostic) { bytes &+= renderer.render(diagnostic).utf8.count }
  var interruption: (() -> Bool)? { { [deadline] in ContinuousClock.now > deadline } }
  func answered(_ query: Query, rows: [[Value]]) {
    guard let store = session?.database.store else { return }
    for format in OutputFormat.allCases {
      bytes &+= format.render(columns: query.shownVariables, rows: rows, store: store).utf8.count
    }
  }
}

/// Lexes with the token dump, then runs the text as the golden test would (its `% options:`
/// line chooses the format and warnings, the limits are capped, the dataset is loaded after
/// `datasetMarker`), renders each query's answers in every format and every diagnostic with
/// its caret line, and compares the output with the `% expect:` lines.
private func run(_ text: String) {
  let file = SourceFile(name: "<fuzz>", text: text)
  _ = SyntaxDump.tokens(file)

  var (options, _, expected) = expectations(in: text)
  options.maxTuples = options.maxTuples > 0 ? min(options.maxTuples, maxTuples) : maxTuples
  options.timeout = options.timeout > 0 ? min(options.timeout, queryTimeout) : queryTimeout
  options.maxMemory = min(options.maxMemory > 0 ? options.maxMemory : Int.max, 1 << 30)
  let session = Session(options: options, loadDataset: text.hasPrefix(datasetMarker))
  let frontEnd = FuzzFrontEnd()
  frontEnd.session = session
  session.frontEnd = frontEnd
  // Commands that would touch files or start processes do nothing here.
  session.commands = CommandTable(
    session.commands.commands.map { command in
      guard inertCommands.contains(command.name) else { return command }
      var inert = command
      inert.run = { _, _ in .ok }
      return inert
    })
  _ = session.run(file)
  // What `dq` does at the end of a run: the JSON document of the answers is closed.
  session.endDocument()
  let actual = frontEnd.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  frontEnd.bytes &+= actual == expected ? 0 : 1
  // Keep the work from being optimised away.
  if frontEnd.bytes == -1 { print(frontEnd.bytes) }
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
