/// A half-open byte range in one source file, with the line and column where it starts.
public struct SourceSpan: Sendable, Hashable, CustomStringConvertible {
  /// The file the span lies in (compared by identity).
  public let file: SourceFile
  public let start: Int
  public let end: Int
  /// 1-based line of `start`.
  public let line: Int
  /// 1-based column of `start`, counted in Unicode scalars.
  public let column: Int

  public init(file: SourceFile, start: Int, end: Int, line: Int, column: Int) {
    self.file = file
    self.start = start
    self.end = end
    self.line = line
    self.column = column
  }

  /// The smallest span covering both.
  public func to(_ other: SourceSpan) -> SourceSpan {
    guard other.file === file else { return self }
    return other.start < start
      ? SourceSpan(file: file, start: other.start, end: max(end, other.end), line: other.line, column: other.column)
      : SourceSpan(file: file, start: start, end: max(end, other.end), line: line, column: column)
  }

  /// The source text the span covers.
  public var text: String { file.text(from: start, to: end) }

  public var description: String { "\(file.name):\(line):\(column)" }

  public static func == (a: SourceSpan, b: SourceSpan) -> Bool {
    a.file === b.file && a.start == b.start && a.end == b.end
  }

  public func hash(into h: inout Hasher) {
    h.combine(ObjectIdentifier(file))
    h.combine(start)
    h.combine(end)
  }
}
