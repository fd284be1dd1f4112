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

  /// The bytes of a file in blocks: `window` holds whole records from the last one kept on,
  /// checked to be UTF-8 up to its last newline (a newline is never part of a longer UTF-8
  /// sequence, so a block cut inside a character is checked once the rest has come).
  final class BlockReader {
    let path: String
    private let fd: Int32
    private(set) var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes held.
    private(set) var count = 0
    /// Bytes known to be UTF-8 (from the start of the buffer).
    private var checked = 0
    /// Newlines in the bytes checked and dropped before: the line number of a bad byte.
    private var linesChecked = 0
    /// True once the file has no more bytes.
    private(set) var atEnd = false
    /// The size of a regular file (0 for a pipe or a device).
    private(set) var fileSize = 0

    /// The size of a block: small enough to stay in cache, large enough that a read costs
    /// nothing next to parsing it.
    static let blockBytes = 1 << 20

    init(_ path: String, blockBytes: Int = BlockReader.blockBytes) throws(Failure) {
      self.path = path
      let fd = path == "-" ? 0 : open(path, O_RDONLY)
      if fd < 0 { throw Failure(message: "Cannot read '\(path)': \(String(cString: strerror(errno)))", line: 0, unreadable: true) }
      var info = stat()
      if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
        if fd != 0 { close(fd) }
        throw Failure(message: "Cannot read '\(path)': \(String(cString: strerror(EISDIR)))", line: 0, unreadable: true)
      }
      if (info.st_mode & S_IFMT) == S_IFREG { fileSize = Int(clamping: info.st_size) }
      self.fd = fd
      capacity = max(1, blockBytes)
      buffer = Memory.allocate(UInt8.self, count: capacity)
    }

    deinit {
      if fd != 0 { close(fd) }
      Memory.release(buffer)
    }

    var window: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: buffer, count: count) }

    /// Drops the bytes before `start` and reads more after the rest: a block, or to the end of
    /// the file. With nothing droppable and the buffer full (one record fills it), the buffer
    /// doubles, up to `Limits.maxImportLineBytes`; `line` names that record in the error.
    func refill(keeping start: Int, line: Int = 1) throws(Failure) {
      if start > 0 {
        linesChecked += newlines(in: 0..<min(start, checked))
        let kept = count - start
        if kept > 0 { memmove(buffer, buffer + start, kept) }
        count = kept
        checked = max(0, checked - start)
      }
      if count == capacity {
        guard capacity <= Limits.maxImportLineBytes else {
          throw Failure(
            message: "Cannot read '\(path)': line \(line) is longer than \(Limits.describe(bytes: Limits.maxImportLineBytes)), the longest line dq reads",
            line: line, unreadable: true)
        }
        capacity *= 2
        buffer = Memory.resize(buffer, count: capacity)
      }
      while count < capacity && !atEnd {
        let got = readBytes(fd, buffer + count, capacity - count)
        if got < 0 {
          if errno == EINTR { continue }
          throw Failure(message: "Cannot read '\(path)': \(String(cString: strerror(errno)))", line: 0, unreadable: true)
        }
        if got == 0 { atEnd = true } else { count += got }
      }
      try check()
    }

    /// Checks the bytes up to the last newline (all of them at the end of the file) are UTF-8.
    private func check() throws(Failure) {
      var upTo = count
      if !atEnd {
        while upTo > checked, buffer[upTo - 1] != 10 { upTo -= 1 }
        if upTo == checked { return }
      }
      let fresh = UnsafeBufferPointer(start: buffer + checked, count: upTo - checked)
      if !SourceReader.isValidUTF8(fresh) {
        let bad = SourceReader.notUTF8(Array(fresh))
        let line = linesChecked + newlines(in: 0..<checked) + (bad.line ?? 1)
        throw Failure(message: "Cannot read '\(path)': line \(line) is not valid UTF-8 text", line: line, unreadable: true)
      }
      checked = upTo
    }

    /// The newlines in `range` of the buffer.
    private func newlines(in range: Range<Int>) -> Int {
      var lines = 0
      var k = range.lowerBound
      while k < range.upperBound, let nl = memchr(buffer + k, 10, range.upperBound - k) {
        lines += 1
        k = UnsafeRawPointer(buffer).distance(to: UnsafeRawPointer(nl)) + 1
      }
      return lines
    }
  }

  /// The rows read so far, flat (`arity` values each), in memory that grows by doubling.
  struct RowBuffer {
    private(set) var base = Memory.allocate(Value.self, count: 1 << 12)
    private var capacity = 1 << 12
    /// Values held.
    var count = 0

    func rowCount(arity: Int) -> Int { arity == 0 ? 0 : count / arity }

    /// Room for `n` more values after `count`; where they go.
    @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutablePointer<Value> {
      if count &+ n > capacity {
        while count &+ n > capacity { capacity *= 2 }
        base = Memory.resize(base, count: capacity)
      }
      return base + count
    }

    func release() { Memory.release(base) }
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

/// `read(2)`, named apart from the importer's own `read`.
private func readBytes(_ fd: Int32, _ into: UnsafeMutablePointer<UInt8>, _ count: Int) -> Int {
  read(fd, into, count)
}

/// Interns imported fields from their bytes. The symbols of a big file repeat (codes, names,
/// countries): a field seen before costs a hash of its bytes and one compare, with no String
/// made and no dictionary lookup in the `ValueStore`. Decimals are cached by their bits the
/// same way. Bounded: past `maxEntries` distinct fields the store is asked directly.
final class FieldInterner {
  let store: ValueStore
  /// Open addressing: `hashes[s]` (0: empty), where the bytes are in `arena`, the value.
  private var hashes: UnsafeMutablePointer<UInt64>
  private var offsets: UnsafeMutablePointer<Int>
  private var lengths: UnsafeMutablePointer<Int32>
  private var values: UnsafeMutablePointer<Value>
  private var mask: Int
  private var entries = 0
  /// The bytes of the fields interned, one after another.
  private var arena: UnsafeMutablePointer<UInt8>
  private var arenaCapacity = 1 << 16
  private var arenaUsed = 0
  /// Decimals by bit pattern (value 0, a small integer, marks an empty slot).
  private var decimalBits: UnsafeMutablePointer<UInt64>
  private var decimalValues: UnsafeMutablePointer<Value>
  private var decimalMask: Int
  private var decimalEntries = 0

  static let maxEntries = 1 << 20
  /// Fields longer than this are interned by the store directly (long text rarely repeats).
  static let maxLength = 64

  init(store: ValueStore) {
    self.store = store
    mask = (1 << 12) - 1
    hashes = Memory.allocate(UInt64.self, count: mask + 1)
    hashes.initialize(repeating: 0, count: mask + 1)
    offsets = Memory.allocate(Int.self, count: mask + 1)
    lengths = Memory.allocate(Int32.self, count: mask + 1)
    values = Memory.allocate(Value.self, count: mask + 1)
    arena = Memory.allocate(UInt8.self, count: arenaCapacity)
    decimalMask = (1 << 12) - 1
    decimalBits = Memory.allocate(UInt64.self, count: decimalMask + 1)
    decimalValues = Memory.allocate(Value.self, count: decimalMask + 1)
    decimalValues.initialize(repeating: 0, count: decimalMask + 1)
  }

  deinit {
    for p in [UnsafeMutableRawPointer(hashes), UnsafeMutableRawPointer(offsets), UnsafeMutableRawPointer(lengths),
      UnsafeMutableRawPointer(values), UnsafeMutableRawPointer(arena), UnsafeMutableRawPointer(decimalBits),
      UnsafeMutableRawPointer(decimalValues)]
    {
      Memory.release(p.assumingMemoryBound(to: UInt8.self))
    }
  }

  /// A hash of a short byte string, eight bytes at a time; never 0 (0 marks an empty slot).
  @inline(__always)
  static func hash(_ f: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: f.count)
    guard let base = f.baseAddress else { return h | 1 }
    let raw = UnsafeRawPointer(base)
    var k = 0
    while k + 8 <= f.count {
      h = (h ^ raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
      h ^= h >> 31
      k += 8
    }
    if k < f.count {
      var tail: UInt64 = 0
      var shift: UInt64 = 0
      while k < f.count {
        tail |= UInt64(f[k]) << shift
        shift += 8
        k += 1
      }
      h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
      h ^= h >> 29
    }
    return h | 1
  }

  /// The symbol the bytes spell.
  @inline(__always)
  func symbol(_ f: UnsafeBufferPointer<UInt8>) -> Value {
    guard f.count <= Self.maxLength else { return store.symbol(String(decoding: f, as: UTF8.self)) }
    guard let bytes = f.baseAddress, !f.isEmpty else { return store.symbol("") }
    let h = Self.hash(f)
    var s = Int(truncatingIfNeeded: h) & mask
    while hashes[s] != 0 {
      if hashes[s] == h, Int(lengths[s]) == f.count, memcmp(arena + offsets[s], bytes, f.count) == 0 {
        return values[s]
      }
      s = (s + 1) & mask
    }
    let v = store.symbol(String(decoding: f, as: UTF8.self))
    guard entries < Self.maxEntries else { return v }
    if arenaUsed + f.count > arenaCapacity {
      while arenaUsed + f.count > arenaCapacity { arenaCapacity *= 2 }
      arena = Memory.resize(arena, count: arenaCapacity)
    }
    (arena + arenaUsed).update(from: bytes, count: f.count)
    (hashes[s], offsets[s], lengths[s], values[s]) = (h, arenaUsed, Int32(f.count), v)
    arenaUsed += f.count
    entries += 1
    if entries * 2 > mask { grow() }
    return v
  }

  /// The decimal's value.
  @inline(__always)
  func decimal(_ d: Double) -> Value {
    let bits = (d == 0 ? 0.0 : d).bitPattern
    var h = bits &* 0x9E37_79B9_7F4A_7C15
    h ^= h >> 32
    var s = Int(truncatingIfNeeded: h) & decimalMask
    while decimalValues[s] != 0 {
      if decimalBits[s] == bits { return decimalValues[s] }
      s = (s + 1) & decimalMask
    }
    let v = store.decimal(d)
    guard decimalEntries < Self.maxEntries else { return v }
    (decimalBits[s], decimalValues[s]) = (bits, v)
    decimalEntries += 1
    if decimalEntries * 2 > decimalMask { growDecimals() }
    return v
  }

  private func grow() {
    let (oldHashes, oldOffsets, oldLengths, oldValues, oldSize) = (hashes, offsets, lengths, values, mask + 1)
    mask = (mask + 1) * 2 - 1
    hashes = Memory.allocate(UInt64.self, count: mask + 1)
    hashes.initialize(repeating: 0, count: mask + 1)
    offsets = Memory.allocate(Int.self, count: mask + 1)
    lengths = Memory.allocate(Int32.self, count: mask + 1)
    values = Memory.allocate(Value.self, count: mask + 1)
    for o in 0..<oldSize where oldHashes[o] != 0 {
      var s = Int(truncatingIfNeeded: oldHashes[o]) & mask
      while hashes[s] != 0 { s = (s + 1) & mask }
      (hashes[s], offsets[s], lengths[s], values[s]) = (oldHashes[o], oldOffsets[o], oldLengths[o], oldValues[o])
    }
    Memory.release(oldHashes)
    Memory.release(oldOffsets)
    Memory.release(oldLengths)
    Memory.release(oldValues)
  }

  private func growDecimals() {
    let (oldBits, oldValues, oldSize) = (decimalBits, decimalValues, decimalMask + 1)
    decimalMask = (decimalMask + 1) * 2 - 1
    decimalBits = Memory.allocate(UInt64.self, count: decimalMask + 1)
    decimalValues = Memory.allocate(Value.self, count: decimalMask + 1)
    decimalValues.initialize(repeating: 0, count: decimalMask + 1)
    for o in 0..<oldSize where oldValues[o] != 0 {
      var h = oldBits[o] &* 0x9E37_79B9_7F4A_7C15
      h ^= h >> 32
      var s = Int(truncatingIfNeeded: h) & decimalMask
      while decimalValues[s] != 0 { s = (s + 1) & decimalMask }
      (decimalBits[s], decimalValues[s]) = (oldBits[o], oldValues[o])
    }
    Memory.release(oldBits)
    Memory.release(oldValues)
  }
}

extension Importer {
  /// Powers of ten a double holds exactly.
  static let exactPowersOfTen: [Double] = (0...22).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }

  /// `-?digits.digits` as a double, read from the bytes: with at most 15 digits in all the
  /// digits and the power of ten are exact, so one division rounds correctly (as `Double(_:)`
  /// does); longer ones go through `Double(_:)`. The caller has checked the syntax.
  @inline(__always)
  static func decimalValue(_ f: UnsafeBufferPointer<UInt8>) -> Double? {
    let negative = f[0] == UInt8(ascii: "-")
    var m: UInt64 = 0
    var digits = 0
    var fraction = -1
    for k in (negative ? 1 : 0)..<f.count {
      let b = f[k]
      if b == UInt8(ascii: ".") {
        fraction = 0
        continue
      }
      m = m &* 10 &+ UInt64(b &- 48)
      digits += 1
      if fraction >= 0 { fraction += 1 }
    }
    if digits <= 15 {
      let d = Double(m) / exactPowersOfTen[max(0, fraction)]
      return negative ? -d : d
    }
    guard let d = Double(String(decoding: f, as: UTF8.self)), d.isFinite else { return nil }
    return d
  }

  /// `YYYY-MM-DD` that is a real date, read from the bytes, as days since the epoch.
  @inline(__always)
  static func isoDate(_ f: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard f.count == 10, f[4] == UInt8(ascii: "-"), f[7] == UInt8(ascii: "-") else { return nil }
    var parts: (Int64, Int64, Int64) = (0, 0, 0)
    for k in 0..<10 where k != 4 && k != 7 {
      let d = f[k] &- 48
      guard d <= 9 else { return nil }
      if k < 4 {
        parts.0 = parts.0 * 10 + Int64(d)
      } else if k < 7 {
        parts.1 = parts.1 * 10 + Int64(d)
      } else {
        parts.2 = parts.2 * 10 + Int64(d)
      }
    }
    let (y, m, d) = parts
    guard m >= 1, m <= 12, d >= 1, d <= DateCodec.daysInMonth(year: y, month: m) else { return nil }
    return DateCodec.days(year: y, month: m, day: d)
  }
}
