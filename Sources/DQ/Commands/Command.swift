/// One table of dot-commands for scripts and the shell: the language's own (`LanguageCommands`)
/// and those the shell adds for a person at a terminal. `.help` is generated from it.

/// One dot-command.
public struct Command: Sendable {
  /// Where a command may run.
  public enum Place: Sendable, Equatable {
    /// Anywhere: scripts, `-e` text, the shell.
    case both
    /// Only in the interactive shell (history, the editor, the tutorial).
    case shell
  }

  public var name: String
  public var aliases: [String] = []
  public var usage: String
  public var summary: String
  public var details: String = ""
  public var place: Place = .both
  /// Run only when its whole name is typed, never by a prefix: it changes what the session
  /// holds (`.reload`, `.unload`), and it keeps older prefixes (`.rel`) meaning what they did.
  public var wholeNameOnly = false
  public var run: @Sendable (Session, CommandArgument) -> CommandOutcome

  public init(
    name: String, aliases: [String] = [], usage: String, summary: String, details: String = "", place: Place = .both,
    wholeNameOnly: Bool = false, run: @escaping @Sendable (Session, CommandArgument) -> CommandOutcome
  ) {
    (self.name, self.aliases, self.usage, self.summary, self.details, self.place, self.run) =
      (name, aliases, usage, summary, details, place, run)
    self.wholeNameOnly = wholeNameOnly
  }
}

/// The text after a command's name, where it stands in its file: errors in it point there.
public struct CommandArgument: Sendable {
  /// The argument without surrounding spaces.
  public var text: String
  /// The argument's own span (the command's when it is empty).
  public var span: SourceSpan
  /// The span of the whole command line.
  public var commandSpan: SourceSpan
  /// True when `span` is the argument's own (it is not empty and was found in the file).
  public var located: Bool { !text.isEmpty && span != commandSpan }

  public init(text: String, span: SourceSpan, commandSpan: SourceSpan) {
    (self.text, self.span, self.commandSpan) = (text, span, commandSpan)
  }

  /// Text that stands alone (`--why QUERY`, a test), as a file of its own named `name`.
  public init(standalone text: String, name: String) {
    let file = SourceFile(name: name, text: text)
    let span = file.span(from: 0, to: file.bytes.count)
    self.init(text: text, span: span, commandSpan: span)
  }

  /// The argument's last part `rest` (after an option), with its own span.
  func suffix(_ rest: String) -> CommandArgument {
    let count = rest.utf8.count
    let start = max(span.start, span.end - count)
    guard span.file.text(from: start, to: span.end) == rest else { return CommandArgument(text: rest, span: span, commandSpan: commandSpan) }
    return CommandArgument(text: rest, span: span.file.span(from: start, to: span.end), commandSpan: commandSpan)
  }

  /// The argument's words, split at spaces; double quotes keep a file name with spaces whole
  /// (and are not part of the word).
  public var words: [String] {
    var words: [String] = []
    var current = ""
    var quoted = false
    for ch in text {
      if ch == "\"" { quoted.toggle(); continue }
      if ch == " " && !quoted {
        if !current.isEmpty { words.append(current) }
        current = ""
      } else {
        current.append(ch)
      }
    }
    if !current.isEmpty { words.append(current) }
    return words
  }

  /// The argument of the command `.name argument` written at `span`.
  init(command name: String, argument: String, span: SourceSpan) {
    let file = span.file
    // The argument starts after the dot, the name and the blanks that follow it.
    // (psql's `\q` keeps its backslash in the name, in place of the dot.)
    let typed = name.hasPrefix("\\") ? name.utf8.count : 1 + name.utf8.count
    var start = min(span.start + typed, file.bytes.count)
    while start < file.bytes.count, file.bytes[start] == 32 || file.bytes[start] == 9 { start += 1 }
    let end = start + argument.utf8.count
    let fits = end <= file.bytes.count && file.text(from: start, to: end) == argument
    self.init(
      text: argument, span: argument.isEmpty || !fits ? span : file.span(from: start, to: end), commandSpan: span)
  }
}

/// What a command did. The runner turns it into a status a script exits with, reporting the
/// message at the command's argument.
public enum CommandOutcome: Sendable, Equatable {
  case ok
  /// `.quit`: stop reading.
  case exit
  /// Failed while running (exit status 70).
  case error(String)
  /// Given an argument it cannot take, as a bad command-line option is (exit status 64).
  case usage(String)
  /// A file it names cannot be read (exit status 66), as for `dq nofile.dq`.
  case unreadable(String)
  /// Output could not be written (exit status 74).
  case ioError(String)
  /// Failed and already reported why, with this status (a query's syntax errors: 65).
  case reported(Session.Status)
}

/// The commands one session runs, in the order `.help` lists them.
public struct CommandTable: Sendable {
  public private(set) var commands: [Command]

  public init(_ commands: [Command]) { self.commands = commands }

  /// What a name (or prefix) names.
  public enum Lookup {
    case found(Command)
    /// A prefix of several commands' names.
    case ambiguous([String])
    case unknown
  }

  /// The command a name, an alias, or a unique prefix of them names.
  public func find(_ name: String) -> Lookup {
    if let exact = commands.first(where: { $0.name == name || $0.aliases.contains(name) }) { return .found(exact) }
    guard !name.isEmpty else { return .unknown }
    let matches = commands.filter {
      !$0.wholeNameOnly && ($0.name.hasPrefix(name) || $0.aliases.contains { $0.hasPrefix(name) })
    }
    switch matches.count {
    case 0: return .unknown
    case 1: return .found(matches[0])
    default:
      // Each as the user would type it: `.tables` (an alias of .relations) for `.t`.
      return .ambiguous(
        matches.map { c in
          c.name.hasPrefix(name) ? c.name : c.aliases.first { $0.hasPrefix(name) }.map { "\($0) (.\(c.name))" } ?? c.name
        })
    }
  }

  /// The command name (or alias) closest to an unknown `name`, by edit distance: `.relatoins`
  /// gets `relations`.
  public func suggestion(for name: String) -> String? { Suggest.closest(to: name, in: names) }

  /// Every command name and alias, sorted, for completion (after a `.`, so not psql's `\q`).
  public var names: [String] { commands.flatMap { [$0.name] + $0.aliases }.filter { !$0.hasPrefix("\\") }.sorted() }

  /// The table with `more` listed right after the command `name` (at the end when absent).
  public func inserting(_ more: [Command], after name: String) -> CommandTable {
    var list = commands
    let at = list.firstIndex { $0.name == name }.map { $0 + 1 } ?? list.count
    list.insert(contentsOf: more, at: at)
    return CommandTable(list)
  }

  /// `.help`: every command with its summary.
  public var overview: String {
    let width = commands.map(\.usage.count).max() ?? 0
    var out = "Clauses end with '.': facts 'p(a).', rules 'q(X) :- p(X).', queries '?- q(X).'\n\n"
    for cmd in commands {
      out += cmd.usage + String(repeating: " ", count: width - cmd.usage.count + 2) + cmd.summary + "\n"
    }
    out += "\nCommand names may be shortened to any unique prefix (.rel for .relations).\n"
    let aliases = commands.flatMap { c in c.aliases.map { a in (a.hasPrefix("\\") ? a : "." + a) + " = ." + c.name } }
    // Other names, wrapped to a terminal's width.
    var line = "Other names:"
    for (i, a) in aliases.enumerated() {
      let item = " " + a + (i == aliases.count - 1 ? "." : ",")
      if line.count + item.count > 96 {
        out += line + "\n"
        line = " "
      }
      line += item
    }
    if !aliases.isEmpty { out += line + "\n" }
    return out
  }
}

extension Session {
  /// A command name as typed: `.tables`, or psql's `\q` as it is.
  static func spelled(_ name: String) -> String { name.hasPrefix("\\") ? name : "." + name }

  /// "a, b or c".
  static func orList(_ items: [String]) -> String {
    items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + (items.last ?? "")
  }

  /// Runs the command `.name argument` written at `span`.
  func command(_ name: String, _ argument: String, _ span: SourceSpan) -> Status {
    let command: Command
    switch commands.find(name) {
    case .found(let c): command = c
    case .ambiguous(let candidates):
      // A mistake in the input, like a syntax error: exit 65, not 70.
      report(
        Diagnostic(
          .error, .semantic, "Ambiguous command '\(Self.spelled(name))': it could be "
            + Self.orList(candidates.map { "." + $0 }), at: span, hint: "type more of the name"))
      return .staticError
    case .unknown:
      let hint = commands.suggestion(for: name).map { "did you mean '\(Self.spelled($0))'? ('.help' lists the commands)" }
      report(Diagnostic(.error, .semantic, "Unknown command '\(Self.spelled(name))'", at: span, hint: hint ?? "'.help' lists the commands"))
      return .staticError
    }
    if command.place == .shell && !frontEnd.isShell {
      report(Diagnostic(.error, .semantic, "'.\(command.name)' works only in the interactive shell", at: span))
      return .usageError
    }
    let argument = CommandArgument(command: name, argument: argument, span: span)
    func fail(_ message: String, _ kind: Diagnostic.Kind, _ status: Status) -> Status {
      report(Diagnostic(.error, kind, message, at: argument.span))
      return status
    }
    switch command.run(self, argument) {
    case .ok: return .ok
    case .exit: return .exit
    case .error(let m): return fail(m, .runtime, .runtimeError)
    case .usage(let m): return fail(m, .semantic, .usageError)
    case .unreadable(let m): return fail(m, .runtime, .unreadableInput)
    case .ioError(let m): return fail(m, .runtime, .ioError)
    case .reported(let status): return status
    }
  }
}
