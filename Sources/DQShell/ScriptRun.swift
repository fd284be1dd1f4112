/// Runs files and texts as `dq FILE...` and `dq -e TEXT` do: one session whose front end is
/// `Commands` (so `.output` and `.timing` work), inputs in order, stopping at the first that
/// fails (a failed `.output` write included). `dq --check` runs each file through it too, so both print the same messages and exit
/// with the same status.
import DQ

public final class ScriptRun {
  public let session: Session
  public let commands: Commands
  /// Errors reported so far (`dq` adds "N errors" when there was more than one).
  public private(set) var errorCount = 0

  /// An input: its name in messages, and its text or why it could not be read.
  public typealias Input = (name: String, text: Result<String, SourceReader.Failure>)

  /// `report` receives every error and warning (rendered by the caller).
  public init(
    options: Session.Options, loadDataset: Bool, write: @escaping (String) -> Void,
    writeError: @escaping (String) -> Void, report: @escaping (Diagnostic) -> Void
  ) {
    session = Session(options: options, loadDataset: loadDataset)
    commands = Commands(session: session, write: write, writeError: writeError)
    commands.attach()
    commands.reportDiagnostic = { [unowned self] d in
      if d.severity == .error { self.errorCount += 1 }
      report(d)
    }
    // A script stops at a failed `.output` write (status 74); the file keeps its old contents.
    // (The file is already dropped; the rest of the statement's answers go nowhere.)
    commands.outputFailed = { [unowned commands] message in
      commands.writeError("dq: error: \(message)\n")
      commands.failure = .ioError
    }
  }

  /// Runs the inputs in order; stops at the first that fails, with its status (66 for one
  /// that cannot be read, said on `writeError` as `dq: error: cannot read ...`).
  public func run(_ inputs: [Input]) -> Session.Status {
    for input in inputs {
      switch input.text {
      case .failure(let e):
        commands.writeError("dq: error: cannot read '\(input.name)': \(e.reason)\n")
        return .unreadableInput
      case .success(let text):
        // A file (not `<stdin>` nor `<command line>`) is a loaded file: `.reload` and
        // `.unload` know it.
        let status =
          input.name.hasPrefix("<")
          ? session.run(SourceFile(name: input.name, text: text)) : session.runFile(path: input.name, text: text)
        if status != .ok { return status }
      }
    }
    return .ok
  }
}
