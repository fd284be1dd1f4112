/// The shell's side of the one command table: the terminal's own commands (history, the
/// editor, the tutorial, `.output`, `.timing`), and `Commands`, the front end that scripts and
/// the shell give their session (where answers and messages go, `.output` redirection).
import CSupport
import DQ

/// The front end of a script run or the shell, bound to one session: answers go to `write`
/// (or the `.output` file), messages to `writeError`, the tutorial is told each answer and
/// `.timing` each finished query; the shell's commands read and change its state.
public final class Commands: FrontEnd {
  public let session: Session
  /// Where answers and command output go now (`.output` can point it at a file).
  private var destination: (String) -> Void
  public var writeError: (String) -> Void
  /// Where errors and warnings go; by default rendered (without colour) to `writeError`.
  public var reportDiagnostic: ((Diagnostic) -> Void)?
  /// True in the interactive shell: its own commands run, and Ctrl-C stops a query.
  public var isShell = false
  /// Shell state the commands read and change.
  public var timing = false
  public var history: () -> [String] = { [] }
  public var lastEntry: String?
  /// Runs text as if typed (for `.edit`).
  public var runText: (String) -> Void = { _ in }
  /// The file `.output` writes to, renamed into place when complete.
  private var output: OutputFile?
  /// The `.output` SVG file a drawing went into (it holds one).
  private weak var drawnInto: OutputFile?
  /// Blocks written to standard output before `.output` pointed elsewhere.
  private var stdoutBlocks = 0
  /// True after a write to the `.output` file failed: the rest of that entry's output is
  /// dropped, then answers go to standard output again (see `entryDone`).
  private var outputBroken = false
  /// Set by `outputFailed` handlers that stop the run (a script's): the session stops after
  /// the statement being run, with this status.
  public var failure: Session.Status?
  /// Told when writing to the `.output` file fails. By default the message goes to
  /// `writeError` and answers go back to standard output; a script run stops (status 74).
  public var outputFailed: ((String) -> Void)?
  /// The width of the terminal standard output is, or nil when it is not one (set by `dq`).
  public var terminalWidth: () -> Int? = { nil }
  /// True while `.once` sends the next answer to a file.
  private var once = false
  /// True when dq's standard streams are a person's terminal (the shell `dq` starts there):
  /// `.shell` then gives the command the terminal itself, so an editor or a pager works.
  public var terminalIsOurs = false
  /// Where Graphviz's `dot` is (looked up on PATH when a picture is rendered).
  var findDot: () -> String? = { External.which("dot") }
  /// Whether a person is at a terminal (`.edit` needs one).
  public var interactive = false
  /// True while text from `.edit` runs, so it cannot open the editor again.
  var editing = false
  /// Where the tutorial keeps progress; set before its first use to change it.
  public var tutorialProgressPath: String? = Tutorial.defaultProgressPath()
  /// The tutorial, made on first use. Its lessons and verdicts are for the screen, so they do
  /// not follow `.output` into a file of answers.
  public var tutorial: Tutorial {
    if let made = madeTutorial { return made }
    let made = Tutorial(session: session, progressPath: tutorialProgressPath, write: { [unowned self] in self.stdoutWriter($0) })
    madeTutorial = made
    return made
  }
  private var madeTutorial: Tutorial?
  private let stdoutWriter: (String) -> Void

  public init(session: Session, write: @escaping (String) -> Void, writeError: @escaping (String) -> Void) {
    self.session = session
    self.destination = write
    self.stdoutWriter = write
    self.writeError = writeError
  }

  deinit { output?.discard() }

  /// Makes this the session's front end, with the shell's commands added to the language's.
  public func attach() {
    session.frontEnd = self
    session.commands = Commands.table
  }

  // MARK: - The front end

  public func write(_ text: String) { destination(text) }

  public func report(_ diagnostic: Diagnostic) {
    if let reportDiagnostic { reportDiagnostic(diagnostic) } else { writeError(DiagnosticRenderer(color: false).render(diagnostic)) }
  }

  public var interruption: (() -> Bool)? { isShell ? { dq_interrupt_pending() != 0 } : nil }

  public func answered(_ query: Query, rows: [[Value]]) {
    madeTutorial?.answered(query, rows)
    // `.once FILE`: that answer was the one; the file is complete.
    if once { endOnce() }
  }

  /// Completes the `.once` file and sends answers to standard output again.
  private func endOnce() {
    once = false
    guard let message = finishOutput() else { return }
    if let failed = outputFailed { failed(message) } else { writeError("dq: error: \(message)\n") }
  }

  public func queryFinished() {
    guard timing else { return }
    let t = session.lastTimings
    writeError(
      "Run time: parse and check \(Self.milliseconds(t.parse)), plan \(Self.milliseconds(t.plan)), "
        + "evaluate \(Self.milliseconds(t.evaluate)); \(session.lastDerived) tuples derived\n")
  }

  public var screenWidth: Int? { output == nil ? terminalWidth() : nil }

  public var answersToFile: Bool { output != nil }

  public func tell(_ message: String) {
    if interactive { writeError(message + "\n") }
  }

  /// A picture (`.graph`, `.why --graph`): DOT text where answers go, or into `path`; a path (or
  /// the `.output` file) ending in .svg, .png or .pdf is rendered with Graphviz's `dot`.
  public func draw(_ dot: String, to path: String?) -> CommandOutcome {
    let hint = "install Graphviz (Debian: apt-get install graphviz), or leave out the picture file to get the DOT text"
    if let path {
      if let format = External.pictureFormat(of: path) {
        switch External.render(dot: dot, format: format, to: path, program: findDot()) {
        case .success: return .ok
        case .failure(let f): return .error(f.message + (f.missing ? "; \(hint)" : ""))
        }
      }
      // Any other file gets the DOT text, written as `.output` writes (complete or not at all).
      switch OutputFile.open(path) {
      case .failure(let e): return .ioError(e.message)
      case .success(let file):
        guard file.write(dot) else {
          let message = OutputError(path: file.path, code: file.error).message
          file.discard()
          return .ioError(message)
        }
        return file.commit().map { .ioError($0.message) } ?? .ok
      }
    }
    // `.output FILE.svg`: the SVG text goes into that file, in place of the DOT text.
    if let file = output, let format = External.pictureFormat(of: file.path) {
      guard format == "svg" else {
        return .usage("'.output' holds text, so a \(format.uppercased()) picture goes to its own file: use '--output FILE.\(format)'")
      }
      // Two SVG documents in one file would make neither readable.
      guard drawnInto !== file else {
        return .usage("'\(file.path)' already holds a drawing; start another file with '.output FILE.svg'")
      }
      switch External.render(dot: dot, format: "svg", to: nil, program: findDot()) {
      case .success(let svg): write(svg)
      case .failure(let f): return .error(f.message + (f.missing ? "; \(hint)" : ""))
      }
      drawnInto = file
      return .ok
    }
    session.beginBlock()
    write(dot)
    return .ok
  }

  static func milliseconds(_ d: Duration) -> String {
    let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    return "\((ms * 1000).rounded() / 1000) ms"
  }

  /// The command a name or unique prefix names.
  public func find(_ name: String) -> Command? {
    if case .found(let c) = Commands.table.find(name) { return c }
    return nil
  }

  /// Every command name, for completion.
  public static var names: [String] { table.names }

  // MARK: - Output redirection

  func redirect(to path: String, once: Bool = false) -> CommandOutcome {
    if let failure = finishOutput() { return .ioError(failure) }
    self.once = false
    if once && (path == "stdout" || path.isEmpty) { return .usage("'.once' needs a file name") }
    if path == "stdout" || path.isEmpty { return .ok }
    switch OutputFile.open(path) {
    case .failure(let e):
      return .ioError(e.message)
    case .success(let file):
      output = file
      self.once = once
      stdoutBlocks = session.blocksWritten
      session.blocksWritten = 0
      destination = { [unowned self, file] s in
        guard !file.write(s) else { return }
        let message = OutputError(path: file.path, code: file.error).message
        self.output = nil
        file.discard()
        self.session.blocksWritten = self.stdoutBlocks
        self.outputBroken = true
        self.destination = { _ in }
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
    // The JSON document of the answers written there is complete.
    session.endDocument()
    guard let file = output else { return nil }
    output = nil
    destination = stdoutWriter
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
    destination = stdoutWriter
  }

  /// The `.output` file, where its text ended and how many blocks it had when the current
  /// entry started.
  private var entryMark: (OutputFile, Int, Int)?
}

#if canImport(Glibc)
  import Glibc
#endif

extension Commands {
  /// A handler that needs the shell's state: the session's front end is a `Commands`.
  static func withCommands(_ body: @escaping @Sendable (Commands, String) -> CommandOutcome)
    -> @Sendable (Session, CommandArgument) -> CommandOutcome
  {
    { session, argument in
      guard let c = session.frontEnd as? Commands else { return .error("This command needs dq's shell or script runner") }
      return body(c, argument.text)
    }
  }

  /// The table every listing and dispatch reads: the language's commands with the shell's
  /// inserted where `.help` lists them.
  public static let table: CommandTable = CommandTable.language
    .inserting(
      [
        Command(
          name: "tutorial", usage: ".tutorial [N|reset|off]", summary: "Learn dq: lessons with exercises checked as you go",
          details: "  Progress is kept in ~/.dq_tutorial (DQ_TUTORIAL overrides; empty keeps none).", place: .shell,
          run: withCommands { c, arg in c.tutorial.command(arg) }),
        Command(
          name: "hint", usage: ".hint", summary: "A hint for the tutorial's current exercise", place: .shell,
          run: withCommands { c, _ in c.tutorial.hint() }),
        Command(
          name: "solution", usage: ".solution", summary: "Show a solution to the tutorial's current exercise", place: .shell,
          run: withCommands { c, _ in c.tutorial.solution() }),
        Command(
          name: "skip", usage: ".skip", summary: "Go to the tutorial's next exercise", place: .shell,
          run: withCommands { c, _ in c.tutorial.skip() }),
      ], after: "ast"
    )
    .inserting(
      [
        Command(
          name: "output", usage: ".output FILE|stdout", summary: "Send answers to a file, or back to the screen",
          run: withCommands { c, arg in c.redirect(to: unquote(arg)) }),
        Command(
          name: "once", usage: ".once FILE", summary: "Send only the next query's answers to a file",
          details: "  Written whole (no .maxrows, no fitting), into a temporary file renamed into place.",
          run: withCommands { c, arg in c.redirect(to: unquote(arg), once: true) }),
        Command(
          name: "timing", aliases: ["timer"], usage: ".timing [on|off]", summary: "Show or choose whether to report parse and evaluation time",
          run: withCommands { c, arg in
            switch arg {
            case "": return c.session.show(c.timing ? "on" : "off")
            case "on": c.timing = true
            case "off": c.timing = false
            default: return .usage("Use '.timing on' or '.timing off'")
            }
            return .ok
          }),
        Command(
          name: "show", usage: ".show", summary: "List every setting and its value",
          run: withCommands { c, _ in
            let settings =
              c.session.languageSettings + [
                ("timing", c.timing ? "on" : "off"),
                ("output", c.output.map { c.once ? "\($0.path) (once)" : $0.path } ?? "stdout"),
              ]
            let width = settings.map(\.0.count).max() ?? 0
            return c.session.show(
              settings.map { String(repeating: " ", count: width - $0.0.count) + $0.0 + ": " + $0.1 }.joined(separator: "\n"))
          }),
      ], after: "maxrows"
    )
    .inserting(
      [
        Command(
          name: "history", usage: ".history [N]", summary: "Show the last N entries (default 20)",
          run: withCommands { c, arg in
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
        Command(
          name: "shell", aliases: ["system"], usage: ".shell COMMAND", summary: "Run a command through /bin/sh, as sqlite3 does",
          details:
            "  Its output goes to the terminal (not to the .output file). Scripts may run it too, as sqlite3's\n"
            + "  do: a dq script is a program like a shell script. A non-zero exit status is reported.\n"
            + "  '%' starts a comment unless inside double quotes: .shell date \"+%Y-%m-%d\"",
          run: withCommands { c, arg in c.shell(arg) }),
        Command(
          name: "edit", usage: ".edit", summary: "Edit the previous entry in $VISUAL or $EDITOR, then run it",
          details: "  The edited text is run as if typed, and becomes the entry '.edit' edits next.",
          run: withCommands { c, _ in c.edit() }),
      ], after: "retract")

  /// `.shell COMMAND`: runs it through `/bin/sh -c`; at dq's terminal the command has it to itself,
  /// otherwise its output is passed on to standard output in order with dq's. A non-zero exit
  /// status is said on standard error; it does not stop a script (as in sqlite3).
  func shell(_ command: String) -> CommandOutcome {
    guard !command.isEmpty else { return .usage("'.shell' needs a command, e.g. .shell ls *.dq") }
    guard let status = External.shell(command, terminal: terminalIsOurs, write: stdoutWriter) else {
      return .error("Cannot run '/bin/sh'")
    }
    if status != 0 { writeError("dq: '.shell': the command exited with status \(status)\n") }
    return .ok
  }

  /// `.edit`: the previous entry in the user's editor, then run as if typed.
  func edit() -> CommandOutcome {
    guard !editing else { return .error("'.edit' cannot be run from the text being edited") }
    guard interactive else { return .error("'.edit' needs an interactive session at a terminal") }
    guard let previous = lastEntry else { return .error("Nothing to edit yet: '.edit' edits the previous entry") }
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
    guard case .success(let edited) = SourceReader.readText(path) else { return .error("Cannot read back '\(path)'") }
    editing = true
    defer { editing = false }
    runText(edited)
    return .ok
  }
}

/// Strips one pair of surrounding double quotes.
func unquote(_ s: String) -> String {
  s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") ? String(s.dropFirst().dropLast()) : s
}

extension String {
  func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
