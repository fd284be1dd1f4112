/// Reads the tables and views of a SQLite database into staged rows (`.attach FILE.db`,
/// `.import FILE.db [TABLE [RELATION]]`), row by row through `sqlite3_step`, so nothing of the
/// file is held twice. Nothing here touches a relation: the caller inserts the staged rows once
/// every table has been read, so a failure anywhere leaves every relation as it was.
///
/// Values: INTEGER is an integer, REAL a decimal (NaN or an infinity is refused), TEXT a symbol,
/// except that TEXT spelling a real date `YYYY-MM-DD` in a column whose declared type mentions
/// DATE is a date; NULL is the empty symbol. A BLOB has no dq value: it is refused, naming the
/// table, row and column (dq never writes one).
import CSQLite

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What went wrong reading or writing a SQLite database.
struct SQLiteFailure: Error {
  enum Kind {
    /// The file itself: missing, not a database, corrupt (exit 66, as for any input file).
    case unreadable
    /// Writing the file failed (exit 74).
    case io
    /// A value or a name dq cannot take or give (exit 70).
    case data
  }
  var message: String
  var kind: Kind = .data

  init(message: String, unreadable: Bool = false) {
    (self.message, kind) = (message, unreadable ? .unreadable : .data)
  }

  init(writing path: String, _ reason: String) {
    (message, kind) = ("Cannot write '\(path)': \(reason)", .io)
  }
}

/// One open SQLite database, closed when released.
final class SQLiteConnection {
  let handle: OpaquePointer
  let path: String

  /// Opens `path` read-only, or read-write creating it (`writable`).
  init(path: String, writable: Bool) throws(SQLiteFailure) {
    var db: OpaquePointer?
    let flags = writable ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READONLY
    let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
    guard rc == SQLITE_OK, let db else {
      let reason = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
      if let db { sqlite3_close_v2(db) }
      throw SQLiteFailure(message: "Cannot read '\(path)': \(reason)", unreadable: true)
    }
    (handle, self.path) = (db, path)
    // A database written by another program may be busy for a moment.
    sqlite3_busy_timeout(db, 2000)
  }

  deinit { sqlite3_close_v2(handle) }

  /// SQLite's message for the last failure on this connection.
  var lastError: String { String(cString: sqlite3_errmsg(handle)) }

  /// A compiled statement; a failure (a file that is not a database fails here) is unreadable.
  func prepare(_ sql: String, while doing: String) throws(SQLiteFailure) -> SQLiteStatement {
    var stmt: OpaquePointer?
    let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
    guard rc == SQLITE_OK, let stmt else {
      throw SQLiteFailure(message: "Cannot read '\(path)'\(doing): \(lastError)", unreadable: true)
    }
    return SQLiteStatement(stmt)
  }

  /// Runs SQL that returns no rows (the writer's DDL and transactions).
  func execute(_ sql: String) throws(SQLiteFailure) {
    var message: UnsafeMutablePointer<CChar>?
    guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
      let reason = message.map { String(cString: $0) } ?? lastError
      sqlite3_free(message)
      throw SQLiteFailure(writing: path, reason)
    }
  }

  /// `name` as an SQL identifier, in double quotes.
  static func quoted(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}

/// A prepared statement, finalized when released.
final class SQLiteStatement {
  let handle: OpaquePointer
  init(_ handle: OpaquePointer) { self.handle = handle }
  deinit { sqlite3_finalize(handle) }

  /// Steps to the next row: false at the end (or on a failure, which `lastError` names).
  func nextRow() -> Bool { sqlite3_step(handle) == SQLITE_ROW }

  /// Column `c` of the current row as text.
  func text(_ c: Int32) -> String {
    guard let p = sqlite3_column_text(handle, c) else { return "" }
    return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(handle, c))), as: UTF8.self)
  }
}

extension String {
  /// Every occurrence of `target` replaced (Foundation is not linked into the library).
  fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
    split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
  }
}

enum SQLiteReader {
  /// A table or view read in full: its name in the database, its column names as SQLite
  /// reports them, and its rows flat (`columns.count` values each).
  struct Table {
    var name: String
    var columns: [String]
    var rows: [Value]
    var rowCount: Int
  }

  /// Whether `path` should be read as a SQLite database: its name ends in `.db`, `.sqlite` or
  /// `.sqlite3`, or its first 16 bytes are SQLite's header, "SQLite format 3\0".
  static func handles(_ path: String) -> Bool {
    let lower = path.lowercased()
    return lower.hasSuffix(".db") || lower.hasSuffix(".sqlite") || lower.hasSuffix(".sqlite3") || isDatabase(path)
  }

  /// Whether the file at `path` starts with SQLite's header (false when it cannot be read).
  static func isDatabase(_ path: String) -> Bool {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var header = [UInt8](repeating: 0, count: 16)
    let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
    return n == 16 && header == Array("SQLite format 3".utf8) + [0]
  }

  /// Opens the database at `path` for reading; a missing or unreadable file says why, as a
  /// TSV import does (the SQLite library alone would only say "unable to open").
  static func connect(_ path: String) throws(SQLiteFailure) -> SQLiteConnection {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw SQLiteFailure(message: "Cannot read '\(path)': \(String(cString: strerror(errno)))", unreadable: true) }
    close(fd)
    return try SQLiteConnection(path: path, writable: false)
  }

  /// The names of the database's tables and views, in the order they were created; SQLite's
  /// own tables (`sqlite_sequence`, `sqlite_stat1`, ...) are left out.
  static func tableNames(_ db: SQLiteConnection) throws(SQLiteFailure) -> [String] {
    let stmt = try db.prepare(
      "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
      while: "")
    var names: [String] = []
    while true {
      let rc = sqlite3_step(stmt.handle)
      if rc == SQLITE_DONE { break }
      guard rc == SQLITE_ROW else { throw SQLiteFailure(message: "Cannot read '\(db.path)': \(db.lastError)", unreadable: true) }
      names.append(stmt.text(0))
    }
    return names
  }

  /// Every row of table (or view) `name`. `memoryLimit` (bytes, 0: none) bounds what dq holds
  /// with the staged rows counted in, as a query's `--memory` bounds its tuples; `interrupted`
  /// (Ctrl-C in the shell) stops a long read, loading nothing.
  static func readTable(
    _ db: SQLiteConnection, table name: String, store: ValueStore, memoryLimit: Int, staged: inout Int,
    interrupted: (() -> Bool)? = nil
  ) throws(SQLiteFailure) -> Table {
    let stmt = try db.prepare("SELECT * FROM \(SQLiteConnection.quoted(name))", while: " (table '\(name)')")
    let s = stmt.handle
    let arity = Int(sqlite3_column_count(s))
    var columns: [String] = []
    var dateColumn: [Bool] = []
    for c in 0..<Int32(arity) {
      columns.append(sqlite3_column_name(s, c).map { String(cString: $0) } ?? "c\(c + 1)")
      let declared = sqlite3_column_decltype(s, c).map { String(cString: $0).uppercased() } ?? ""
      dateColumn.append(declared.contains("DATE"))
    }
    var rows: [Value] = []
    var rowCount = 0
    while true {
      let rc = sqlite3_step(s)
      if rc == SQLITE_DONE { break }
      guard rc == SQLITE_ROW else {
        throw SQLiteFailure(message: "Cannot read '\(db.path)' (table '\(name)', row \(rowCount + 1)): \(db.lastError)", unreadable: true)
      }
      rowCount += 1
      for c in 0..<arity {
        rows.append(try value(s, Int32(c), date: dateColumn[c], store: store) { problem in
          SQLiteFailure(message: "'\(db.path)': table '\(name)', row \(rowCount), column '\(columns[c])' \(problem); nothing was imported")
        })
      }
      if rowCount & 4095 == 0, interrupted?() == true {
        throw SQLiteFailure(message: "'\(db.path)': reading table '\(name)' was interrupted; nothing was imported")
      }
      // The staged values, checked every 4096 rows against the memory budget.
      if memoryLimit > 0, rowCount & 4095 == 0, Memory.held + staged + rows.count * MemoryLayout<Value>.stride > memoryLimit {
        throw SQLiteFailure(
          message: "'\(db.path)': reading table '\(name)' would hold more than the memory limit (\(Limits.describe(bytes: memoryLimit))); nothing was imported (raise it with --memory or .limit memory)")
      }
    }
    staged += rows.count * MemoryLayout<Value>.stride
    return Table(name: name, columns: columns, rows: rows, rowCount: rowCount)
  }

  /// Column `c` of the current row as a dq value, or the failure `fail` makes of a problem.
  private static func value(
    _ s: OpaquePointer, _ c: Int32, date: Bool, store: ValueStore, fail: (String) -> SQLiteFailure
  ) throws(SQLiteFailure) -> Value {
    switch sqlite3_column_type(s, c) {
    case SQLITE_INTEGER:
      return store.integer(sqlite3_column_int64(s, c))
    case SQLITE_FLOAT:
      let d = sqlite3_column_double(s, c)
      guard d.isFinite else { throw fail("holds \(d), which is not a number dq has") }
      return store.decimal(d)
    case SQLITE_TEXT:
      let count = Int(sqlite3_column_bytes(s, c))
      guard let p = sqlite3_column_text(s, c) else { return store.symbol("") }
      let bytes = UnsafeBufferPointer(start: p, count: count)
      guard SourceReader.isValidUTF8(bytes) else { throw fail("holds text that is not UTF-8") }
      let text = String(decoding: bytes, as: UTF8.self)
      if date, count == 10, let days = DateCodec.parse(text) { return store.date(days) }
      return store.symbol(text)
    case SQLITE_NULL:
      return store.symbol("")
    default:
      throw fail("holds a BLOB (\(sqlite3_column_bytes(s, c)) bytes), which has no dq value")
    }
  }
}
