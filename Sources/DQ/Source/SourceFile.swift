/// Owns one input text and its name; maps byte offsets to lines and columns.
public final class SourceFile: Sendable {
  /// The name shown in diagnostics (a path, `<stdin>`, `<command line>`, `<dataset>`).
  public let name: String
  /// The text as UTF-8 bytes.
  public let bytes: [UInt8]
  /// Byte offset of the first byte of each line.
  let lineStarts: [Int]
  /// Line number of the first line (the REPL numbers its inputs continuously).
  public let firstLine: Int

  public init(name: String, text: String, firstLine: Int = 1) {
    self.name = name
    self.bytes = Array(text.utf8)
    self.firstLine = firstLine
    var starts = [0]
    for (i, b) in bytes.enumerated() where b == 10 { starts.append(i + 1) }
    self.lineStarts = starts
  }

  /// The line (numbered from `firstLine`) holding byte `offset`, and the offset where it starts.
  public func line(containing offset: Int) -> (line: Int, start: Int) {
    // The last line start at or before `offset`.
    var low = 0, high = lineStarts.count
    while high - low > 1 {
      let mid = (low + high) / 2
      if lineStarts[mid] <= offset { low = mid } else { high = mid }
    }
    return (firstLine + low, lineStarts[low])
  }

  /// The text of the 1-based line `line` (as numbered from `firstLine`), without its newline.
  public func lineText(_ line: Int) -> String {
    let index = line - firstLine
    guard index >= 0, index < lineStarts.count else { return "" }
    let start = lineStarts[index]
    var end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : bytes.count
    if end > start, bytes[end - 1] == 13 { end -= 1 }
    return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
  }

  /// The text between two byte offsets.
  public func text(from start: Int, to end: Int) -> String {
    let s = max(0, min(start, bytes.count)), e = max(s, min(end, bytes.count))
    return String(decoding: bytes[s..<e], as: UTF8.self)
  }

  /// The span between two byte offsets, with the line and column (in Unicode scalars) of `start`.
  public func span(from start: Int, to end: Int) -> SourceSpan {
    let s = max(0, min(start, bytes.count))
    let (line, lineStart) = line(containing: s)
    let column = 1 + String(decoding: bytes[lineStart..<s], as: UTF8.self).unicodeScalars.count
    return SourceSpan(file: self, start: s, end: max(s, min(end, bytes.count)), line: line, column: column)
  }
}
