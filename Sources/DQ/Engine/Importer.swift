/// Loads facts from TSV or CSV files, and GDELT and ICEWS event exports, straight into a
/// relation (`.import FILE RELATION`), with no parsing of dq source: the fast way to bring large
/// data in. Files are read in blocks (`BlockReader`), so their size does not bound what loads.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

enum Importer {
  /// How fields are separated and quoted.
  enum Format { case tsv, csv }

  struct Failure: Error {
    var message: String
    var line: Int
    /// The file could not be read (missing, not UTF-8, a line past the limit): exit status 66.
    var unreadable = false
  }

  /// The bytes of a whole file (JSON Lines imports read this way; TSV, CSV and the event
  /// formats stream, see `load`), within `Limits.maxImportBytes` and `maxImportLineBytes`.
  /// Bytes that are not UTF-8 are refused, naming the line, rather than turned into U+FFFD.
  static func read(_ path: String) -> Result<[UInt8], Failure> {
    SourceReader.readBytes(path, maxBytes: Limits.maxImportBytes, maxLineBytes: Limits.maxImportLineBytes)
      .flatMap { bytes in
        bytes.withUnsafeBufferPointer(SourceReader.isValidUTF8) ? .success(bytes) : .failure(SourceReader.notUTF8(bytes))
      }
      .mapError { Failure(message: "Cannot read '\(path)': \($0.reason)", line: $0.line ?? 0) }
  }

  /// Reads every record of the file at `path` into `table`'s facts; returns the number of new
  /// facts. The file is read in blocks of `blockBytes` (a record crossing a block is carried
  /// over), so a file of any size needs memory for the rows it adds, not for its bytes. All
  /// or nothing: the rows are gathered first and inserted only when every one is sound, so a
  /// failure leaves the relation exactly as it was. With a `layout` (GDELT, ICEWS) the fields
  /// are read as its columns' kinds, and a header row (ICEWS) is skipped when present.
  static func load(
    path: String, format: Format, separator: UInt8? = nil, skip: Int = 0, header: Bool = false,
    layout: EventLayout? = nil, declaredColumns: [String]? = nil, into table: Database.Table, store: ValueStore,
    citation: Int32, blockBytes: Int = BlockReader.blockBytes
  ) throws(Failure) -> Int {
    let arity = table.arity
    let input = try BlockReader(path, blockBytes: blockBytes)
    var rows = RowBuffer()
    defer { rows.release() }
    try input.refill(keeping: 0)
    var reader = RecordReader(input.window, format: layout == nil ? format : .tsv, separator: layout == nil ? separator : 9, path: path, store: store)
    reader.final = input.atEnd
    if layout == nil, let columns = declaredColumns, columns.count == arity {
      reader.columnKinds = columnKinds(table.factRows, store: store)
      reader.columns = columns
    }
    reader.pendingSkip = skip
    reader.pendingHeader = header
    var emptyRows = 0
    // Into a relation with no facts yet the rows go block by block, so its rows are never held
    // twice (a failure then empties it again); into one with facts they are gathered first
    // and inserted at the end, which leaves it untouched on a failure.
    let holder = table.factRows
    let direct = arity > 0 && holder.count == 0
    var added = 0
    var reserved = false
    while true {
      let step: Result<Bool, Failure>
      if let layout {
        step = reader.readLayout(layout, into: &rows)
      } else {
        step = reader.readAll(into: &rows, arity: arity, relation: table.name, empty: &emptyRows)
      }
      let done: Bool
      switch step {
      case .success(let d): done = d
      case .failure(let f):
        if direct { holder.removeAllReleasingMemory() }
        throw f
      }
      if direct {
        let n = rows.rowCount(arity: arity)
        // After the first block, room for the rows the whole file should hold (by the bytes a
        // row takes so far), so the table is not rebuilt again and again as it grows.
        if !reserved, n > 0, input.fileSize > 0, !done {
          reserved = true
          let estimate = Int(Double(input.fileSize) / Double(max(1, reader.i)) * Double(n) * 1.05)
          holder.reserve(min(estimate, Int(Int32.max)))
        }
        added += holder.insertAll(rows.base, count: n)
        rows.count = 0
      }
      if done { break }
      // The record at `reader.i` needs more bytes: keep it, read the next block after it.
      do throws(Failure) {
        try input.refill(keeping: reader.i, line: reader.lineNumber + 1)
      } catch {
        if direct { holder.removeAllReleasingMemory() }
        throw error
      }
      reader.rebase(input.window, final: input.atEnd)
    }
    if !direct, arity > 0 {
      holder.reserve(rows.rowCount(arity: arity))
      added = holder.insertAll(rows.base, count: rows.rowCount(arity: arity))
    } else if arity == 0, emptyRows > 0, holder.insert([]) {
      added = 1
    }
    table.appendCitations(added, citation)
    return added
  }

  /// Each column's kind when every fact in it is a number, or every one a date (nil otherwise,
  /// and for a relation with no facts): the kinds a declared relation's import must keep.
  private static func columnKinds(_ facts: Relation, store: ValueStore) -> [ValueKind?] {
    (0..<facts.arity).map { c -> ValueKind? in
      guard facts.count > 0 else { return nil }
      let kind = store.kind(facts[0, c])
      guard kind != .symbol else { return nil }
      for r in 1..<facts.count where store.kind(facts[r, c]) != kind { return nil }
      return kind
    }
  }

  /// Walks the bytes of a TSV or CSV file record by record, field by field, over a window of
  /// the file. A record the window cuts short (not `final`) is never read as it stands: the
  /// reader stops before it (`needMore`), and reads it again once the next block is in.
  private struct RecordReader {
    var p: UnsafeBufferPointer<UInt8>
    let format: Format
    let separator: UInt8
    let path: String
    let store: ValueStore
    /// Interns the fields from their bytes.
    let interner: FieldInterner
    /// The next byte to read.
    var i = 0
    /// The 1-based line being read.
    var lineNumber = 0
    /// True when the window ends with the file.
    var final = true
    /// Set when a field ran into the end of a window that is not `final`.
    var truncated = false
    /// Lines still to skip (`--skip N`), and whether a header record is still to skip.
    var pendingSkip = 0
    var pendingHeader = false
    /// For a declared relation: the kind each column's facts all have (number or date), which
    /// every imported field in that column must have too; empty when nothing is checked.
    var columnKinds: [ValueKind?] = []
    /// The declared column names, for the message.
    var columns: [String] = []

    init(_ p: UnsafeBufferPointer<UInt8>, format: Format, separator: UInt8? = nil, path: String, store: ValueStore) {
      (self.p, self.format, self.path, self.store) = (p, format, path, store)
      interner = FieldInterner(store: store)
      self.separator = separator ?? (format == .csv ? UInt8(ascii: ",") : 9)
    }

    /// Continues in `window`, which now starts at the record that needed more bytes.
    mutating func rebase(_ window: UnsafeBufferPointer<UInt8>, final: Bool) {
      (p, i, self.final, truncated) = (window, 0, final, false)
    }

    /// The next non-blank record as text fields, each with whether it reads as a number or a
    /// date (a quoted field never does); nil at the end of the window.
    mutating func nextRawRecord() -> Result<[(text: String, typed: Bool)]?, Failure> {
      while i < p.count {
        lineNumber += 1
        if skipBlankLine() { continue }
        return rawRecord().map { Optional($0) }
      }
      return .success(nil)
    }

    /// One record's fields as text (TSV escapes left as written: only headers and the sniffer
    /// read records this way).
    mutating func rawRecord() -> Result<[(text: String, typed: Bool)], Failure> {
      var fields: [(text: String, typed: Bool)] = []
      while true {
        if format == .csv, i < p.count, p[i] == UInt8(ascii: "\"") {
          switch quotedBytes() {
          case .success(let q): fields.append((String(decoding: q, as: UTF8.self), false))
          case .failure(let f): return .failure(f)
          }
        } else {
          let f = plainBytes()
          fields.append((String(decoding: f, as: UTF8.self), isTyped(f)))
        }
        if truncated { return .success(fields) }
        if i < p.count, p[i] == separator {
          i += 1
        } else {
          if i < p.count { i += 1 }
          return .success(fields)
        }
      }
    }

    /// Steps over the lines still to skip and the header; false when the window ends first.
    mutating func skipPreamble() -> Result<Bool, Failure> {
      while pendingSkip > 0, i < p.count, let base = p.baseAddress {
        guard let nl = memchr(base + i, 10, p.count - i) else {
          if !final { return .success(false) }
          i = p.count
          break
        }
        i = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(nl)) + 1
        lineNumber += 1
        pendingSkip -= 1
      }
      if pendingSkip > 0 && !final { return .success(false) }
      pendingSkip = 0
      while pendingHeader, i < p.count {
        let (start, line) = (i, lineNumber)
        lineNumber += 1
        if skipBlankLine() { continue }
        let r = rawRecord()
        if truncated || (!final && i >= p.count) {
          (i, lineNumber, truncated) = (start, line, false)
          return .success(false)
        }
        if case .failure(let f) = r { return .failure(f) }
        pendingHeader = false
      }
      if pendingHeader && !final { return .success(false) }
      pendingHeader = false
      return .success(true)
    }

    /// Reads the records of the window into `rows` (`arity` values each); a relation of no
    /// columns counts its records as `empty`. True when the file is done, false when the
    /// window ends before it (`i` is then where the next record starts).
    mutating func readAll(into rows: inout RowBuffer, arity: Int, relation: String, empty emptyRows: inout Int)
      -> Result<Bool, Failure>
    {
      switch skipPreamble() {
      case .success(true): break
      case .success(false): return .success(false)
      case .failure(let f): return .failure(f)
      }
      while i < p.count {
        let (start, line) = (i, lineNumber)
        lineNumber += 1
        if skipBlankLine() { continue }
        let row = rows.reserve(arity)
        let result = readRecord(into: row, arity: arity)
        if truncated {
          (i, lineNumber, truncated) = (start, line, false)
          return .success(false)
        }
        let fields: Int
        switch result {
        case .success(let n): fields = n
        case .failure(let f): return .failure(f)
        }
        guard fields == arity else {
          return .failure(
            Failure(
              message: "Line \(lineNumber) of '\(path)' has \(fields) field\(fields == 1 ? "" : "s"), but '\(relation)' has \(arity) column\(arity == 1 ? "" : "s")",
              line: lineNumber))
        }
        if arity == 0 { emptyRows += 1 } else { rows.count &+= arity }
      }
      return .success(final)
    }

    /// Steps over an empty line (LF or CRLF), which holds no record.
    @inline(__always)
    mutating func skipBlankLine() -> Bool {
      if p[i] == 10 {
        i += 1
        return true
      }
      if p[i] == 13 && i + 1 < p.count && p[i + 1] == 10 {
        i += 2
        return true
      }
      return false
    }

    /// Reads one record's fields, keeping the first `arity`; returns how many it has.
    @inline(__always)
    mutating func readRecord(into row: UnsafeMutablePointer<Value>, arity: Int) -> Result<Int, Failure> {
      var fields = 0
      while true {
        let v: Value
        let (fieldStart, fieldLine) = (i, lineNumber)
        if format == .csv, i < p.count, p[i] == UInt8(ascii: "\"") {
          switch quotedField() {
          case .success(let q): v = q
          case .failure(let f): return .failure(f)
          }
        } else {
          v = plainField()
        }
        if truncated { return .success(fields) }
        if fields < arity {
          row[fields] = v
          if !columnKinds.isEmpty, let kind = columnKinds[fields], store.kind(v) != kind {
            return .failure(wrongKind(v, expected: kind, column: fields, at: fieldStart, line: fieldLine))
          }
        }
        fields += 1
        if i < p.count, p[i] == separator {
          i += 1
        } else {
          if i < p.count { i += 1 }
          return .success(fields)
        }
      }
    }

    /// The 1-based column (in characters) of the byte at `start` on its line.
    func column(of start: Int) -> Int {
      var lineStart = start
      while lineStart > 0, p[lineStart - 1] != 10 { lineStart -= 1 }
      return String(decoding: UnsafeBufferPointer(rebasing: p[lineStart..<start]), as: UTF8.self).count + 1
    }

    /// `FILE:LINE:COL: ...`: a field whose kind is not its declared column's.
    func wrongKind(_ v: Value, expected: ValueKind, column: Int, at start: Int, line: Int) -> Failure {
      let col = self.column(of: start)
      func name(_ k: ValueKind) -> String { k == .number ? "number" : k == .date ? "date" : "symbol" }
      var end = max(start, i)
      if end > start, p[end - 1] == 13 { end -= 1 }
      let field = String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self)
      return Failure(
        message: "\(path):\(line):\(col): '\(field)' is a \(name(store.kind(v))), but column \(column + 1) ('\(columns[column])') of the declared relation holds only \(name(expected))s; nothing was imported",
        line: line)
    }

    /// The bytes of a field up to the separator or the line end (a CR before the LF is not
    /// part of it).
    @inline(__always)
    mutating func plainBytes() -> UnsafeBufferPointer<UInt8> {
      let start = i
      while i < p.count, p[i] != separator, p[i] != 10 { i += 1 }
      if i == p.count && !final { truncated = true }
      var end = i
      if end > start, p[end - 1] == 13 { end -= 1 }
      return UnsafeBufferPointer(rebasing: p[start..<end])
    }

    /// A field up to the separator or the line end, as a value.
    @inline(__always)
    mutating func plainField() -> Value {
      let f = plainBytes()
      return truncated ? 0 : value(f, tsv: format == .tsv, interner: interner)
    }

    /// A quoted CSV field: "" is a quote, and separators and newlines are text.
    mutating func quotedField() -> Result<Value, Failure> {
      // The common case, a field with no "" and no line break inside, is interned from its
      // bytes where they lie; any other goes through `quotedBytes`.
      let start = i + 1
      var close = start
      while close < p.count, p[close] != UInt8(ascii: "\""), p[close] != 10 { close += 1 }
      if close + 1 < p.count, p[close] == UInt8(ascii: "\""), p[close + 1] != UInt8(ascii: "\"") {
        i = close + 1
        while i < p.count, p[i] != separator, p[i] != 10 { i += 1 }
        if i == p.count && !final {
          truncated = true
          return .success(0)
        }
        return .success(interner.symbol(UnsafeBufferPointer(rebasing: p[start..<close])))
      }
      return quotedBytes().map { truncated ? 0 : store.symbol(String(decoding: $0, as: UTF8.self)) }
    }

    /// The text of a quoted CSV field, its quotes undone; stops after the field.
    mutating func quotedBytes() -> Result<[UInt8], Failure> {
      let opened = lineNumber
      var field: [UInt8] = []
      var closed = false
      i += 1
      while i < p.count {
        if p[i] == UInt8(ascii: "\"") {
          // A quote that ends the window may be the first of a "" pair.
          if i + 1 == p.count && !final { break }
          if i + 1 < p.count, p[i + 1] == UInt8(ascii: "\"") {
            field.append(UInt8(ascii: "\""))
            i += 2
            continue
          }
          i += 1
          closed = true
          break
        }
        if p[i] == 10 { lineNumber += 1 }
        field.append(p[i])
        i += 1
      }
      guard closed else {
        if !final {
          truncated = true
          return .success([])
        }
        // A quote left open would swallow the rest of the file into one field.
        return .failure(Failure(message: "Line \(opened) of '\(path)' opens a quoted field that is never closed", line: opened))
      }
      while i < p.count, p[i] != separator, p[i] != 10 { i += 1 }
      if i == p.count && !final { truncated = true }
      return .success(field)
    }

    // MARK: - Fixed layouts (GDELT, ICEWS)

    /// Reads the window's records as `layout`'s columns into `rows`: each field by its
    /// column's kind, the record's field count choosing the version. True when the file is
    /// done, false when the window ends before it.
    mutating func readLayout(_ layout: EventLayout, into rows: inout RowBuffer) -> Result<Bool, Failure> {
      let most = (layout.versions.keys.max() ?? 0) + 1
      var starts = [Int](repeating: 0, count: most + 1)
      var ends = [Int](repeating: 0, count: most + 1)
      let empty = store.symbol("")
      while i < p.count {
        let (start, line) = (i, lineNumber)
        lineNumber += 1
        if skipBlankLine() { continue }
        // Fields as byte ranges, up to one more than the most a version has.
        var fields = 0
        while true {
          let fieldStart = i
          let f = plainBytes()
          if truncated { break }
          if fields < most {
            starts[fields] = fieldStart
            ends[fields] = fieldStart + f.count
          }
          fields += 1
          if i < p.count, p[i] == separator {
            i += 1
          } else {
            if i < p.count { i += 1 }
            break
          }
        }
        if truncated {
          (i, lineNumber, truncated) = (start, line, false)
          return .success(false)
        }
        // The header row, when the format has one: its first record only.
        if let prefix = layout.headerPrefix, !headerChecked {
          headerChecked = true
          if fields >= prefix.count,
            (0..<prefix.count).allSatisfy({ k in
              String(decoding: UnsafeBufferPointer(rebasing: p[starts[k]..<ends[k]]), as: UTF8.self) == prefix[k]
            })
          {
            continue
          }
        }
        guard let version = layout.versions[fields] else {
          return .failure(
            Failure(
              message: "\(path):\(lineNumber):1: a record of \(fields) field\(fields == 1 ? "" : "s"), but \(layout.name.uppercased()) records have \(layout.fieldCounts); nothing was imported",
              line: lineNumber))
        }
        let row = rows.reserve(layout.arity)
        for c in 0..<layout.arity {
          guard let k = version[c] else {
            row[c] = empty
            continue
          }
          let f = UnsafeBufferPointer(rebasing: p[starts[k]..<ends[k]])
          if f.isEmpty {
            row[c] = empty
            continue
          }
          guard let v = Importer.typedValue(f, layout.kinds[c], interner: interner) else {
            let text = String(decoding: f, as: UTF8.self)
            return .failure(
              Failure(
                message: "\(path):\(lineNumber):\(column(of: starts[k])): '\(text)' in column \(c + 1) ('\(layout.columns[c])') is not \(Importer.describe(layout.kinds[c])); nothing was imported",
                line: lineNumber))
          }
          row[c] = v
        }
        rows.count &+= layout.arity
      }
      return .success(final)
    }

    /// Whether the first record of a layout with a header has been looked at.
    var headerChecked = false
  }

  /// A layout field (not empty) read as `kind`, or nil when it does not spell one.
  static func typedValue(_ f: UnsafeBufferPointer<UInt8>, _ kind: EventLayout.Kind, interner: FieldInterner) -> Value? {
    let store = interner.store
    switch kind {
    case .symbol:
      return interner.symbol(f)
    case .integer:
      let negative = f[0] == UInt8(ascii: "-")
      let (k, magnitude) = IntegerLiteral.leadingDigits(f, from: negative ? 1 : 0)
      guard k == f.count, k > (negative ? 1 : 0), let m = magnitude,
        let v = IntegerLiteral.value(magnitude: m, negative: negative)
      else { return nil }
      return store.integer(v)
    case .decimal:
      let negative = f[0] == UInt8(ascii: "-")
      let from = negative ? 1 : 0
      let (k, _) = IntegerLiteral.leadingDigits(f, from: from)
      guard k > from else { return nil }
      if k < f.count {
        guard f[k] == UInt8(ascii: "."), k + 1 < f.count,
          UnsafeBufferPointer(rebasing: f[(k + 1)...]).allSatisfy(isDigit)
        else { return nil }
      }
      guard let d = decimalValue(f) else { return nil }
      return interner.decimal(d)
    case .isoDate:
      guard let d = isoDate(f) else { return nil }
      return store.date(d)
    case .compactDate:
      guard f.count == 8, f.allSatisfy(isDigit) else { return nil }
      func number(_ r: Range<Int>) -> Int64 { r.reduce(0) { $0 * 10 + Int64(f[$1] &- 48) } }
      let (y, m, d) = (number(0..<4), number(4..<6), number(6..<8))
      guard m >= 1, m <= 12, d >= 1, d <= DateCodec.daysInMonth(year: y, month: m) else { return nil }
      return store.date(DateCodec.days(year: y, month: m, day: d))
    }
  }

  /// What a layout kind reads, for messages.
  static func describe(_ kind: EventLayout.Kind) -> String {
    switch kind {
    case .symbol: return "text"
    case .integer: return "an integer"
    case .decimal: return "a decimal number"
    case .isoDate: return "a date (YYYY-MM-DD)"
    case .compactDate: return "a date (YYYYMMDD)"
    }
  }

  /// Whether a file's first record (after `skip` lines) is a header, and its fields. Like
  /// DuckDB's sniffer: it is one when every field of it is text and some field of the record
  /// below it is a number or a date. Nil when the file has no record. Reads only the first
  /// block(s) of the file: as many as the first two records need.
  static func firstRecord(
    path: String, format: Format, separator: UInt8?, skip: Int
  ) throws(Failure) -> (fields: [String], looksLikeHeader: Bool)? {
    let store = ValueStore()
    let input = try BlockReader(path)
    try input.refill(keeping: 0)
    var reader = RecordReader(input.window, format: format, separator: separator, path: path, store: store)
    reader.final = input.atEnd
    reader.pendingSkip = skip
    // The lines to skip, block by block (they may be many).
    while true {
      switch reader.skipPreamble() {
      case .success(true): break
      case .success(false):
        try input.refill(keeping: reader.i, line: reader.lineNumber + 1)
        reader.rebase(input.window, final: input.atEnd)
        continue
      case .failure(let f): throw f
      }
      break
    }
    // The first two records, from one window: it grows until they fit.
    var (start, line) = (reader.i, reader.lineNumber)
    while true {
      if let result = sniff(&reader), !reader.truncated { return try result.get() }
      try input.refill(keeping: start, line: line + 1)
      reader.rebase(input.window, final: input.atEnd)
      reader.lineNumber = line
      start = 0
    }
  }

  /// The sniffer over one window; nil when it needs more of the file.
  private static func sniff(_ reader: inout RecordReader) -> Result<(fields: [String], looksLikeHeader: Bool)?, Failure>? {
    let first: [(text: String, typed: Bool)]
    switch reader.nextRawRecord() {
    case .success(let r?): first = r
    case .success(nil): return reader.final ? .success(nil) : nil
    case .failure(let f): return .failure(f)
    }
    if reader.truncated || (!reader.final && reader.i >= reader.p.count) { return nil }
    let names = first.map(\.text)
    guard first.allSatisfy({ !$0.typed }) else { return .success((names, false)) }
    switch reader.nextRawRecord() {
    case .success(let second?):
      if reader.truncated || (!reader.final && reader.i >= reader.p.count) { return nil }
      return .success((names, second.contains(where: \.typed)))
    case .success(nil): return reader.final ? .success((names, false)) : nil
    case .failure(let f): return .failure(f)
    }
  }

  /// Whether an unquoted field reads as a number or a date (the sniffer's test).
  private static func isTyped(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
    numberValue(f) != nil || isDate(f)
  }

  /// `YYYY-MM-DD` that is a real date.
  private static func isDate(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
    isoDate(f) != nil
  }

  /// A field's value: an integer, decimal or date when it reads as one, a symbol otherwise.
  /// TSV fields undo the escapes dq writes (`\t`, `\n`, `\\`).
  @inline(__always)
  private static func value(_ f: UnsafeBufferPointer<UInt8>, tsv: Bool, interner: FieldInterner) -> Value {
    let store = interner.store
    // Symbols are the common case in text data: a field that cannot start a number skips the
    // number test.
    if let b = f.first, b == UInt8(ascii: "-") || (b >= 48 && b <= 57) {
      switch numberValue(f) {
      case .integer(let v)?: return store.integer(v)
      case .decimal(let d)?: return interner.decimal(d)
      case nil: break
      }
      if let d = isoDate(f) { return store.date(d) }
    }
    if tsv, f.contains(UInt8(ascii: "\\")) {
      var out: [UInt8] = []
      var k = 0
      while k < f.count {
        if f[k] == UInt8(ascii: "\\"), k + 1 < f.count {
          switch f[k + 1] {
          case UInt8(ascii: "t"): out.append(9)
          case UInt8(ascii: "n"): out.append(10)
          case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
          default: out.append(f[k]); out.append(f[k + 1])
          }
          k += 2
        } else {
          out.append(f[k])
          k += 1
        }
      }
      return store.symbol(String(decoding: out, as: UTF8.self))
    }
    return interner.symbol(f)
  }

  /// A number a field spells.
  private enum Number {
    case integer(Int64)
    case decimal(Double)
  }

  /// `-?digits` (64-bit) or `-?digits.digits`. Digits with a leading zero (`040`, `007`, `-01`)
  /// are a code, not a number: they stay a symbol so they round-trip; `0` and `0.5` are numbers.
  private static func numberValue(_ f: UnsafeBufferPointer<UInt8>) -> Number? {
    let negative = f.first == UInt8(ascii: "-")
    let start = negative ? 1 : 0
    let (k, magnitude) = IntegerLiteral.leadingDigits(f, from: start)
    // Past 64 bits the field is a symbol, a decimal point or not.
    guard k > start, let m = magnitude else { return nil }
    if f[start] == UInt8(ascii: "0"), k > start + 1 { return nil }
    if k == f.count {
      guard let v = IntegerLiteral.value(magnitude: m, negative: negative) else { return nil }
      return .integer(v)
    }
    guard f[k] == UInt8(ascii: "."), k + 1 < f.count else { return nil }
    // The fraction's digits, read on into the same mantissa (one pass over the field).
    var mantissa = m
    var j = k + 1
    while j < f.count {
      let d = f[j] &- 48
      if d > 9 { return nil }
      mantissa = mantissa &* 10 &+ UInt64(d)
      j += 1
    }
    let fraction = f.count - k - 1
    if k - start + fraction <= 15 {
      // Both exact: one division rounds correctly, as `Double(_:)` does.
      let d = Double(mantissa) / exactPowersOfTen[fraction]
      return .decimal(negative ? -d : d)
    }
    guard let d = Double(String(decoding: f, as: UTF8.self)), d.isFinite else { return nil }
    return .decimal(d)
  }
}
