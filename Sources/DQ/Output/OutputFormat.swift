/// Answer formats: aligned table, TSV, CSV (RFC 4180) and JSON.
public enum OutputFormat: String, Sendable, CaseIterable {
  case table, tsv, csv, json

  /// Renders one query's answers; `rows` are already sorted. Ground queries print true/false.
  public func render(columns: [String], rows: [[Value]], store: ValueStore) -> String {
    var out = ""
    _ = write(columns: columns, rows: rows, store: store, to: { out += $0 })
    return out
  }

  /// Rows rendered per piece handed to `write`: small enough that an interrupted print stops
  /// at once, large enough that the writes cost nothing.
  public static let rowsPerPiece = 512

  /// Renders the answers in pieces of `rowsPerPiece` rows, handing each to `write`, so a long
  /// answer is never one huge string. `stop` is asked between pieces (Ctrl-C); when it says
  /// true, printing ends there and the result is false.
  public func write(
    columns: [String], rows: [[Value]], store: ValueStore, to write: (String) -> Void, stop: () -> Bool = { false }
  ) -> Bool {
    if columns.isEmpty {
      let eol = self == .csv ? "\r\n" : "\n"
      write((rows.isEmpty ? "false" : "true") + eol)
      return true
    }
    switch self {
    case .tsv:
      return pieces(rows, header: columns.joined(separator: "\t") + "\n", footer: "", write, stop) { row in
        row.map { v in
          guard let s = store.symbolText(v) else { return store.text(v) }
          var e = ""
          for ch in s.unicodeScalars {
            switch ch {
            case "\t": e += "\\t"
            case "\n": e += "\\n"
            case "\\": e += "\\\\"
            default: e.unicodeScalars.append(ch)
            }
          }
          return e
        }.joined(separator: "\t") + "\n"
      }
    case .csv:
      func field(_ s: String) -> String {
        let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        return needsQuotes ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
      }
      return pieces(rows, header: columns.map(field).joined(separator: ",") + "\r\n", footer: "", write, stop) { row in
        row.map { field(store.text($0)) }.joined(separator: ",") + "\r\n"
      }
    case .json:
      if rows.isEmpty {
        write("[]\n")
        return true
      }
      var index = 0
      return pieces(rows, header: "[\n", footer: "]\n", write, stop) { row in
        index += 1
        let fields = zip(columns, row).map { c, v in "\(JSON.string(c)): \(JSON.value(v, store))" }
        return "  {" + fields.joined(separator: ", ") + "}" + (index < rows.count ? ",\n" : "\n")
      }
    case .table:
      var cells: [[String]] = []
      cells.reserveCapacity(rows.count)
      for (i, row) in rows.enumerated() {
        // Measuring a few million cells takes a while too: let Ctrl-C in.
        if i % (Self.rowsPerPiece * 8) == 0, i > 0, stop() { return false }
        cells.append(row.map { store.text($0) })
      }
      let numeric = columns.indices.map { i in !rows.isEmpty && rows.allSatisfy { store.kind($0[i]) == .number } }
      return TextTable.write(
        columns: columns, rows: cells, rightAligned: numeric,
        footer: "\(rows.count) row\(rows.count == 1 ? "" : "s")\n", to: write, stop: stop)
    }
  }

  /// Writes `header`, the rendered rows in pieces (asking `stop` between them), then `footer`.
  private func pieces(
    _ rows: [[Value]], header: String, footer: String, _ write: (String) -> Void, _ stop: () -> Bool,
    _ line: ([Value]) -> String
  ) -> Bool {
    var out = header
    for (i, row) in rows.enumerated() {
      out += line(row)
      if (i + 1) % Self.rowsPerPiece == 0 {
        write(out)
        out = ""
        if stop() { return false }
      }
    }
    write(out + footer)
    return true
  }
}

/// A box-drawn table of text cells, as the `table` format and `--list` print it.
public enum TextTable {
  public static func render(columns: [String], rows: [[String]], rightAligned: [Bool]? = nil) -> String {
    var out = ""
    _ = write(columns: columns, rows: rows, rightAligned: rightAligned, footer: "", to: { out += $0 })
    return out
  }

  /// Writes the table in pieces of `OutputFormat.rowsPerPiece` rows, then `footer`; false when
  /// `stop` (asked between pieces) ended it early.
  static func write(
    columns: [String], rows: [[String]], rightAligned: [Bool]? = nil, footer: String,
    to write: (String) -> Void, stop: () -> Bool = { false }
  ) -> Bool {
    var widths = columns.map { TableText.width($0) }
    for (n, row) in rows.enumerated() {
      if n % (OutputFormat.rowsPerPiece * 8) == 0, n > 0, stop() { return false }
      for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], TableText.width(TableText.clean(c))) }
    }
    let right = rightAligned ?? columns.map { _ in false }
    func line(_ l: String, _ m: String, _ r: String) -> String {
      l + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: m) + r + "\n"
    }
    func pad(_ s: String, _ w: Int, right: Bool) -> String {
      let fill = String(repeating: " ", count: max(0, w - TableText.width(s)))
      return right ? fill + s : s + fill
    }
    var out = line("┌", "┬", "┐")
    out += "│" + columns.enumerated().map { " " + pad($1, widths[$0], right: false) + " " }.joined(separator: "│") + "│\n"
    out += line("├", "┼", "┤")
    for (n, row) in rows.enumerated() {
      out += "│" + row.map(TableText.clean).enumerated().map { " " + pad($1, widths[$0], right: right[$0]) + " " }.joined(separator: "│") + "│\n"
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
}

/// Text measurement and cleaning for the table format.
enum TableText {
  /// Control characters are shown escaped so they cannot break the layout.
  static func clean(_ s: String) -> String {
    guard s.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) else { return s }
    var out = ""
    for ch in s.unicodeScalars {
      switch ch {
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      default:
        if ch.value < 32 || ch.value == 127 { out += "\\u{\(String(ch.value, radix: 16))}" } else { out.unicodeScalars.append(ch) }
      }
    }
    return out
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

