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
    bytes: [UInt8], path: String, format: Format, skip: Int = 0, into table: Database.Table, store: ValueStore,
    citation: Int32
  ) throws(Failure) -> Int {
    let holder = table.factRows
    let arity = table.arity
    // One fact per line, near enough: size the relation once.
    var lines = 0
    for b in bytes where b == 10 { lines += 1 }
    // Rows are gathered flat and inserted together, so the hash-table misses overlap. There are
    // at most `lines + 1` records (quoted CSV fields may span lines, blank lines hold none).
    let (capacity, overflow) = (lines + 1).multipliedReportingOverflow(by: max(1, arity))
    guard !overflow else {
      throw Failure(message: "'\(path)' has too many lines for '\(table.name)' (\(arity) columns)", line: 0)
    }
    let rows = Memory.allocate(Value.self, count: capacity)
    defer { Memory.release(rows) }
    var rowCount = 0
    var emptyRows = 0
    var lineNumber = 0
    let separator: UInt8 = format == .csv ? UInt8(ascii: ",") : 9
    let result: Failure? = bytes.withUnsafeBufferPointer { p -> Failure? in
      let n = p.count
      var i = 0
      // Skip header lines.
      while lineNumber < skip, i < n {
        while i < n, p[i] != 10 { i += 1 }
        i += 1
        lineNumber += 1
      }
      while i < n {
        lineNumber += 1
        // Blank lines hold no record.
        if p[i] == 10 || (p[i] == 13 && i + 1 < n && p[i + 1] == 10) {
          i += p[i] == 10 ? 1 : 2
          continue
        }
        var fields = 0
        var atEnd = false
        while !atEnd {
          var v: Value
          if format == .csv, p[i] == UInt8(ascii: "\"") {
            // A quoted CSV field: "" is a quote, and separators and newlines are text.
            let opened = lineNumber
            var field: [UInt8] = []
            var closed = false
            i += 1
            while i < n {
              if p[i] == UInt8(ascii: "\"") {
                if i + 1 < n, p[i + 1] == UInt8(ascii: "\"") {
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
              return Failure(
                message: "Line \(opened) of '\(path)' opens a quoted field that is never closed",
                line: opened)
            }
            while i < n, p[i] != separator, p[i] != 10 { i += 1 }
            v = store.symbol(String(decoding: field, as: UTF8.self))
          } else {
            let start = i
            while i < n, p[i] != separator, p[i] != 10 { i += 1 }
            var end = i
            if end > start, p[end - 1] == 13 { end -= 1 }
            v = value(UnsafeBufferPointer(rebasing: p[start..<end]), tsv: format == .tsv, store: store)
          }
          if fields < arity { rows[rowCount &* arity &+ fields] = v }
          fields += 1
          if i < n, p[i] == separator {
            i += 1
          } else {
            atEnd = true
            if i < n { i += 1 }
          }
        }
        guard fields == arity else {
          return Failure(
            message: "Line \(lineNumber) of '\(path)' has \(fields) field\(fields == 1 ? "" : "s"), but '\(table.name)' has \(arity) column\(arity == 1 ? "" : "s")",
            line: lineNumber)
        }
        if arity == 0 { emptyRows += 1 } else { rowCount += 1 }
      }
      return nil
    }
    if let result { throw result }
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

  /// A field's value: an integer, decimal or date when it reads as one, a symbol otherwise.
  /// TSV fields undo the escapes dq writes (`\t`, `\n`, `\\`).
  private static func value(_ f: UnsafeBufferPointer<UInt8>, tsv: Bool, store: ValueStore) -> Value {
    if let v = number(f, store) { return v }
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

  /// `-?digits` (64-bit) or `-?digits.digits`.
  private static func number(_ f: UnsafeBufferPointer<UInt8>, _ store: ValueStore) -> Value? {
    var k = 0
    let negative = f.first == UInt8(ascii: "-")
    if negative { k = 1 }
    guard k < f.count else { return nil }
    var magnitude: UInt64 = 0
    var digits = 0
    while k < f.count, isDigit(f[k]) {
      let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(UInt64(f[k] - 48))
      if o1 || o2 { return nil }
      magnitude = a
      digits += 1
      k += 1
    }
    guard digits > 0 else { return nil }
    if k == f.count {
      if negative {
        if magnitude == UInt64(Int64.max) + 1 { return store.integer(Int64.min) }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return store.integer(-Int64(magnitude))
      }
      guard magnitude <= UInt64(Int64.max) else { return nil }
      return store.integer(Int64(magnitude))
    }
    guard f[k] == UInt8(ascii: "."), k + 1 < f.count, UnsafeBufferPointer(rebasing: f[(k + 1)...]).allSatisfy(isDigit),
      let d = Double(String(decoding: f, as: UTF8.self)), d.isFinite
    else { return nil }
    return store.decimal(d)
  }

}
