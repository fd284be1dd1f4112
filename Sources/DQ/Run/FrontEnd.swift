/// What a front end (the command line, the shell, the tutorial, a test) provides a session:
/// where answers and messages go and how to ask whether the user wants the query stopped.
/// The session holds one (`Session.frontEnd`) and calls nothing else outside itself.
public protocol FrontEnd: AnyObject {
  /// Answers and command output (standard output, or the shell's `.output` file).
  func write(_ text: String)
  /// Errors and warnings.
  func report(_ diagnostic: Diagnostic)
  /// Polled while a query runs and while its answers print; true stops it. Nil: never stopped
  /// (a script, where Ctrl-C ends dq).
  var interruption: (() -> Bool)? { get }
  /// True for the interactive shell: commands meant for a person at a terminal may run.
  var isShell: Bool { get }
  /// A query's sorted answers, before they are printed (the tutorial checks them).
  func answered(_ query: Query, rows: [[Value]])
  /// A query finished, printed or failed (the shell's `.timing` reports then).
  func queryFinished()
  /// A message for a person at a terminal (`.clear` says what it did), never mixed with answers.
  func tell(_ message: String)
  /// Set when the front end itself failed (a script's `.output` file could not be written):
  /// the run stops after the statement being run, with this status.
  var failure: Session.Status? { get }
  /// The width of the terminal answers go to; nil when they go to a file or a pipe (tables
  /// are then fitted to it only when `.width` asks).
  var screenWidth: Int? { get }
  /// True while answers go to a file (`.output`, `.once`): `.maxrows` does not cut them.
  var answersToFile: Bool { get }
  /// A picture in Graphviz DOT (`.graph`, `.why --graph`): to `path` when given, else where
  /// answers go. By default written as DOT text; dq's shell and script runner render it with
  /// `dot` for a picture file (`.svg`, `.png`, `.pdf`).
  func draw(_ dot: String, to path: String?) -> CommandOutcome
}

extension FrontEnd {
  public var interruption: (() -> Bool)? { nil }
  public var isShell: Bool { false }
  public func answered(_ query: Query, rows: [[Value]]) {}
  public func queryFinished() {}
  public func tell(_ message: String) {}
  public var failure: Session.Status? { nil }
  public var screenWidth: Int? { nil }
  public var answersToFile: Bool { false }
  public func draw(_ dot: String, to path: String?) -> CommandOutcome {
    guard path == nil else { return .error("Drawing to a file needs dq's shell or script runner") }
    write(dot)
    return .ok
  }
}

/// A front end that keeps what it is given: the answers as text and the diagnostics, for
/// tests, the expectation checker and runs whose output nobody reads.
public final class Transcript: FrontEnd {
  public var output = ""
  public var diagnostics: [Diagnostic] = []
  public init() {}
  public func write(_ text: String) { output += text }
  public func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }
}
