/// Answer formats: aligned table, TSV, CSV (RFC 4180) and JSON.
public enum OutputFormat: String, Sendable, CaseIterable {
  case table, tsv, csv, json

  /// Renders one query's answers; `rows` are already sorted. Ground queries print true/false.
  public func render(columns: [String], rows: [[Value]], store: ValueStore) -> String {
    if columns.isEmpty {
      let eol = self == .csv ? "\r\n" : "\n"
      return (rows.isEmpty ? "false" : "true") + eol
    }
    switch self {
    case .tsv: return tsv(columns, rows, store)
    case .csv: return csv(columns, rows, store)
    case .json: return json(columns, rows, store)
    case .table: return table(columns, rows, store)
    }
  }

  private func tsv(_ columns: [String], _ rows: [[Value]], _ store: ValueStore) -> String {
    var out = columns.joined(separator: "\t") + "\n"
    for row in rows {
      out += row.map { v in
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
    return out
  }

  private func csv(_ columns: [String], _ rows: [[Value]], _ store: ValueStore) -> String {
    func field(_ s: String) -> String {
      let needsQuotes = s.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
      return needsQuotes ? "\"" + s.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : s
    }
    var out = columns.map(field).joined(separator: ",") + "\r\n"
    for row in rows { out += row.map { field(store.text($0)) }.joined(separator: ",") + "\r\n" }
    return out
  }

  private func json(_ columns: [String], _ rows: [[Value]], _ store: ValueStore) -> String {
    if rows.isEmpty { return "[]\n" }
    var out = "[\n"
    for (i, row) in rows.enumerated() {
      let fields = zip(columns, row).map { c, v in "\(JSON.string(c)): \(JSON.value(v, store))" }
      out += "  {" + fields.joined(separator: ", ") + "}" + (i + 1 < rows.count ? ",\n" : "\n")
    }
    return out + "]\n"
  }

  private func table(_ columns: [String], _ rows: [[Value]], _ store: ValueStore) -> String {
    let cells = rows.map { $0.map { store.text($0) } }
    let numeric = columns.indices.map { i in !rows.isEmpty && rows.allSatisfy { store.kind($0[i]) == .number } }
    return TextTable.render(columns: columns, rows: cells, rightAligned: numeric)
      + "\(rows.count) row\(rows.count == 1 ? "" : "s")\n"
  }
}

/// A box-drawn table of text cells, as the `table` format and `--list` print it.
public enum TextTable {
  public static func render(columns: [String], rows: [[String]], rightAligned: [Bool]? = nil) -> String {
    let cells = rows.map { $0.map(TableText.clean) }
    var widths = columns.map { TableText.width($0) }
    for row in cells { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], TableText.width(c)) } }
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
    for row in cells {
      out += "│" + row.enumerated().map { " " + pad($1, widths[$0], right: right[$0]) + " " }.joined(separator: "│") + "│\n"
    }
    out += line("└", "┴", "┘")
    return out
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

