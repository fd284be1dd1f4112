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
    if let span = d.span {
      out += paint("\(span.file.name):\(span.line):\(span.column):", "1") + " \(painted): \(d.message)\n"
      let line = span.file.lineText(span.line)
      out += line + "\n"
      out += underline(span: span, line: line) + "\n"
    } else {
      out += "dq: \(painted): \(d.message)\n"
    }
    if let hint = d.hint { out += paint("hint:", "1;32") + " \(hint)\n" }
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
