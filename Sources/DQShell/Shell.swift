/// The REPL loop: read a clause (asking the parser whether it is complete), run it, print
/// answers or errors, and come back to the prompt.
import CSupport
import DQ

#if canImport(Glibc)
  import Glibc
#endif

public final class Shell {
  public static let prompt = "dq> "
  public static let continuation = "...> "
  /// The rows a table shows at the prompt before "… N more rows" (`.maxrows`).
  public static let maxRows = 40

  public let session: Session
  public let commands: Commands
  let reader: LineReader
  private let renderer: DiagnosticRenderer
  /// Standard output, even while `.output` sends answers to a file.
  private let screen: (String) -> Void
  private var lineNumber = 1

  public init(session: Session, reader: LineReader, write: @escaping (String) -> Void,
              writeError: @escaping (String) -> Void, color: Bool = false) {
    self.session = session
    self.reader = reader
    self.renderer = DiagnosticRenderer(color: color)
    self.screen = write
    self.commands = Commands(session: session, write: write, writeError: writeError)
    commands.history = { [unowned reader] in reader.history }
    commands.attach()
    commands.reportDiagnostic = { [renderer, unowned commands] d in commands.writeError(renderer.render(d)) }
    commands.isShell = true
    // Any entry may be followed by edits: computed strata are readied for them.
    session.expectsEdits = true
    commands.interactive = reader.isInteractive
    // A screenful or two of rows at a person's terminal; `.maxrows 0` shows all.
    if reader.isInteractive && session.options.maxRows == 0 { session.options.maxRows = Shell.maxRows }
    // Text coming back from `.edit` is an entry of its own: in the history, and edited next.
    commands.runText = { [unowned self] text in
      var entry = Substring(text)
      while let last = entry.last, last == "\n" || last == " " || last == "\t" || last == "\r" { entry.removeLast() }
      guard !entry.isEmpty else { return }
      self.reader.addHistory(entry.split(separator: "\n").joined(separator: " "))
      self.commands.lastEntry = String(entry)
      self.execute(String(entry))
    }
  }

  /// The first line an interactive user sees.
  public func welcome(version: String) -> String {
    let facts = session.database.tables.values.reduce(0) { $0 + $1.factRows.count }
    let relations = session.schema.relations.count
    let data = session.datasetRelations.isEmpty
      ? "no dataset loaded" : "built-in dataset: \(relations) relations, \(facts) facts"
    return "dq \(version) (\(data)). Type .help for help, Ctrl-D to quit.\n"
  }

  /// The start-up file: `$DQRC` when set (empty: none), else `~/.dqrc`; `named` when `$DQRC`
  /// names it (then a missing file is worth a warning).
  public static func startupFile() -> (path: String, named: Bool)? {
    settingPath("DQRC", default: ".dqrc").map { ($0, getenv("DQRC") != nil) }
  }

  /// Runs the start-up file at `path` before the prompt (settings such as `.format tsv`): an
  /// error in it is reported with its line and column and the rest still runs. A missing
  /// `~/.dqrc` is no error; a missing file `$DQRC` names is said as a warning. Returns false
  /// when it ran `.quit`.
  public func runStartupFile(_ path: String, named: Bool) -> Bool {
    switch SourceReader.readText(path) {
    case .failure(let e):
      if named || access(path, F_OK) == 0 {
        commands.writeError("dq: warning: cannot read start-up file '\(path)': \(e.reason)\n")
      }
      return true
    case .success(let text):
      commands.entryStarts()
      let status = session.runEach(SourceFile(name: path, text: text))
      commands.entryDone(succeeded: status == .ok || status == .exit)
      _ = dq_take_interrupt()
      return status != .exit
    }
  }

  /// Runs a file or text given with `dq -i` before the prompt, as `.load` would: its errors
  /// are reported and the shell starts all the same. Returns false when it ran `.quit`.
  public func runInput(name: String, text: Result<String, SourceReader.Failure>) -> Bool {
    switch text {
    case .failure(let e):
      commands.writeError("dq: error: cannot read '\(name)': \(e.reason)\n")
      return true
    case .success(let text):
      commands.entryStarts()
      let status =
        name.hasPrefix("<") ? session.run(SourceFile(name: name, text: text)) : session.runFile(path: name, text: text)
      commands.entryDone(succeeded: status == .ok || status == .exit)
      _ = dq_take_interrupt()
      return status != .exit
    }
  }

  /// Reads and runs until the end of input or `.quit`; returns the exit status.
  @discardableResult
  public func run() -> Int32 {
    var buffer = ""
    while true {
      (reader as? EditLineReader)?.setPendingInput(buffer.isEmpty ? "" : buffer + "\n")
      let input = reader.readLine(prompt: reader.isInteractive ? (buffer.isEmpty ? Shell.prompt : Shell.continuation) : "")
      switch input {
      case .end:
        if reader.isInteractive { screen("\n") }
        return 0
      case .interrupted:
        buffer = ""
        if reader.isInteractive { commands.writeError("^C\n") }
        continue
      case .line(let line):
        if buffer.isEmpty, isCommand(line) {
          reader.addHistory(line)
          // `.edit` edits the entry before it, never itself.
          if !isEdit(line) { commands.lastEntry = line }
          if execute(line) == .exit { return 0 }
          continue
        }
        buffer += buffer.isEmpty ? line : "\n" + line
        if isBlank(buffer) {
          buffer = ""
          continue
        }
        if needsMore(buffer) { continue }
        let entry = buffer
        buffer = ""
        reader.addHistory(entry.split(separator: "\n").joined(separator: " "))
        commands.lastEntry = entry
        if execute(entry) == .exit { return 0 }
      }
    }
  }

  private func isCommand(_ line: String) -> Bool {
    let t = line.drop { $0 == " " || $0 == "\t" }
    // psql's `\q` and `\?`, as the lexer reads them.
    if t.first == "\\", let second = t.dropFirst().first, second == "q" || second == "?" {
      return t.dropFirst(2).first.map { !($0.isLetter || $0.isNumber || $0 == "_") } ?? true
    }
    guard t.first == ".", let second = t.dropFirst().first else { return false }
    return second.isLetter
  }

  private func isEdit(_ line: String) -> Bool {
    let name = line.drop { $0 == " " || $0 == "\t" }.dropFirst().prefix { $0 != " " && $0 != "\t" }
    return commands.find(String(name))?.name == "edit"
  }

  private func isBlank(_ text: String) -> Bool {
    let (statements, errors) = Parser.parse(SourceFile(name: "<stdin>", text: text))
    return statements.isEmpty && errors.isEmpty
  }

  /// True while the parser says only that the input ended too early.
  private func needsMore(_ text: String) -> Bool {
    let (_, errors) = Parser.parse(SourceFile(name: "<stdin>", text: text))
    return errors.contains { $0.isIncompleteInput }
  }

  /// Runs one entry (clauses or a command); Ctrl-C during it cancels only this entry.
  @discardableResult
  func execute(_ text: String) -> Session.Status {
    let trimmed = text.drop { $0 == " " || $0 == "\t" }
    let file = SourceFile(name: "<stdin>", text: String(trimmed), firstLine: lineNumber)
    lineNumber += text.split(separator: "\n", omittingEmptySubsequences: false).count
    // A Ctrl-C pressed after Enter, even before evaluation starts, stops this entry (the front
    // end's `interruption`): the flag is cleared only once the entry is done (and by the line
    // reader at the prompt).
    commands.entryStarts()
    let status = session.run(file)
    // Each entry's JSON answers are a document of their own.
    session.endDocument()
    commands.entryDone(succeeded: status == .ok || status == .exit)
    _ = dq_take_interrupt()
    return status
  }
}
