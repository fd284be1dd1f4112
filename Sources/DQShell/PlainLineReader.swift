/// Reads standard input line by line with no prompt and no history: for pipes and files.
import CSupport

#if canImport(Glibc)
  import Glibc
#endif

public final class PlainLineReader: LineReader {
  public let history: [String] = []
  public var isInteractive: Bool { false }

  public init() {}

  public func readLine(prompt: String) -> LineInput {
    var length = 0
    guard let bytes = dq_read_stdin_line(&length) else {
      return dq_take_interrupt() != 0 ? .interrupted : .end
    }
    defer { free(bytes) }
    var text = String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    if text.hasSuffix("\n") { text.removeLast() }
    if text.hasSuffix("\r") { text.removeLast() }
    return .line(text)
  }

  public func addHistory(_ entry: String) {}
}
