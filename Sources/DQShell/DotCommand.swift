/// The dot-commands: a table of names, usage and help, dispatched by unique prefix.
import DQ

/// What a command did.
public enum CommandOutcome: Equatable, Sendable {
  case ok
  case error(String)
  /// The command was given arguments it does not take (a script stops with status 64).
  case usage(String)
  /// Output could not be written (a script stops with status 74).
  case ioError(String)
  case exit
  /// The session itself runs this command (it is part of the language's scripts).
  case session
}

/// One dot-command.
public struct DotCommand: Sendable {
  public var name: String
  public var aliases: [String] = []
  public var usage: String
  public var summary: String
  public var details: String = ""
  public var run: @Sendable (Commands, String) -> CommandOutcome
}

/// The commands of a shell or script run, bound to one session and output.
public final class Commands {
  public let session: Session
  /// Where answers and command output go (`.output` can point it at a file).
  public var write: (String) -> Void
  public var writeError: (String) -> Void
  /// Shell state the commands read and change.
  public var timing = false
  public var history: () -> [String] = { [] }
  public var lastEntry: String?
  /// Runs text as if typed (for `.edit`).
  public var runText: (String) -> Void = { _ in }
  /// The file `.output` writes to, renamed into place when complete.
  private var output: OutputFile?
  /// Blocks written to standard output before `.output` pointed elsewhere.
  private var stdoutBlocks = 0
  /// True after a write to the `.output` file failed: the rest of that entry's output is
  /// dropped, then answers go to standard output again (see `entryDone`).
  private var outputBroken = false
  /// Told when writing to the `.output` file fails. By default the message goes to
  /// `writeError` and answers go back to standard output; a script run stops (status 74).
  public var outputFailed: ((String) -> Void)?
  /// Whether a person is at a terminal (`.edit` needs one).
  public var interactive = false
  /// True while text from `.edit` runs, so it cannot open the editor again.
  var editing = false
  /// Where the tutorial keeps progress; set before its first use to change it.
  public var tutorialProgressPath: String? = Tutorial.defaultProgressPath()
  /// The tutorial, made on first use. Its lessons and verdicts are for the screen, so they do
  /// not follow `.output` into a file of answers.
  public lazy var tutorial = Tutorial(
    session: session, progressPath: tutorialProgressPath, write: { [unowned self] in self.stdoutWriter($0) })
  private let stdoutWriter: (String) -> Void

  public init(session: Session, write: @escaping (String) -> Void, writeError: @escaping (String) -> Void) {
    self.session = session
    self.write = write
    self.stdoutWriter = write
    self.writeError = writeError
  }

  deinit { output?.discard() }

  /// Installs the commands as the session's handler for `.name` lines in scripts and the shell,
  /// and routes the session's output through `write`, so `.output` redirects answers.
  public func attach() {
    session.write = { [unowned self] in self.write($0) }
    session.commandHandler = { [unowned self] name, argument, span in
      guard let command = self.find(name) else { return .unknown }
      switch command.run(self, argument) {
      case .ok: return .handled
      case .exit: return .exit
      case .session: return .delegated(command.name)
      case .error(let message): return .failed(Diagnostic(.error, .runtime, message, at: span))
      case .usage(let message): return .misused(Diagnostic(.error, .semantic, message, at: span))
      case .ioError(let message): return .failedWith(Diagnostic(.error, .runtime, message, at: span), .ioError)
      }
    }
    session.afterQuery = { [unowned self] in
      guard self.timing else { return }
      let t = self.session.lastTimings
      self.writeError(
        "Run time: parse and check \(Self.milliseconds(t.parse)), plan \(Self.milliseconds(t.plan)), "
          + "evaluate \(Self.milliseconds(t.evaluate)); \(self.session.lastDerived) tuples derived\n")
    }
  }

  static func milliseconds(_ d: Duration) -> String {
    let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    return "\((ms * 1000).rounded() / 1000) ms"
  }

  /// The command a name or unique prefix names.
  public func find(_ name: String) -> DotCommand? {
    if let exact = Commands.table.first(where: { $0.name == name || $0.aliases.contains(name) }) { return exact }
    let matches = Commands.table.filter { $0.name.hasPrefix(name) || $0.aliases.contains { $0.hasPrefix(name) } }
    return matches.count == 1 ? matches[0] : nil
  }

  /// Every command name, for completion.
  public static var names: [String] { table.flatMap { [$0.name] + $0.aliases }.sorted() }

  // MARK: - Output redirection

  func redirect(to path: String) -> CommandOutcome {
    if let failure = finishOutput() { return .ioError(failure) }
    if path == "stdout" || path.isEmpty { return .ok }
    switch OutputFile.open(path) {
    case .failure(let e):
      return .ioError(e.message)
    case .success(let file):
      output = file
      stdoutBlocks = session.blocksWritten
      session.blocksWritten = 0
      write = { [unowned self, file] s in
        guard !file.write(s) else { return }
        let message = OutputError(path: file.path, code: file.error).message
        self.output = nil
        file.discard()
        self.session.blocksWritten = self.stdoutBlocks
        self.outputBroken = true
        self.write = { _ in }
        if let failed = self.outputFailed {
          failed(message)
        } else {
          self.writeError("dq: error: \(message); answers go to the screen again\n")
        }
      }
      return .ok
    }
  }

  /// Completes the `.output` file (renamed over the target; with `keep` false it is dropped and
  /// the target keeps its old contents) and sends answers to standard output again. Returns nil,
  /// or the message saying why the file could not be written.
  @discardableResult
  public func finishOutput(keep: Bool = true) -> String? {
    guard let file = output else { return nil }
    output = nil
    write = stdoutWriter
    session.blocksWritten = stdoutBlocks
    if !keep {
      file.discard()
      return nil
    }
    return file.commit()?.message
  }

  /// Called before each entry of the shell.
  public func entryStarts() {
    entryMark = output.flatMap { file in file.mark().map { (file, $0, session.blocksWritten) } }
  }

  /// Called after each entry. When it failed or was interrupted, what it wrote to the `.output`
  /// file is taken back; once a failed `.output` write has dropped the rest of an answer,
  /// answers go to standard output again.
  public func entryDone(succeeded: Bool) {
    if !succeeded, let (file, offset, blocks) = entryMark, file === output {
      file.rollBack(to: offset)
      session.blocksWritten = blocks
    }
    entryMark = nil
    guard outputBroken else { return }
    outputBroken = false
    write = stdoutWriter
  }

  /// The `.output` file, where its text ended and how many blocks it had when the current
  /// entry started.
  private var entryMark: (OutputFile, Int, Int)?
}

#if canImport(Glibc)
  import Glibc
#endif

extension Commands {
  /// The table every listing and dispatch reads. ORDER: as shown by `.help`.
  public static let table: [DotCommand] = [
    DotCommand(
      name: "help", usage: ".help [COMMAND]", summary: "List the commands, or explain one",
      run: { c, arg in
        if !arg.isEmpty {
          let name = arg.hasPrefix(".") ? String(arg.dropFirst()) : arg
          guard let cmd = c.find(name) else { return .error("No command '.\(name)'; '.help' lists them") }
          c.write("\(cmd.usage)\n  \(cmd.summary).\n" + (cmd.details.isEmpty ? "" : cmd.details + "\n"))
          return .ok
        }
        let width = table.map(\.usage.count).max() ?? 0
        var out = "Clauses end with '.': facts 'p(a).', rules 'q(X) :- p(X).', queries '?- q(X).'\n\n"
        for cmd in table {
          out += cmd.usage + String(repeating: " ", count: width - cmd.usage.count + 2) + cmd.summary + "\n"
        }
        out += "\nCommand names may be shortened to any unique prefix (.rel for .relations).\n"
        c.write(out)
        return .ok
      }),
    DotCommand(
      name: "quit", aliases: ["exit"], usage: ".quit", summary: "Leave dq (Ctrl-D also does)",
      run: { _, _ in .exit }),
    DotCommand(
      name: "load", aliases: ["read"], usage: ".load FILE", summary: "Run the clauses of a file",
      details: "  Facts and rules join the session; queries in the file print their answers.\n  A relative FILE is looked for beside the script first.",
      run: { _, _ in .session }),
    DotCommand(
      name: "import", usage: ".import [--skip N] FILE RELATION", summary: "Load facts from a TSV file (CSV if it ends in .csv)",
      details: "  One fact per line; numbers and dates are recognised, anything else is a symbol.\n  A relative FILE is looked for beside the script first.",
      run: { _, _ in .session }),
    DotCommand(
      name: "relations", usage: ".relations [PATTERN]", summary: "List relations: arity, columns, rows, description",
      run: { c, arg in
        do throws(EvaluationError) {
          let listing = try c.session.relationListing(matching: arg)
          c.session.beginBlock()
          c.write(listing)
          return .ok
        } catch {
          return .error(error.message)
        }
      }),
    DotCommand(
      name: "schema", usage: ".schema RELATION", summary: "Show a relation's declaration and rules",
      run: { c, arg in
        guard let r = c.session.schema[arg] else {
          let hint = Suggest.closest(to: arg, in: Array(c.session.schema.relations.keys)).map { "; did you mean '\($0)'?" } ?? ""
          return .error(arg.isEmpty ? "'.schema' needs a relation name" : "No relation '\(arg)'\(hint)")
        }
        c.session.beginBlock()
        var out = ".decl \(r.name)(\(r.columns.joined(separator: ", ")))"
        if !r.description.isEmpty { out += " \"\(r.description)\"" }
        out += "\n"
        for rule in c.session.rules where rule.head.name == arg { out += "\(rule)\n" }
        c.write(out)
        return .ok
      }),
    DotCommand(
      name: "why", usage: ".why [--depth N] QUERY", summary: "Explain each answer down to facts and their sources",
      details: "  Shows the rule behind each derived tuple, recursively, and the sentence each fact cites;\n  the tree stops after N levels of rules (6 by default).",
      run: { _, _ in .session }),
    DotCommand(
      name: "steps", usage: ".steps QUERY", summary: "Show how the answer is computed: strata and semi-naive rounds",
      details: "  Lists the strata the query needs and, for each recursive one, the tuples each round adds.",
      run: { _, _ in .session }),
    DotCommand(
      name: "plan", usage: ".plan QUERY", summary: "Show the evaluation plan: join order, indexes, delta versions",
      run: { _, _ in .session }),
    DotCommand(
      name: "memory", usage: ".memory [PATTERN]", summary: "Show the bytes each stored relation holds, per tuple",
      details: "  Rows, the deduplication table and the indexes built so far; derived relations are stored\n  once a query has needed them.",
      run: { _, _ in .session }),
    DotCommand(
      name: "limit", usage: ".limit [tuples N | time SECONDS | memory SIZE]",
      summary: "Show the limits of each query, or set one (0: no limit)",
      details: "  tuples: distinct tuples a query may store (--max-tuples); time: seconds it may run\n  (--timeout); memory: bytes dq may hold while it runs (--memory; 4G, 800M, 25%).",
      run: { _, _ in .session }),
    DotCommand(
      name: "tokens", usage: ".tokens TEXT", summary: "Show the tokens the lexer reads in TEXT", run: { _, _ in .session }),
    DotCommand(
      name: "ast", usage: ".ast TEXT", summary: "Show the syntax tree the parser builds from TEXT", run: { _, _ in .session }),
    DotCommand(
      name: "tutorial", usage: ".tutorial [N|reset|off]", summary: "Learn dq: lessons with exercises checked as you go",
      details: "  Progress is kept in ~/.dq_tutorial (DQ_TUTORIAL overrides; empty keeps none).",
      run: { c, arg in c.tutorial.command(arg) }),
    DotCommand(name: "hint", usage: ".hint", summary: "A hint for the tutorial's current exercise", run: { c, _ in c.tutorial.hint() }),
    DotCommand(
      name: "solution", usage: ".solution", summary: "Show a solution to the tutorial's current exercise",
      run: { c, _ in c.tutorial.solution() }),
    DotCommand(name: "skip", usage: ".skip", summary: "Go to the tutorial's next exercise", run: { c, _ in c.tutorial.skip() }),
    DotCommand(
      name: "format", aliases: ["mode"], usage: ".format table|tsv|csv|json", summary: "Choose how answers are printed",
      run: { _, _ in .session }),
    DotCommand(
      name: "output", usage: ".output FILE|stdout", summary: "Send answers to a file, or back to the screen",
      run: { c, arg in c.redirect(to: unquote(arg)) }),
    DotCommand(
      name: "timing", usage: ".timing on|off", summary: "Show parse and evaluation time and tuples derived",
      run: { c, arg in
        switch arg {
        case "on": c.timing = true
        case "off": c.timing = false
        default: return .usage("Use '.timing on' or '.timing off'")
        }
        return .ok
      }),
    DotCommand(
      name: "clear", usage: ".clear", summary: "Forget the facts and rules added in this session; keep the dataset",
      run: { c, _ in
        c.session.reset()
        // A message, not an answer: it must not mix with CSV or TSV answers on stdout.
        if c.interactive { c.writeError("Cleared: back to the built-in dataset.\n") }
        return .ok
      }),
    DotCommand(
      name: "retract", usage: ".retract FACT", summary: "Remove one fact, e.g. .retract parent(alice, bob).",
      run: { c, arg in
        switch c.session.retract(arg) {
        case .success(true): return .ok
        case .success(false): return .error("'\(arg)' is not a stored fact")
        case .failure(let e): return .error(e.all.map(\.message).joined(separator: "; "))
        }
      }),
    DotCommand(
      name: "history", usage: ".history [N]", summary: "Show the last N entries (default 20)",
      run: { c, arg in
        var n = 20
        if !arg.isEmpty {
          guard let given = Int(arg), given >= 0 else {
            return .usage("'.history' takes a number of entries (0 or more), not '\(arg)'")
          }
          n = given
        }
        let h = c.history()
        let start = h.count - min(n, h.count)
        for i in start..<h.count { c.write("\(String(i + 1).leftPadded(5))  \(h[i])\n") }
        return .ok
      }),
    DotCommand(
      name: "edit", usage: ".edit", summary: "Edit the previous entry in $VISUAL or $EDITOR, then run it",
      details: "  The edited text is run as if typed, and becomes the entry '.edit' edits next.",
      run: { c, _ in
        guard !c.editing else { return .error("'.edit' cannot be run from the text being edited") }
        guard c.interactive else { return .error("'.edit' needs an interactive session at a terminal") }
        guard let previous = c.lastEntry else { return .error("Nothing to edit yet: '.edit' edits the previous entry") }
        let editor = getenv("VISUAL").map { String(cString: $0) } ?? getenv("EDITOR").map { String(cString: $0) } ?? "vi"
        var template = Array("/tmp/dq-edit-XXXXXX.dq".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { p in p.baseAddress.map { mkstemps($0, 3) } ?? -1 }
        guard fd >= 0 else { return .error("Cannot create a temporary file") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var text = previous + "\n"
        text.withUTF8 { _ = Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(path) }
        guard system("\(editor) '\(path)'") == 0 else { return .error("The editor '\(editor)' failed") }
        guard let edited = readWholeFile(path) else { return .error("Cannot read back '\(path)'") }
        c.editing = true
        defer { c.editing = false }
        c.runText(edited)
        return .ok
      }),
  ]
}

/// Strips one pair of surrounding double quotes.
func unquote(_ s: String) -> String {
  s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") ? String(s.dropFirst().dropLast()) : s
}

func readWholeFile(_ path: String) -> String? {
  guard let f = fopen(path, "rb") else { return nil }
  defer { fclose(f) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let n = fread(&chunk, 1, chunk.count, f)
    if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
    if n < chunk.count { break }
  }
  return String(decoding: bytes, as: UTF8.self)
}

extension String {
  func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
