/// A session over no dataset with tsv answers, and a fresh folder to write files in: the
/// fixture of the tests that load, reload and edit files.
import DQ
import Foundation

final class SessionFolder {
  let session = Session(loadDataset: false)
  let transcript = Transcript()
  let folder: String

  init(prefix: String = "dq-files") throws {
    session.frontEnd = transcript
    session.options.format = .tsv
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(atPath: folder) }

  func write(_ name: String, _ text: String) throws {
    try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
  }

  func path(_ name: String) -> String { folder + "/" + name }

  /// Runs `text` as if typed; returns its answers and the messages of its errors.
  @discardableResult
  func run(_ text: String) -> (out: String, errors: [String]) {
    transcript.output = ""
    transcript.diagnostics = []
    session.blocksWritten = 0
    session.run(SourceFile(name: "<stdin>", text: text))
    return (transcript.output, transcript.diagnostics.filter { $0.severity == .error }.map(\.message))
  }
}
