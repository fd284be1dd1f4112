/// Renders diagnostics as `file:line:col: error: message`, the source line, and a caret underline.
public struct DiagnosticRenderer: Sendable {
  /// Use ANSI colours (only when writing to a terminal and NO_COLOR is unset).
  public var color: Bool

  public init(color: Bool = false) { self.color = color }

  public func render(_ d: Diagnostic) -> String {
    var out = ""
    let label = d.severity.rawValue
    let painted: String
    switch d.severity {
    case .error: painted = paint(label, "1;31")
    case .warning: painted = paint(label, "1;35")
    case .note: painted = paint(label, "1;36")
    }
    let message = Self.clipped(d.message)
    if let span = d.span {
      out += paint("\(span.file.name):\(span.line):\(span.column):", "1") + " \(painted): \(message)\n"
      if let window = window(span) {
        out += Self.visible(window.text) + "\n"
        out += window.prefix + paint("^" + String(repeating: "~", count: max(0, window.marks - 1)), "1;32") + "\n"
      } else {
        let line = Self.visible(span.file.lineText(span.line))
        out += line + "\n"
        out += underline(span: span, line: line) + "\n"
      }
    } else {
      out += "dq: \(painted): \(message)\n"
    }
    if let hint = d.hint { out += paint("hint:", "1;32") + " \(Self.clipped(hint))\n" }
    for note in d.notes { out += render(note) }
    return out
  }

  /// Renders a batch followed by a count line when there is more than one error.
  public func render(all diagnostics: [Diagnostic]) -> String {
    var out = diagnostics.map(render).joined()
    let errors = diagnostics.filter { $0.severity == .error }.count
    if errors > 1 { out += "\(errors) errors\n" }
    return out
  }

  /// The widest source line shown whole, in characters; a longer one is shown as a window of
  /// this width around the caret, with '…' where it is cut, so an error on a 50 MB line prints
  /// a line, not 100 MB.
  public static let maxLineWidth = 120
  /// Characters of a long line shown before the caret.
  static let contextBefore = 40
  /// The longest message or hint shown whole (user text quoted in one can be any size).
  public static let maxMessageLength = 1000

  /// The line with control characters (a NUL, an escape sequence) shown as their Control
  /// Pictures (␀, ␛): one column each, so the caret stays aligned, and nothing in a source line
  /// can move the terminal's cursor or change its colours. Tabs stay tabs.
  static func visible(_ line: String) -> String {
    guard line.unicodeScalars.contains(where: { ($0.value < 32 && $0 != "\t") || $0.value == 0x7F }) else { return line }
    var out = String.UnicodeScalarView()
    for ch in line.unicodeScalars {
      if ch.value < 32 && ch != "\t", let picture = Unicode.Scalar(0x2400 + ch.value) {
        out.append(picture)
      } else if ch.value == 0x7F {
        out.append("\u{2421}")
      } else {
        out.append(ch)
      }
    }
    return String(out)
  }

  static func clipped(_ text: String) -> String {
    guard text.utf8.count > maxMessageLength else { return text }
    var out = String(text.unicodeScalars.prefix(maxMessageLength))
    out += "…"
    return out
  }

  /// For a line longer than `maxLineWidth` scalars: the excerpt around the span, the text that
  /// puts the caret under its start, and how many marks underline it. Nil for a short line.
  /// Works on the bytes near the span only, so it takes the same time on any line length.
  private func window(_ span: SourceSpan) -> (text: String, prefix: String, marks: Int)? {
    let file = span.file
    let index = span.line - file.firstLine
    guard index >= 0, index < file.lineStarts.count else { return nil }
    let bytes = file.bytes
    let lineStart = file.lineStarts[index]
    var lineEnd = index + 1 < file.lineStarts.count ? file.lineStarts[index + 1] - 1 : bytes.count
    if lineEnd > lineStart, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
    // Short lines (in scalars) are shown whole.
    if lineEnd - lineStart <= Self.maxLineWidth { return nil }
    if lineEnd - lineStart <= 4 * Self.maxLineWidth {
      var scalars = 0
      for k in lineStart..<lineEnd where bytes[k] & 0xC0 != 0x80 { scalars += 1 }
      if scalars <= Self.maxLineWidth { return nil }
    }
    let isLead = { (k: Int) -> Bool in bytes[k] & 0xC0 != 0x80 }
    let caret = min(max(span.start, lineStart), lineEnd)
    // Back up to `contextBefore` scalars before the caret.
    var low = caret
    var back = 0
    while low > lineStart, back < Self.contextBefore {
      low -= 1
      while low > lineStart, !isLead(low) { low -= 1 }
      back += 1
    }
    // Forward to the width, leaving room for the two '…' marks.
    var high = low
    var shown = 0
    while high < lineEnd, shown < Self.maxLineWidth - 2 {
      high += 1
      while high < lineEnd, !isLead(high) { high += 1 }
      shown += 1
    }
    let cutBefore = low > lineStart, cutAfter = high < lineEnd
    let text = (cutBefore ? "…" : "") + file.text(from: low, to: high) + (cutAfter ? "…" : "")
    var prefix = cutBefore ? " " : ""
    for ch in file.text(from: low, to: caret).unicodeScalars {
      prefix += ch == "\t" ? "\t" : String(repeating: " ", count: TableText.width(String(ch)))
    }
    var marks = 0
    var k = caret
    while k < min(max(span.end, caret), high) {
      if isLead(k) { marks += 1 }
      k += 1
    }
    return (text, prefix, max(1, marks))
  }

  private func underline(span: SourceSpan, line: String) -> String {
    // Column counts scalars; keep tabs so the caret lines up under tabbed source.
    var prefix = ""
    for (i, ch) in line.unicodeScalars.enumerated() where i < span.column - 1 {
      // Tabs stay tabs; wide characters (中) take two columns on a terminal.
      prefix += ch == "\t" ? "\t" : String(repeating: " ", count: TableText.width(String(ch)))
    }
    // Underline to the end of the span or the end of the line, whichever comes first.
    let lineEndScalars = line.unicodeScalars.count
    let spanScalars = span.text.unicodeScalars.count
    let width = max(1, min(spanScalars, lineEndScalars - (span.column - 1)))
    let marks = "^" + String(repeating: "~", count: max(0, width - 1))
    return prefix + paint(marks, "1;32")
  }

  private func paint(_ s: String, _ code: String) -> String {
    color ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s
  }
}
