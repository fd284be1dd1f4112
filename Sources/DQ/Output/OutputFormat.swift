/// Answer formats: aligned table, TSV, CSV (RFC 4180), JSON (one document per run), JSON
/// Lines (one object per answer), Markdown, and line mode (one `column = value` per line).
public enum OutputFormat: String, Sendable, CaseIterable {
  case table, tsv, csv, json, jsonl, markdown, line

  /// The formats' names, for messages ("table, tsv, ...").
  public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

  /// True for the formats meant for a person (`.maxrows` cuts them short); the others are
  /// for programs and always print every row.
  public var isForPeople: Bool { self == .table || self == .markdown || self == .line }

  /// Renders one query's answers; `rows` are already sorted. Ground queries print true/false.
  /// JSON is rendered as a whole document holding this one answer.
  public func render(columns: [String], rows: [[Value]], store: ValueStore, layout: Layout = Layout()) -> String {
    var out = ""
    _ = write(Grid(columns: columns, rows: rows, store: store), layout: layout, to: { out += $0 })
    return self == .json ? "[\n" + out + "\n]\n" : out
  }

  /// Rows rendered per piece handed to `write`: small enough that an interrupted print stops
  /// at once, large enough that the writes cost nothing.
  public static let rowsPerPiece = 512

  /// How an answer is laid out beside its format: the settings `.headers`, `.width` and
  /// `.maxrows` change, and what JSON names the answer by.
  public struct Layout: Sendable {
    /// Print the column names (TSV, CSV, table).
    public var headers = true
    /// The table format's width in columns: long cells are cut with `…` to fit; nil: no limit.
    public var width: Int? = nil
    /// How many rows a format for people shows before "… N more rows"; 0: all.
    public var maxRows = 0
    /// JSON's name for the answer: `("query", "?- p(X).")` or `("command", ".relations")`.
    public var title: (key: String, text: String)? = nil
    public init(headers: Bool = true, width: Int? = nil, maxRows: Int = 0) {
      (self.headers, self.width, self.maxRows) = (headers, width, maxRows)
    }
  }

  /// Renders the answers of a query (see `write(_:layout:to:stop:)`).
  public func write(
    columns: [String], rows: [[Value]], store: ValueStore, layout: Layout = Layout(), to write: (String) -> Void,
    stop: () -> Bool = { false }
  ) -> Bool {
    self.write(Grid(columns: columns, rows: rows, store: store), layout: layout, to: write, stop: stop)
  }

  /// Renders a grid in pieces of `rowsPerPiece` rows, handing each to `write`, so a long
  /// answer is never one huge string. `stop` is asked between pieces (Ctrl-C); when it says
  /// true, printing ends there and the result is false. JSON writes one object, without the
  /// brackets and commas of the document around it (the session writes those).
  public func write(_ grid: Grid, layout: Layout = Layout(), to write: (String) -> Void, stop: () -> Bool = { false }) -> Bool {
    let eol = self == .csv ? "\r\n" : "\n"
    // Only the formats for people stop early; `.output FILE` is the way to all rows.
    let shown = isForPeople && layout.maxRows > 0 ? min(grid.count, layout.maxRows) : grid.count
    let more = grid.count - shown
    let moreNote = more > 0 ? "… \(Self.grouped(more)) more row\(more == 1 ? "" : "s") (use .maxrows 0 or .output FILE)\n" : ""
    if grid.columns.isEmpty {
      let answer = grid.count > 0 ? "true" : "false"
      switch self {
      case .json, .jsonl:
        write(objectStart(layout) + "\"columns\": [], \"answer\": \(answer)}" + (self == .jsonl ? "\n" : ""))
      case .csv where layout.headers: write("answer\r\n" + answer + "\r\n")
      case .markdown: write("| answer |\n|--------|\n| " + TableText.pad(answer, 6, right: false) + " |\n")
      default: write(answer + eol)
      }
      return true
    }
    switch self {
    case .tsv:
      let header = layout.headers ? grid.columns.joined(separator: "\t") + "\n" : ""
      return pieces(shown, header: header, footer: "", write, stop) { r in
        grid.columns.indices.map { c in Self.tsvEscaped(grid.text(r, c)) }.joined(separator: "\t") + "\n"
      }
    case .csv:
      let header = layout.headers ? grid.columns.map(Self.csvField).joined(separator: ",") + "\r\n" : ""
      return pieces(shown, header: header, footer: "", write, stop) { r in
        grid.columns.indices.map { c in Self.csvField(grid.text(r, c)) }.joined(separator: ",") + "\r\n"
      }
    case .json:
      let names = grid.columns.map(JSON.string)
      let start = objectStart(layout) + "\"columns\": [" + names.joined(separator: ", ") + "], \"rows\": ["
      if grid.count == 0 {
        write(start + "]}")
        return true
      }
      return pieces(shown, header: start + "\n", footer: "  ]}", write, stop) { r in
        let fields = names.indices.map { c in "\(names[c]): \(grid.json(r, c))" }
        return "    {" + fields.joined(separator: ", ") + "}" + (r + 1 < shown ? ",\n" : "\n")
      }
    case .jsonl:
      let names = grid.columns.map(JSON.string)
      let start = objectStart(layout) + "\"columns\": [" + names.joined(separator: ", ") + "], \"rows\": ["
      return pieces(shown, header: start, footer: "]}\n", write, stop) { r in
        let fields = names.indices.map { c in "\(names[c]): \(grid.json(r, c))" }
        return (r > 0 ? ", " : "") + "{" + fields.joined(separator: ", ") + "}"
      }
    case .line:
      let nameWidth = grid.columns.map { TableText.width($0) }.max() ?? 0
      let names = grid.columns.map { String(repeating: " ", count: nameWidth - TableText.width($0)) + $0 }
      return pieces(shown, header: "", footer: more > 0 ? "\n" + moreNote : "", write, stop) { r in
        (r > 0 ? "\n" : "") + names.indices.map { c in names[c] + " = " + TableText.clean(grid.text(r, c)) + "\n" }.joined()
      }
    case .markdown:
      let cells = grid.cells(shown, stop: stop, clean: { Self.markdownEscaped(TableText.clean($0)) })
      guard let cells else { return false }
      let numeric = grid.numeric()
      let header = grid.columns.map(Self.markdownEscaped)
      var widths = header.map { max(3, TableText.width($0)) }
      for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], TableText.width(c)) } }
      func line(_ row: [String], right: [Bool]) -> String {
        "|" + row.enumerated().map { i, c in " " + TableText.pad(c, widths[i], right: right[i]) + " " }.joined(separator: "|") + "|\n"
      }
      let rule = widths.indices.map { i in
        numeric[i] ? String(repeating: "-", count: widths[i] + 1) + ":" : String(repeating: "-", count: widths[i] + 2)
      }
      let top = line(header, right: numeric.map { _ in false }) + "|" + rule.joined(separator: "|") + "|\n"
      return pieces(cells.count, header: top, footer: more > 0 ? moreNote : "", write, stop) { r in line(cells[r], right: numeric) }
    case .table:
      guard let cells = grid.cells(shown, stop: stop, clean: { $0 }) else { return false }
      return TextTable.write(
        columns: grid.columns, rows: cells, rightAligned: grid.numeric(), headers: layout.headers, width: layout.width,
        footer: moreNote + "\(grid.count) row\(grid.count == 1 ? "" : "s")\n", to: write, stop: stop)
    }
  }

  /// The start of a JSON answer object: `  {"query": "?- p(X).", ` (no indent in JSON Lines).
  private func objectStart(_ layout: Layout) -> String {
    (self == .json ? "  {" : "{") + (layout.title.map { "\(JSON.string($0.key)): \(JSON.string($0.text)), " } ?? "")
  }

  /// A count with thousands separators: 99,990.
  static func grouped(_ n: Int) -> String {
    let digits = Array(String(n))
    var out = ""
    for (i, d) in digits.enumerated() {
      if i > 0, (digits.count - i) % 3 == 0 { out += "," }
      out.append(d)
    }
    return out
  }

  /// A Markdown table cell: `|` would end the cell, so it is escaped.
  static func markdownEscaped(_ s: String) -> String {
    guard s.contains("|") else { return s }
    return s.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
  }

  static func tsvEscaped(_ s: String) -> String {
    guard s.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\\" || $0 == "\r\n" }) else { return s }
    return Escaping.escape(s) { ch in
      switch ch {
      case "\t": return "\\t"
      case "\n": return "\\n"
      case "\\": return "\\\\"
      default: return nil
      }
    }
  }

  static func csvField(_ s: String) -> String {
    let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
    return needsQuotes ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
  }

  /// Writes `header`, rows `0..<count` rendered by `line` in pieces (asking `stop` between
  /// them), then `footer`.
  private func pieces(
    _ count: Int, header: String, footer: String, _ write: (String) -> Void, _ stop: () -> Bool, _ line: (Int) -> String
  ) -> Bool {
    var out = header
    for r in 0..<count {
      out += line(r)
      if (r + 1) % Self.rowsPerPiece == 0 {
        write(out)
        out = ""
        if stop() { return false }
      }
    }
    write(out + footer)
    return true
  }
}

/// What a format prints: named columns and rows of cells, read through closures so a query's
/// answers (values in a store) and a listing (text) print alike without being copied.
public struct Grid {
  public var columns: [String]
  /// The number of rows.
  public var count: Int
  /// A cell's text (row, column).
  var text: (Int, Int) -> String
  /// A cell as a JSON value (row, column).
  var json: (Int, Int) -> String
  /// For each column, whether it holds only numbers (right-aligned in tables).
  var numeric: () -> [Bool]

  /// A query's answers.
  public init(columns: [String], rows: [[Value]], store: ValueStore) {
    self.columns = columns
    count = rows.count
    text = { store.text(rows[$0][$1]) }
    json = { JSON.value(rows[$0][$1], store) }
    numeric = { columns.indices.map { i in !rows.isEmpty && rows.allSatisfy { store.kind($0[i]) == .number } } }
  }

  /// A listing of text cells; the columns marked `numbers` hold whole numbers (bare in JSON).
  public init(columns: [String], rows: [[String]], numbers: [Bool]) {
    self.columns = columns
    count = rows.count
    text = { rows[$0][$1] }
    json = { r, c in
      let t = rows[r][c]
      let isNumber = !t.isEmpty && t.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") }
      return numbers[c] && isNumber ? t : JSON.string(t)
    }
    numeric = { numbers }
  }

  /// The text of the first `count` rows, each cleaned; nil when `stop` said to stop.
  func cells(_ count: Int, stop: () -> Bool, clean: (String) -> String) -> [[String]]? {
    var cells: [[String]] = []
    cells.reserveCapacity(count)
    for r in 0..<count {
      // Measuring a few million cells takes a while too: let Ctrl-C in.
      if r % (OutputFormat.rowsPerPiece * 8) == 0, r > 0, stop() { return nil }
      cells.append(columns.indices.map { clean(text(r, $0)) })
    }
    return cells
  }
}

/// A box-drawn table of text cells, as the `table` format and `--list` print it.
public enum TextTable {
  public static func render(columns: [String], rows: [[String]], rightAligned: [Bool]? = nil, width: Int? = nil) -> String {
    var out = ""
    _ = write(columns: columns, rows: rows, rightAligned: rightAligned, width: width, footer: "", to: { out += $0 })
    return out
  }

  /// Writes the table in pieces of `OutputFormat.rowsPerPiece` rows, then `footer`; false when
  /// `stop` (asked between pieces) ended it early. Without `headers` the column names are left
  /// out; with a `width`, the widest columns are narrowed until the table fits, and cells too
  /// long for their column end in `…` (as DuckDB fits a table to the terminal).
  static func write(
    columns: [String], rows: [[String]], rightAligned: [Bool]? = nil, headers: Bool = true, width: Int? = nil,
    footer: String, to write: (String) -> Void, stop: () -> Bool = { false }
  ) -> Bool {
    var widths = columns.map { headers ? TableText.width($0) : 1 }
    for (n, row) in rows.enumerated() {
      if n % (OutputFormat.rowsPerPiece * 8) == 0, n > 0, stop() { return false }
      for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], TableText.width(TableText.clean(c))) }
    }
    let natural = widths
    if let width { widths = fitted(widths, into: width) }
    let cut = widths != natural
    let right = rightAligned ?? columns.map { _ in false }
    func line(_ l: String, _ m: String, _ r: String) -> String {
      l + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: m) + r + "\n"
    }
    func cell(_ s: String, _ i: Int, right: Bool) -> String {
      " " + TableText.pad(cut ? TableText.truncated(s, to: widths[i]) : s, widths[i], right: right) + " "
    }
    var out = line("┌", "┬", "┐")
    if headers {
      out += "│" + columns.enumerated().map { cell($1, $0, right: false) }.joined(separator: "│") + "│\n"
      out += line("├", "┼", "┤")
    }
    for (n, row) in rows.enumerated() {
      out += "│" + row.map(TableText.clean).enumerated().map { cell($1, $0, right: right[$0]) }.joined(separator: "│") + "│\n"
      if (n + 1) % OutputFormat.rowsPerPiece == 0 {
        write(out)
        out = ""
        if stop() { return false }
      }
    }
    out += line("└", "┴", "┘")
    write(out + footer)
    return true
  }

  /// Column widths that fit a table into `total` display columns (3 per column and 1 for the
  /// borders), taken one at a time from the widest column; no column is made narrower than
  /// `minimum` (so a table of many columns may stay wider than `total`).
  static func fitted(_ widths: [Int], into total: Int, minimum: Int = 4) -> [Int] {
    var widths = widths.map { min($0, max(minimum, total)) }
    var excess = widths.reduce(1) { $0 + $1 + 3 } - total
    while excess > 0 {
      guard let widest = widths.indices.max(by: { widths[$0] < widths[$1] }), widths[widest] > minimum else { break }
      // Narrow the widest column down to the next widest (or as far as needed), at once.
      let next = widths.enumerated().filter { $0.offset != widest }.map(\.element).max() ?? minimum
      let step = max(1, min(excess, widths[widest] - max(minimum, next)))
      widths[widest] -= step
      excess -= step
    }
    return widths
  }
}

/// Text measurement and cleaning for the table format.
enum TableText {
  /// Control characters are shown escaped so they cannot break the layout.
  static func clean(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else { return s }
    return Escaping.escape(s) { ch in
      switch ch {
      case "\n": return "\\n"
      case "\t": return "\\t"
      case "\r": return "\\r"
      default: return ch.value < 32 || ch.value == 127 ? "\\u{\(String(ch.value, radix: 16))}" : nil
      }
    }
  }

  /// `s` padded with spaces to `width` display columns, on the left when `right`.
  static func pad(_ s: String, _ width: Int, right: Bool) -> String {
    let fill = String(repeating: " ", count: max(0, width - Self.width(s)))
    return right ? fill + s : s + fill
  }

  /// `s` cut to at most `limit` display columns, ending in `…` when it was cut.
  static func truncated(_ s: String, to limit: Int) -> String {
    guard width(s) > limit else { return s }
    var out = ""
    var used = 0
    for ch in s.unicodeScalars {
      let w = width(String(ch))
      if used + w > limit - 1 { break }
      out.unicodeScalars.append(ch)
      used += w
    }
    return out + "…"
  }

  /// Display columns: one per scalar, two for wide East Asian scalars, none for combining marks.
  static func width(_ s: String) -> Int {
    var w = 0
    for ch in s.unicodeScalars {
      let v = ch.value
      if (0x300...0x36F).contains(v) || (0x200B...0x200F).contains(v) { continue }
      if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
        || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
        || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v)
      {
        w += 2
      } else {
        w += 1
      }
    }
    return w
  }
}

/// JSON text for names and values.
enum JSON {
  static func string(_ s: String) -> String {
    var out = "\""
    for ch in s.unicodeScalars {
      switch ch {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if ch.value < 32 {
          let hex = String(ch.value, radix: 16)
          out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        } else {
          out.unicodeScalars.append(ch)
        }
      }
    }
    return out + "\""
  }

  static func value(_ v: Value, _ store: ValueStore) -> String {
    switch store.decode(v) {
    case .integer(let i): return String(i)
    case .decimal(let d): return DecimalSyntax.format(d)
    case .date(let d): return string(DateCodec.format(days: d))
    case .symbol(let s): return string(s)
    }
  }
}

