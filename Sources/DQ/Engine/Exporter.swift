/// Writes a whole relation to a file (`.export RELATION FILE`, `dq --export`): TSV, CSV, JSON
/// Lines or a JSON array, in forms `.import` reads back as the same tuples.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

enum Exporter {
  /// The file formats a relation can be written in.
  enum Format: String, CaseIterable { case tsv, csv, jsonl, json }

  /// The format a file name's extension names (`.ndjson` is JSON Lines), or nil.
  static func format(forPath path: String) -> Format? {
    let lower = path.lowercased()
    guard let dot = lower.lastIndex(of: "."), !lower[dot...].contains("/") else { return nil }
    let ext = String(lower[lower.index(after: dot)...])
    return ext == "ndjson" ? .jsonl : Format(rawValue: ext)
  }

  /// The text of the relation's rows in `format`, with `columns` as the header (TSV, CSV) or
  /// the keys (JSON). Rows come sorted by the contract's value order, so exports compare.
  static func render(rows: [[Value]], columns: [String], format: Format, store: ValueStore) -> String {
    let sorted = rows.sorted { a, b in
      for (x, y) in zip(a, b) {
        let c = store.compare(x, y)
        if c != 0 { return c < 0 }
      }
      return false
    }
    var out = ""
    switch format {
    case .tsv, .csv:
      let csv = format == .csv
      let header: [String] = columns.map { csv ? csvHeaderCell($0) : tsvText($0) }
      out += header.joined(separator: csv ? "," : "\t") + (csv ? "\r\n" : "\n")
      for row in sorted {
        out += row.map { csv ? csvField($0, store) : tsvText(store.text($0)) }.joined(separator: csv ? "," : "\t")
        out += csv ? "\r\n" : "\n"
      }
    case .jsonl, .json:
      let objects = sorted.map { row in
        "{" + zip(columns, row).map { jsonString($0) + ":" + jsonValue($1, store) }.joined(separator: ",") + "}"
      }
      out = format == .jsonl ? objects.map { $0 + "\n" }.joined() : "[" + objects.joined(separator: ",\n") + "]\n"
    }
    return out
  }

  /// A TSV field: tab, newline and backslash escaped as the importer undoes them.
  static func tsvText(_ s: String) -> String {
    Escaping.escape(s) { ch in
      switch ch {
      case "\t": return "\\t"
      case "\n": return "\\n"
      case "\\": return "\\\\"
      default: return nil
      }
    }
  }

  /// A CSV field: a symbol is quoted when it holds a separator, quote or line end, or could be
  /// read as a number or date (a quoted field always imports as a symbol, so `040` stays a code).
  static func csvField(_ v: Value, _ store: ValueStore) -> String {
    guard let s = store.symbolText(v) else { return store.text(v) }
    guard let first = s.unicodeScalars.first else { return "" }
    let needsQuotes =
      first == "-" || first == "+" || first == "." || (first >= "0" && first <= "9") || first == " "
      || s.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
    return needsQuotes ? quoted(s) : s
  }

  /// A header cell: quoted only when it holds a separator, quote or line end.
  static func csvHeaderCell(_ s: String) -> String {
    s.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" } ? quoted(s) : s
  }

  static func quoted(_ s: String) -> String { "\"" + Escaping.escape(s) { $0 == "\"" ? "\"\"" : nil } + "\"" }

  /// A value in JSON: numbers as numbers, dates as ISO strings, symbols as strings.
  static func jsonValue(_ v: Value, _ store: ValueStore) -> String {
    switch store.decode(v) {
    case .integer(let i): return String(i)
    case .decimal(let d): return DecimalSyntax.format(d)
    case .date(let d): return jsonString(DateCodec.format(days: d))
    case .symbol(let s): return jsonString(s)
    }
  }

  /// A JSON string literal (RFC 8259 escapes; other control characters as \u00XX).
  static func jsonString(_ s: String) -> String {
    "\""
      + Escaping.escape(s) { ch in
        switch ch {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
          guard ch.value < 0x20 else { return nil }
          let hex = String(ch.value, radix: 16)
          return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
      } + "\""
  }

  /// Writes `text` to `path` through a temporary file in the same folder, synced and renamed
  /// over it, so the file is never seen half-written; nil, or what went wrong.
  static func writeAtomically(_ path: String, _ text: String) -> String? {
    guard let (fd, temp) = temporaryFile(beside: path) else {
      return "Cannot write '\(path)': \(String(cString: strerror(errno)))"
    }
    var code: Int32 = 0
    var text = text
    text.withUTF8 { buffer in
      guard let base = buffer.baseAddress else { return }
      var offset = 0
      while offset < buffer.count {
        let n = write(fd, base + offset, buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          code = errno
          return
        }
        offset += n
      }
    }
    if code == 0, fchmod(fd, 0o644) != 0 { code = errno }
    if code == 0, fsync(fd) != 0, errno != EINVAL { code = errno }
    if close(fd) != 0, code == 0 { code = errno }
    if code == 0, rename(temp, path) != 0 { code = errno }
    guard code == 0 else {
      unlink(temp)
      return "Cannot write '\(path)': \(String(cString: strerror(code)))"
    }
    return nil
  }

  /// A new empty file beside `path` (so renaming it over `path` stays on one file system),
  /// open for writing, and its name; nil with `errno` set when none can be made.
  static func temporaryFile(beside path: String) -> (fd: Int32, path: String)? {
    let folder: String
    if let slash = path.lastIndex(of: "/") {
      folder = slash == path.startIndex ? "/" : String(path[..<slash])
    } else {
      folder = "."
    }
    var template = Array((folder + "/.dq-export-XXXXXX").utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { p in p.baseAddress.map { mkstemp($0) } ?? -1 }
    guard fd >= 0 else { return nil }
    return (fd, String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self))
  }
}
