/// Loads facts from TSV or CSV files straight into a relation (`.import FILE RELATION`), with
/// no parsing of dq source: the fast way to bring large data in.
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
  }

  /// The bytes of an import file, within `Limits.maxImportBytes` and `maxImportLineBytes`.
  /// Bytes that are not UTF-8 are refused, naming the line, rather than turned into U+FFFD.
  static func read(_ path: String) -> Result<[UInt8], Failure> {
    SourceReader.readBytes(path, maxBytes: Limits.maxImportBytes, maxLineBytes: Limits.maxImportLineBytes)
      .flatMap { bytes in
        bytes.withUnsafeBufferPointer(SourceReader.isValidUTF8) ? .success(bytes) : .failure(SourceReader.notUTF8(bytes))
      }
      .mapError { Failure(message: "Cannot read '\(path)': \($0.reason)", line: $0.line ?? 0) }
  }

  /// Reads every row of the file's bytes into `table`'s facts; returns the number of new facts.
  /// All or nothing: the rows are checked first and inserted only when every one is sound, so a
  /// failure leaves the relation exactly as it was.
  static func load(
    bytes: [UInt8], path: String, format: Format, separator: UInt8? = nil, skip: Int = 0, header: Bool = false,
    declaredColumns: [String]? = nil, into table: Database.Table, store: ValueStore, citation: Int32
  ) throws(Failure) -> Int {
    let arity = table.arity
    // Rows are gathered flat and inserted together, so the hash-table misses overlap.
    let rows = Memory.allocate(Value.self, count: try capacity(bytes, path: path, table: table))
    defer { Memory.release(rows) }
    let result = bytes.withUnsafeBufferPointer { p -> Result<(rows: Int, empty: Int), Failure> in
      var reader = RecordReader(p, format: format, separator: separator, path: path, store: store)
      if let columns = declaredColumns, columns.count == arity {
        reader.columnKinds = columnKinds(table.factRows, store: store)
        reader.columns = columns
      }
      reader.skipLines(skip)
      if header {
        if case .failure(let f) = reader.skipHeader() { return .failure(f) }
      }
      return reader.readAll(into: rows, arity: arity, relation: table.name)
    }
    let (rowCount, emptyRows) = try result.get()
    let holder = table.factRows
    var added = 0
    if arity > 0 {
      holder.reserve(rowCount)
      added = holder.insertAll(rows, count: rowCount)
    } else if emptyRows > 0, holder.insert([]) {
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

  /// Values the rows of a file can need: there are at most `lines + 1` records (quoted CSV
  /// fields may span lines, blank lines hold none).
  private static func capacity(_ bytes: [UInt8], path: String, table: Database.Table) throws(Failure) -> Int {
    var lines = 0
    bytes.withUnsafeBytes { p in
      guard let base = p.baseAddress else { return }
      var k = 0
      // memchr scans many bytes at a time: a byte-by-byte count cost a tenth of an import.
      while k < p.count, let nl = memchr(base + k, 10, p.count - k) {
        lines += 1
        k = base.distance(to: UnsafeRawPointer(nl)) + 1
      }
    }
    let (capacity, overflow) = (lines + 1).multipliedReportingOverflow(by: max(1, table.arity))
    guard !overflow else {
      throw Failure(message: "'\(path)' has too many lines for '\(table.name)' (\(table.arity) columns)", line: 0)
    }
    return capacity
  }

  /// Walks the bytes of a TSV or CSV file record by record, field by field.
  private struct RecordReader {
    let p: UnsafeBufferPointer<UInt8>
    let format: Format
    let separator: UInt8
    let path: String
    let store: ValueStore
    /// The next byte to read.
    var i = 0
    /// The 1-based line being read.
    var lineNumber = 0
    /// For a declared relation: the kind each column's facts all have (number or date), which
    /// every imported field in that column must have too; empty when nothing is checked.
    var columnKinds: [ValueKind?] = []
    /// The declared column names, for the message.
    var columns: [String] = []

    init(_ p: UnsafeBufferPointer<UInt8>, format: Format, separator: UInt8? = nil, path: String, store: ValueStore) {
      (self.p, self.format, self.path, self.store) = (p, format, path, store)
      self.separator = separator ?? (format == .csv ? UInt8(ascii: ",") : 9)
    }

    /// Steps over the header record (after blank lines), which may span lines when quoted.
    mutating func skipHeader() -> Result<Void, Failure> {
      while i < p.count {
        lineNumber += 1
        if skipBlankLine() { continue }
        return rawRecord().map { _ in () }
      }
      return .success(())
    }

    /// The next non-blank record as text fields, each with whether it reads as a number or a
    /// date (a quoted field never does); nil at the end of the file.
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
          let start = i
          while i < p.count, p[i] != separator, p[i] != 10 { i += 1 }
          var end = i
          if end > start, p[end - 1] == 13 { end -= 1 }
          let f = UnsafeBufferPointer(rebasing: p[start..<end])
          fields.append((String(decoding: f, as: UTF8.self), isTyped(f)))
        }
        if i < p.count, p[i] == separator {
          i += 1
        } else {
          if i < p.count { i += 1 }
          return .success(fields)
        }
      }
    }

    /// Skips `count` lines (a header).
    mutating func skipLines(_ count: Int) {
      while lineNumber < count, i < p.count {
        while i < p.count, p[i] != 10 { i += 1 }
        i += 1
        lineNumber += 1
      }
    }

    /// Reads every record into `rows` (`arity` values each); a relation of no columns counts
    /// its records as `empty`.
    mutating func readAll(into rows: UnsafeMutablePointer<Value>, arity: Int, relation: String)
      -> Result<(rows: Int, empty: Int), Failure>
    {
      var rowCount = 0
      var emptyRows = 0
      while i < p.count {
        lineNumber += 1
        if skipBlankLine() { continue }
        let fields: Int
        switch readRecord(into: rows + rowCount &* arity, arity: arity) {
        case .success(let n): fields = n
        case .failure(let f): return .failure(f)
        }
        guard fields == arity else {
          return .failure(
            Failure(
              message: "Line \(lineNumber) of '\(path)' has \(fields) field\(fields == 1 ? "" : "s"), but '\(relation)' has \(arity) column\(arity == 1 ? "" : "s")",
              line: lineNumber))
        }
        if arity == 0 { emptyRows += 1 } else { rowCount += 1 }
      }
      return .success((rowCount, emptyRows))
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

    /// `FILE:LINE:COL: ...`: a field whose kind is not its declared column's.
    func wrongKind(_ v: Value, expected: ValueKind, column: Int, at start: Int, line: Int) -> Failure {
      var lineStart = start
      while lineStart > 0, p[lineStart - 1] != 10 { lineStart -= 1 }
      let col = String(decoding: UnsafeBufferPointer(rebasing: p[lineStart..<start]), as: UTF8.self).count + 1
      func name(_ k: ValueKind) -> String { k == .number ? "number" : k == .date ? "date" : "symbol" }
      var end = max(start, i)
      if end > start, p[end - 1] == 13 { end -= 1 }
      let field = String(decoding: UnsafeBufferPointer(rebasing: p[start..<end]), as: UTF8.self)
      return Failure(
        message: "\(path):\(line):\(col): '\(field)' is a \(name(store.kind(v))), but column \(column + 1) ('\(columns[column])') of the declared relation holds only \(name(expected))s; nothing was imported",
        line: line)
    }

    /// A field up to the separator or the line end (a CR before the LF is not part of it).
    @inline(__always)
    mutating func plainField() -> Value {
      let start = i
      while i < p.count, p[i] != separator, p[i] != 10 { i += 1 }
      var end = i
      if end > start, p[end - 1] == 13 { end -= 1 }
      return value(UnsafeBufferPointer(rebasing: p[start..<end]), tsv: format == .tsv, store: store)
    }

    /// A quoted CSV field: "" is a quote, and separators and newlines are text.
    mutating func quotedField() -> Result<Value, Failure> {
      quotedBytes().map { store.symbol(String(decoding: $0, as: UTF8.self)) }
    }

    /// The text of a quoted CSV field, its quotes undone; stops after the field.
    mutating func quotedBytes() -> Result<[UInt8], Failure> {
      let opened = lineNumber
      var field: [UInt8] = []
      var closed = false
      i += 1
      while i < p.count {
        if p[i] == UInt8(ascii: "\"") {
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
      // A quote left open would swallow the rest of the file into one field.
      guard closed else {
        return .failure(Failure(message: "Line \(opened) of '\(path)' opens a quoted field that is never closed", line: opened))
      }
      while i < p.count, p[i] != separator, p[i] != 10 { i += 1 }
      return .success(field)
    }
  }

  /// Whether a file's first record (after `skip` lines) is a header, and its fields. Like
  /// DuckDB's sniffer: it is one when every field of it is text and some field of the record
  /// below it is a number or a date. Nil when the file has no record.
  static func firstRecord(
    _ bytes: [UInt8], path: String, format: Format, separator: UInt8?, skip: Int
  ) throws(Failure) -> (fields: [String], looksLikeHeader: Bool)? {
    let store = ValueStore()
    let result = bytes.withUnsafeBufferPointer { p -> Result<(fields: [String], looksLikeHeader: Bool)?, Failure> in
      var reader = RecordReader(p, format: format, separator: separator, path: path, store: store)
      reader.skipLines(skip)
      let first: [(text: String, typed: Bool)]
      switch reader.nextRawRecord() {
      case .success(let r?): first = r
      case .success(nil): return .success(nil)
      case .failure(let f): return .failure(f)
      }
      let names = first.map(\.text)
      guard first.allSatisfy({ !$0.typed }) else { return .success((names, false)) }
      switch reader.nextRawRecord() {
      case .success(let second?): return .success((names, second.contains(where: \.typed)))
      case .success(nil): return .success((names, false))
      case .failure(let f): return .failure(f)
      }
    }
    return try result.get()
  }

  /// Whether an unquoted field reads as a number or a date (the sniffer's test).
  private static func isTyped(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
    numberValue(f) != nil || isDate(f)
  }

  /// `YYYY-MM-DD` that is a real date.
  private static func isDate(_ f: UnsafeBufferPointer<UInt8>) -> Bool {
    f.count == 10 && f[4] == UInt8(ascii: "-") && DateCodec.parse(String(decoding: f, as: UTF8.self)) != nil
  }

  /// A field's value: an integer, decimal or date when it reads as one, a symbol otherwise.
  /// TSV fields undo the escapes dq writes (`\t`, `\n`, `\\`).
  private static func value(_ f: UnsafeBufferPointer<UInt8>, tsv: Bool, store: ValueStore) -> Value {
    switch numberValue(f) {
    case .integer(let v)?: return store.integer(v)
    case .decimal(let d)?: return store.decimal(d)
    case nil: break
    }
    if f.count == 10, f[4] == UInt8(ascii: "-"), let d = DateCodec.parse(String(decoding: f, as: UTF8.self)) {
      return store.date(d)
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
    return store.symbol(String(decoding: f, as: UTF8.self))
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
    guard f[k] == UInt8(ascii: "."), k + 1 < f.count, UnsafeBufferPointer(rebasing: f[(k + 1)...]).allSatisfy(isDigit),
      let d = Double(String(decoding: f, as: UTF8.self)), d.isFinite
    else { return nil }
    return .decimal(d)
  }
}
