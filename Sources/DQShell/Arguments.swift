/// The `dq` command line, parsed into a value: the options, the files and texts to run, and
/// what to do. The same parser reads the `% options:` lines of `dq --check`.
import DQ

public struct Arguments: Sendable {
  /// What the command line asks for besides running.
  public enum Action: Sendable, Equatable { case run, help, version }

  public var action = Action.run
  public var files: [String] = []
  public var texts: [String] = []
  public var options = Session.Options()
  public var loadDataset = true
  public var list = false
  public var why: [String] = []
  /// `--graph QUERY`: the query's answers drawn in Graphviz DOT.
  public var graph: [String] = []
  public var depth = 6
  /// `--export RELATION FILE`: relations written to files after the inputs run.
  public var exports: [(relation: String, file: String)] = []
  public var check = false
  public var tutorial = false
  /// `-i`: run the files and texts, then stay in the shell with what they defined.
  public var interactive = false
  /// Whether the start-up file (`~/.dqrc`, or `$DQRC`) runs.
  public enum StartupFile: Sendable, Equatable {
    /// Before the shell starts (`dq`, `dq -i`), not for scripts, `-e` text or piped input.
    case whenInteractive
    /// `--no-rc`: never.
    case skip
    /// `--rc`: before whatever runs, scripts included.
    case always
  }
  public var startupFile = StartupFile.whenInteractive
  /// `--sql`: print the program as one PostgreSQL script instead of running its queries.
  public var sql = false

  public init() {}

  /// A command line that cannot be run (exit status 64).
  public enum Problem: Error, Sendable, Equatable {
    case unknownOption(String)
    case missingValue(option: String)
    /// `reason` says what the option takes, in the command line's words.
    case badValue(option: String, value: String, reason: String)

    /// The message `dq` prints after "dq: error: ".
    public var message: String {
      switch self {
      case .unknownOption(let o): return "unknown option '\(o)'"
      case .missingValue(let o): return "option '\(o)' needs a value"
      case .badValue(_, _, let reason): return reason
      }
    }
  }

  /// The arguments, or the first problem with them. `--help` and `--version` end the parsing.
  public static func parse(_ argv: [String]) -> Result<Arguments, Problem> {
    let (arguments, problems) = parseAll(argv)
    if let first = problems.first { return .failure(first) }
    return .success(arguments)
  }

  /// The arguments, on top of `start`, with every problem found on the way (an option in
  /// error is left out).
  public static func parseAll(_ argv: [String], onto start: Arguments = Arguments()) -> (Arguments, [Problem]) {
    var a = start
    var problems: [Problem] = []
    var i = 0
    var onlyFiles = false
    while i < argv.count {
      var arg = argv[i]
      var inline: String? = nil
      if !onlyFiles, arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
        inline = String(arg[arg.index(after: eq)...])
        arg = String(arg[..<eq])
      }
      /// The option's value: after `=`, or the next argument.
      func take() -> String? {
        if let inline { return inline }
        guard i + 1 < argv.count else {
          problems.append(.missingValue(option: arg))
          return nil
        }
        i += 1
        return argv[i]
      }
      /// Reads a value with a `Limits` parser into `set`.
      func limit<T>(_ parse: (String) -> Result<T, Limits.OptionError>, _ set: (T) -> Void) {
        guard let text = take() else { return }
        switch parse(text) {
        case .success(let v): set(v)
        case .failure(let e): problems.append(.badValue(option: arg, value: text, reason: e.message))
        }
      }
      switch arg {
      case _ where onlyFiles: a.files.append(arg)
      case "--": onlyFiles = true
      case "-h", "--help":
        a.action = .help
        return (a, problems)
      case "--version":
        a.action = .version
        return (a, problems)
      case "-e", "--eval", "-c", "--command": if let t = take() { a.texts.append(t) }
      case "-i", "--interactive": a.interactive = true
      case "--rc": a.startupFile = .always
      case "--no-rc": a.startupFile = .skip
      case "-f", "--format":
        guard let f = take() else { break }
        if let format = OutputFormat(rawValue: f) {
          a.options.format = format
        } else {
          problems.append(.badValue(option: arg, value: f, reason: "unknown format '\(f)' (use \(OutputFormat.names))"))
        }
      case "--no-dataset": a.loadDataset = false
      case "--sql": a.sql = true
      case "--engine":
        guard let e = take() else { break }
        switch e {
        case "native": a.options.engine = .native
        case "postgres", "postgresql":
          if case .postgres = a.options.engine { break }
          a.options.engine = .postgres(conninfo: "", schema: nil)
        default: problems.append(.badValue(option: arg, value: e, reason: "unknown engine '\(e)' (use native or postgres)"))
        }
      case "--db":
        guard let c = take() else { break }
        if case .postgres(_, let schema) = a.options.engine {
          a.options.engine = .postgres(conninfo: c, schema: schema)
        } else if a.sql {
          // `--sql --db CONNINFO`: the script reads the server's tables (see EngineChoice).
          a.options.engine = .postgres(conninfo: c, schema: nil)
        } else {
          problems.append(.badValue(option: arg, value: c, reason: "'--db' needs '--engine postgres' (or '--sql') before it"))
        }
      case "--db-schema":
        guard let n = take() else { break }
        if case .postgres(let conninfo, _) = a.options.engine, !n.isEmpty {
          a.options.engine = .postgres(conninfo: conninfo, schema: n)
        } else {
          problems.append(.badValue(option: arg, value: n, reason: "'--db-schema' needs '--engine postgres' before it and a name"))
        }
      case "--list": a.list = true
      case "--check": a.check = true
      case "--tutorial": a.tutorial = true
      case "--why": if let t = take() { a.why.append(t) }
      case "--graph": if let t = take() { a.graph.append(t) }
      case "--export":
        // Two values: the relation (after `=` or next) and the file.
        guard let r = take() else { break }
        guard i + 1 < argv.count else {
          problems.append(.missingValue(option: arg))
          break
        }
        i += 1
        a.exports.append((r, argv[i]))
      case "--depth": limit(Limits.parseDepth) { a.depth = $0 }
      case "--no-warnings": a.options.warnings = false
      case "--max-tuples": limit(Limits.parseMaxTuples) { a.options.maxTuples = $0 }
      case "--memory": limit(Limits.parseMemory) { a.options.maxMemory = $0 }
      case "--threads": limit(Limits.parseThreads) { a.options.threads = $0 }
      case "--timeout": limit(Limits.parseTimeout) { a.options.timeout = $0 }
      default:
        if arg.hasPrefix("-") && arg != "-" { problems.append(.unknownOption(arg)) } else { a.files.append(arg) }
      }
      i += 1
    }
    return (a, problems)
  }
}
