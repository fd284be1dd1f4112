/// The facade every front end drives: it holds the program (`Program.swift`), what has been
/// computed from it (`EvaluationState.swift`) and the runner that turns statements into output
/// (`Runner.swift`); the commands it runs are in `Commands/`, the warnings in `Advice/`.
public final class Session {
  /// Settings that callers may change between runs.
  public struct Options: Sendable {
    public var format: OutputFormat = .table
    /// Print column names (`.headers on|off`).
    public var headers = true
    /// The table format's width: nil fits tables to the terminal answers go to (none for
    /// files and pipes); 0 never cuts; N fits them into N columns (`.width`).
    public var width: Int? = nil
    /// Rows a format for people (table, markdown, line) shows before "… N more rows"; 0: all
    /// (`.maxrows`). Answers sent to a file always print whole.
    public var maxRows = 0
    /// Tuples one query may derive before it is stopped (0: no limit).
    public var maxTuples = 50_000_000
    /// Seconds one query may run before it is stopped (0: no limit).
    public var timeout: Double = 60
    /// Bytes the engine may hold while a query runs before it is stopped (0: no limit); by
    /// default half the machine's memory.
    public var maxMemory = Memory.defaultLimit
    /// Threads a round of evaluation may use (`--threads`, `.limit threads`); by default every
    /// processor this process may run on; 1: single-threaded. Answers do not depend on it.
    public var threads = ParallelRound.defaultThreads
    /// The fewest delta rows a rule's round needs to be split across threads (tests lower it
    /// so that parallel rounds run on small inputs).
    var parallelMinimumDelta = ParallelRound.defaultMinimumDelta
    /// The fewest bytes of rows a probed relation needs before loops announce their probes of
    /// it ahead (`Budget.probeAheadFrom`; tests set 0, so the announcing path runs on small
    /// inputs).
    var probeAheadFrom = Budget.defaultProbeAheadFrom
    /// Values of derivations a thread of a parallel round keeps before they are appended
    /// (`Budget.parallelWaveValues`; tests lower it so that rounds run in many waves).
    var parallelWaveValues = ParallelRound.defaultWaveValues
    /// Rows a thread's part of a wave needs to count in the next wave's split
    /// (`Budget.parallelBalanceRows`; tests set 1).
    var parallelBalanceRows = ParallelRound.defaultBalanceRows
    /// How many times cheaper a delta version's other order must be estimated to run instead
    /// (`Budget.otherOrderMargin`; tests set 0, so it runs whenever it can).
    var otherOrderMargin = Budget.defaultOtherOrderMargin
    /// Warn about relations that have no facts and no rules.
    public var warnings = true
    /// Which engine computes answers (`--engine`, `.engine`); see `SQL/EngineChoice.swift`.
    public var engine: EngineChoice = .native
    public init() {}
  }

  /// How a run ended, with the sysexits code a script should exit with.
  public enum Status: Sendable, Equatable {
    case ok
    /// Syntax or semantic errors: nothing of the input was run.
    case staticError
    /// An error while running: what came before it stays.
    case runtimeError
    /// A command asked to stop (`.quit`).
    case exit
    /// A dot-command given an argument it cannot take (`.format xml`, `.why --depth x`): the
    /// same mistake as a bad command-line option, so the same exit status.
    case usageError
    /// A file a command names cannot be read (`.load nofile.dq`), as for `dq nofile.dq`.
    case unreadableInput
    /// Output could not be written (a full disk, an unwritable `.output` file).
    case ioError
    /// A database server (`--engine postgres`) could not be reached or used.
    case unavailable

    public var exitCode: Int32 {
      switch self {
      case .ok, .exit: return 0
      case .usageError: return 64
      case .staticError: return 65
      case .unreadableInput: return 66
      case .unavailable: return 69
      case .runtimeError: return 70
      case .ioError: return 74
      }
    }
  }

  public var options: Options
  /// Where answers and messages go, and how to ask whether to stop (the command line, the
  /// shell, the tutorial, a test). A `Transcript` until a front end is given.
  public var frontEnd: any FrontEnd = Transcript()
  /// The commands `.name` lines run: the language's, plus the shell's in the shell.
  public var commands: CommandTable = .language

  /// The open PostgreSQL engine (made on the first query that needs it) and the choice it
  /// was made for.
  var postgres: (engine: PostgresEngine, choice: EngineChoice)?
  /// With the `.sqlScript` engine (`dq --sql`): the script the queries so far make.
  public internal(set) var sqlScript: SQLScript?

  /// The clauses and schema (see `Program`).
  var program = Program()
  /// What is computed and what is stale (see `EvaluationState`).
  var evaluation = EvaluationState()
  public internal(set) var database = Database()
  public internal(set) var schema: Schema {
    get { program.schema }
    _modify { yield &program.schema }
  }
  /// Every rule in the order it was added.
  public internal(set) var rules: [Rule] {
    get { program.rules }
    _modify { yield &program.rules }
  }
  /// The relations that belong to the built-in dataset.
  public internal(set) var datasetRelations: Set<String> {
    get { program.datasetRelations }
    _modify { yield &program.datasetRelations }
  }

  /// True in the REPL, where any query may be followed by edits: a stratum computed from
  /// scratch is then readied for them (`prepareForEdits`). Scripts ready one only when a later
  /// statement edits (`TextState.editsFollow`).
  public var expectsEdits = false

  /// Where the runner is in the text it runs (see `TextState`).
  var reading = TextState()
  /// Blocks written so far to the current destination; the shell's `.output` saves and
  /// restores it, since separators belong between blocks written to the same place.
  public var blocksWritten = 0

  /// Starts a block of output (answers, a listing, an explanation): blocks are separated by
  /// one empty line.
  public func beginBlock() {
    // Text that is not an answer cannot stand inside the JSON document: it ends it.
    endDocument()
    // CSV ends every line with CRLF (RFC 4180), the separating one too.
    if blocksWritten > 0 { write(options.format == .csv ? "\r\n" : "\n") }
    blocksWritten += 1
  }

  /// True while the JSON document of this run's answers is open (its `[` written).
  var documentOpen = false

  /// Closes the JSON document of answers, if one is open: `dq` calls it at the end of a run,
  /// the shell after each entry, `.output` and `.format` before they change where or how
  /// answers print.
  public func endDocument() {
    guard documentOpen else { return }
    documentOpen = false
    write("\n]\n")
  }
  /// Tuples derived by the last query's evaluation, for `.timing`.
  public internal(set) var lastDerived = 0

  /// Sends answers or command output to the front end.
  func write(_ text: String) { frontEnd.write(text) }
  /// Sends an error or a warning to the front end.
  func report(_ diagnostic: Diagnostic) { frontEnd.report(diagnostic) }

  /// Where the time of the last run went, for `.timing`.
  public struct Timings: Sendable {
    /// Lexing, parsing and the static checks.
    public var parse: Duration = .zero
    /// Compiling queries into plans.
    public var plan: Duration = .zero
    /// Bringing relations up to date and running the queries.
    public var evaluate: Duration = .zero
  }
  public internal(set) var lastTimings = Timings()

  public init(options: Options = Options(), loadDataset: Bool = true) {
    self.options = options
    if loadDataset { self.loadDataset() }
  }

  /// Forgets everything added since start-up, reloading the dataset if it was loaded.
  public func reset() {
    let hadDataset = datasetLoaded
    database = Database()
    program = Program()
    evaluation = EvaluationState()
    blocksWritten = 0
    if hadDataset { loadDataset() }
  }

  var datasetLoaded = false

  /// Set while `.steps` runs: receives the description of each stratum and round.
  var tracing: ((String) -> Void)?
  /// Tuples shown per round by `.steps`.
  static let stepsShown = 8
}
