/// The seam between the shell and where its lines come from (libedit, a pipe, or a test).
public enum LineInput: Equatable, Sendable {
  case line(String)
  /// Ctrl-C at the prompt: drop the partial input.
  case interrupted
  /// Ctrl-D on an empty line, or the end of the input.
  case end
}

/// Reads lines for the shell.
public protocol LineReader: AnyObject {
  /// Reads one line (without its newline), showing `prompt` when interactive.
  func readLine(prompt: String) -> LineInput
  /// Records a complete entry (a whole clause or command) in the history.
  func addHistory(_ entry: String)
  /// The entries recorded, oldest first.
  var history: [String] { get }
  /// Whether a person is typing (prompts, history and the welcome line are shown only then).
  var isInteractive: Bool { get }
}

/// Lines given in advance: the shell's tests drive it with these.
public final class ScriptedLineReader: LineReader {
  private var lines: [LineInput]
  public private(set) var history: [String] = []
  /// Prompts shown, in order (so tests can check continuation prompts).
  public private(set) var prompts: [String] = []
  public let isInteractive: Bool

  public init(_ lines: [String], interactive: Bool = true) {
    self.lines = lines.map { .line($0) }
    self.isInteractive = interactive
  }

  public init(inputs: [LineInput], interactive: Bool = true) {
    self.lines = inputs
    self.isInteractive = interactive
  }

  public func readLine(prompt: String) -> LineInput {
    prompts.append(prompt)
    return lines.isEmpty ? .end : lines.removeFirst()
  }

  public func addHistory(_ entry: String) { history.append(entry) }
}
