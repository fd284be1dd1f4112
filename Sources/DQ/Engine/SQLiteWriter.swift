/// Writes a relation as one table of a SQLite database (`.export RELATION FILE.db`,
/// `dq --export RELATION FILE.db`, `.export --format sqlite ...`), in a form `.attach` and
/// `.import FILE.db` read back as exactly the same tuples.
///
/// Each column's declared type comes from its values:
/// - all integers: INTEGER; all decimals: REAL (a dq decimal is a binary64 number, which REAL
///   stores bit for bit); all dates: DATE, the dates as TEXT 'YYYY-MM-DD'; all symbols: TEXT.
/// - a column mixing kinds (such as 1 and 1.5, or 7 and "n/a") has no declared type, so SQLite
///   keeps each value's own storage class: integers INTEGER, decimals REAL, symbols TEXT. When
///   it also holds dates, its declared type is `DATE BLOB` (still no conversion: SQLite gives a
///   type naming BLOB no affinity), which tells the reader its 'YYYY-MM-DD' text is a date; a
///   symbol spelling a date in such a column could not be told from one, so it is refused.
/// - The empty symbol is '' (never NULL); a relation with no tuples gets TEXT columns.
///
/// The file is never half-written: a database that exists is copied (SQLite's backup API, so a
/// WAL file's pages come too) to a temporary file beside it, the table is replaced there, and
/// the copy is synced and renamed over the original; any other file is replaced by a new
/// database made the same way. Other tables of an existing database are kept as they are.
import CSQLite

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

enum SQLiteWriter {
  /// Writes `rows` as table `table` (columns `columns`) of the database at `path`.
  static func write(
    _ path: String, table: String, columns: [String], rows: [[Value]], store: ValueStore
  ) throws(SQLiteFailure) {
    let types = try columnTypes(rows, columns: columns, table: table, store: store)
    let temp = try temporaryFile(beside: path)
    var ok = false
    defer {
      if !ok { removeTemporary(temp) }
    }
    do {
      let db = try SQLiteConnection(path: temp, writable: true)
      if SQLiteReader.isDatabase(path) {
        try copy(path, into: db, temp: temp)
      }
      // The temporary file is thrown away on failure, so SQLite keeps no rollback journal.
      try db.execute("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN")
      let name = SQLiteConnection.quoted(table)
      try db.execute("DROP TABLE IF EXISTS \(name)")
      let definition = zip(columns, types).map { SQLiteConnection.quoted($0) + ($1.isEmpty ? "" : " " + $1) }
      try db.execute("CREATE TABLE \(name) (\(definition.joined(separator: ", ")))")
      try insert(rows, into: name, arity: columns.count, db: db, store: store, path: temp)
      try db.execute("COMMIT")
    }
    // Closed (the connection released above), then synced and renamed into place.
    let fd = open(temp, O_RDWR)
    guard fd >= 0 else { throw SQLiteFailure(writing: path, String(cString: strerror(errno))) }
    var code: Int32 = 0
    if fchmod(fd, 0o644) != 0 { code = errno }
    if code == 0, fsync(fd) != 0, errno != EINVAL { code = errno }
    if close(fd) != 0, code == 0 { code = errno }
    if code == 0, rename(temp, path) != 0 { code = errno }
    guard code == 0 else { throw SQLiteFailure(writing: path, String(cString: strerror(code))) }
    ok = true
  }

  /// The declared type of each column, chosen from its values (see the type's comment).
  static func columnTypes(_ rows: [[Value]], columns: [String], table: String, store: ValueStore) throws(SQLiteFailure) -> [String] {
    var types: [String] = []
    for c in columns.indices {
      var (integers, decimals, dates, symbols) = (0, 0, 0, 0)
      for row in rows {
        switch store.decode(row[c]) {
        case .integer: integers += 1
        case .decimal: decimals += 1
        case .date: dates += 1
        case .symbol: symbols += 1
        }
      }
      let n = rows.count
      switch n {
      case 0, symbols: types.append("TEXT")
      case integers: types.append("INTEGER")
      case decimals: types.append("REAL")
      case dates: types.append("DATE")
      default:
        guard dates > 0 else {
          types.append("")
          break
        }
        // Dates mixed with other kinds: a symbol spelling a date would read back as one.
        for row in rows {
          if let s = store.symbolText(row[c]), s.utf8.count == 10, DateCodec.parse(s) != nil {
            throw SQLiteFailure(
              message: "Cannot export '\(table)' to SQLite: column '\(columns[c])' holds both the date \(s) and the symbol \"\(s)\" (or other dates), which a SQLite column cannot tell apart")
          }
        }
        types.append("DATE BLOB")
      }
    }
    return types
  }

  /// Inserts the rows, in the contract's value order (so exports compare), one statement
  /// reused.
  private static func insert(
    _ rows: [[Value]], into name: String, arity: Int, db: SQLiteConnection, store: ValueStore, path: String
  ) throws(SQLiteFailure) {
    let placeholders = Array(repeating: "?", count: arity).joined(separator: ", ")
    var raw: OpaquePointer?
    guard sqlite3_prepare_v2(db.handle, "INSERT INTO \(name) VALUES (\(placeholders))", -1, &raw, nil) == SQLITE_OK, let raw else {
      throw SQLiteFailure(writing: path, db.lastError)
    }
    let stmt = SQLiteStatement(raw)
    let sorted = rows.sorted { a, b in
      for (x, y) in zip(a, b) {
        let c = store.compare(x, y)
        if c != 0 { return c < 0 }
      }
      return false
    }
    // SQLITE_TRANSIENT: SQLite copies the text before the call returns.
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    for row in sorted {
      sqlite3_reset(stmt.handle)
      for (k, v) in row.enumerated() {
        let i = Int32(k + 1)
        switch store.decode(v) {
        case .integer(let x): sqlite3_bind_int64(stmt.handle, i, x)
        case .decimal(let d): sqlite3_bind_double(stmt.handle, i, d)
        case .date(let d):
          sqlite3_bind_text(stmt.handle, i, DateCodec.format(days: d), -1, transient)
        case .symbol(var s):
          // Through the UTF-8 bytes and their count, so a NUL inside a symbol is kept; the
          // empty symbol binds '' (a null pointer would bind NULL).
          if s.isEmpty {
            sqlite3_bind_text(stmt.handle, i, "", 0, transient)
          } else {
            s.withUTF8 { u in
              u.withMemoryRebound(to: CChar.self) { c in
                _ = sqlite3_bind_text(stmt.handle, i, c.baseAddress, Int32(c.count), transient)
              }
            }
          }
        }
      }
      guard sqlite3_step(stmt.handle) == SQLITE_DONE else { throw SQLiteFailure(writing: path, db.lastError) }
    }
  }

  /// Copies the database at `path` into the (empty) database `db` opened on `temp`.
  private static func copy(_ path: String, into db: SQLiteConnection, temp: String) throws(SQLiteFailure) {
    let source = try SQLiteReader.connect(path)
    guard let backup = sqlite3_backup_init(db.handle, "main", source.handle, "main") else {
      throw SQLiteFailure(message: "Cannot read '\(path)': \(db.lastError)", unreadable: true)
    }
    let rc = sqlite3_backup_step(backup, -1)
    sqlite3_backup_finish(backup)
    guard rc == SQLITE_DONE else {
      throw SQLiteFailure(message: "Cannot read '\(path)': \(String(cString: sqlite3_errstr(rc)))", unreadable: true)
    }
  }

  /// A new empty file beside `path` (so the rename stays on one file system).
  private static func temporaryFile(beside path: String) throws(SQLiteFailure) -> String {
    guard let (fd, temp) = Exporter.temporaryFile(beside: path) else {
      throw SQLiteFailure(writing: path, String(cString: strerror(errno)))
    }
    close(fd)
    return temp
  }

  /// Removes the temporary database and any journal SQLite left beside it.
  private static func removeTemporary(_ temp: String) {
    for suffix in ["", "-journal", "-wal", "-shm"] { unlink(temp + suffix) }
  }
}
