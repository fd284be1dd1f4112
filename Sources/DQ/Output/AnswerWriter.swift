/// How a session prints an answer or a listing in the chosen format, with the settings that
/// shape it (`.headers`, `.width`, `.maxrows`), and keeps JSON answers one document.
extension Session {
  /// The layout the settings give, for the front end answers go to now.
  var layout: OutputFormat.Layout {
    var layout = OutputFormat.Layout(headers: options.headers)
    // Fitted to the terminal, unless `.width` says otherwise; files and pipes are not cut.
    layout.width = options.width.map { $0 > 0 ? $0 : nil } ?? frontEnd.screenWidth
    layout.maxRows = frontEnd.answersToFile ? 0 : options.maxRows
    return layout
  }

  /// Prints one answer (a query's, or a listing's) as a block: in JSON, one object of the
  /// run's document (`[` before the first, `,` between, `]` at `endDocument`); in JSON Lines,
  /// one line; otherwise separated from the block before by an empty line. False when the
  /// front end asked to stop (Ctrl-C).
  func writeAnswer(_ grid: Grid, title: (key: String, text: String)) -> Bool {
    var layout = self.layout
    layout.title = title
    switch options.format {
    case .json:
      // The document is one block, separated from text before it like any other.
      if !documentOpen, blocksWritten > 0 { write("\n") }
      write(documentOpen ? ",\n" : "[\n")
      documentOpen = true
      blocksWritten += 1
    case .jsonl:
      endDocument()
      blocksWritten += 1
    default:
      beginBlock()
    }
    return options.format.write(
      grid, layout: layout, to: { [unowned self] in self.write($0) },
      stop: { [interruption = frontEnd.interruption] in interruption?() ?? false })
  }

  /// Prints a listing (`.relations`, `.memory`, `.schema`): as `table` text in the table
  /// format, where the listing has its own footer, and in the chosen format otherwise, so a
  /// program can read it.
  func writeListing(_ grid: Grid, command: String, table: () -> String) {
    if options.format == .table {
      beginBlock()
      write(table())
    } else {
      _ = writeAnswer(grid, title: ("command", command))
    }
  }
}
