import CPostgres

#if canImport(Glibc)
  import Glibc
#endif

/// A failure talking to a PostgreSQL server: the connection could not be made or was lost
/// (`unavailable`, exit 69), or a statement failed (exit 70). Carries the statement it came
/// from, so the error can name it.
public struct PostgresError: Error, Sendable {
  public var unavailable: Bool
  public var message: String
  /// The SQLSTATE code, when the server sent one.
  public var code: String?
  public var detail: String?
  /// The statement that failed (its first line, shortened), if any.
  public var statement: String?
  public var hint: String?
  /// A dq error (a limit, an interruption) met between statements, passed through as it is.
  var evaluation: EvaluationError?

  init(unavailable: Bool, message: String, code: String? = nil, detail: String? = nil, statement: String? = nil, hint: String? = nil) {
    (self.unavailable, self.message, self.code, self.detail, self.statement, self.hint) = (unavailable, message, code, detail, statement, hint)
  }

  init(evaluation: EvaluationError) {
    self.init(unavailable: false, message: evaluation.message)
    self.evaluation = evaluation
  }
}

/// One libpq connection, opened with the connection string (or libpq's environment when it is
/// empty). libpq is loaded with dlopen on first use (see CPostgres), so nothing of it is
/// touched unless `--engine postgres` is asked for.
final class PostgresConnection {
  private let handle: OpaquePointer

  /// Opens the connection; a connection that takes longer than `connect_timeout` (10 s unless
  /// the connection string or PGCONNECT_TIMEOUT says otherwise) fails instead of hanging.
  init(_ conninfo: String) throws(PostgresError) {
    if dq_pq_load() != 0 {
      throw PostgresError(
        unavailable: true,
        message: "--engine postgres needs libpq (Debian: libpq5): \(String(cString: dq_pq_load_error()))")
    }
    if getenv("PGCONNECT_TIMEOUT") == nil, !conninfo.contains("connect_timeout") {
      setenv("PGCONNECT_TIMEOUT", "10", 0)
    }
    guard let c = dq_pq_connect(conninfo) else {
      throw PostgresError(unavailable: true, message: "Cannot connect to PostgreSQL: out of memory")
    }
    if dq_pq_ok(c) == 0 {
      let message = Self.trimmed(String(cString: dq_pq_error_message(c)))
      dq_pq_finish(c)
      throw PostgresError(unavailable: true, message: "Cannot connect to PostgreSQL: \(message)")
    }
    handle = c
    // A dq that ends while the server computes (a script stopped by Ctrl-C, a killed process)
    // does not leave the statement running: the server checks every second that dq is still
    // there (PostgreSQL 14 and later).
    _ = try? execute(
      "SELECT set_config('client_connection_check_interval', '1000', false) WHERE current_setting('server_version_num')::int >= 140000")
  }

  /// The session's Ctrl-C check (set by the engine for each query; nil: never stopped). While a
  /// statement runs, dq waits for the server in short steps; when this turns true it asks the
  /// server to cancel the statement, and the statement fails as interrupted.
  var interrupted: (() -> Bool)?

  static let interruption = PostgresError(evaluation: EvaluationError(.interrupted, "Interrupted", at: nil))

  deinit { dq_pq_finish(handle) }

  /// Runs one or more statements that return no rows.
  func execute(_ sql: String) throws(PostgresError) {
    let r = try run(sql)
    dq_pq_clear(r)
  }

  /// Runs one statement that returns no rows; returns the number of rows it affected (an
  /// INSERT's, say; 0 for a command that reports none).
  @discardableResult
  func executeCounting(_ sql: String) throws(PostgresError) -> Int {
    let r = try run(sql)
    defer { dq_pq_clear(r) }
    guard let p = dq_pq_cmd_tuples(r) else { return 0 }
    return Int(String(cString: p)) ?? 0
  }

  /// Runs a query and returns its rows as text (nil for SQL NULL).
  func query(_ sql: String) throws(PostgresError) -> [[String?]] {
    let r = try run(sql)
    defer { dq_pq_clear(r) }
    let rows = Int(dq_pq_ntuples(r)), fields = Int(dq_pq_nfields(r))
    var out: [[String?]] = []
    out.reserveCapacity(rows)
    for i in 0..<rows {
      var row: [String?] = []
      row.reserveCapacity(fields)
      for j in 0..<fields {
        if dq_pq_is_null(r, Int32(i), Int32(j)) != 0 {
          row.append(nil)
        } else {
          row.append(String(cString: dq_pq_value(r, Int32(i), Int32(j))))
        }
      }
      out.append(row)
    }
    return out
  }

  /// `COPY table FROM STDIN` with `data` in COPY's text format.
  func copy(_ statement: String, data: String) throws(PostgresError) {
    try copy(statement, bytes: Array(data.utf8))
  }

  /// `COPY table FROM STDIN` with `bytes` (UTF-8) in COPY's text format.
  func copy(_ statement: String, bytes data: [UInt8]) throws(PostgresError) {
    let r = try run(statement, expectCopy: true)
    dq_pq_clear(r)
    var ok = true
    // In pieces of a megabyte: the server parses one while the next is sent, and a count of
    // bytes always fits libpq's int.
    data.withUnsafeBufferPointer { b in
      b.withMemoryRebound(to: CChar.self) { c in
        guard let base = c.baseAddress else { return }
        var offset = 0
        while ok && offset < c.count {
          let n = min(1 << 20, c.count - offset)
          ok = dq_pq_put_copy_data(handle, base + offset, Int32(n)) == 1
          offset += n
        }
      }
    }
    if dq_pq_put_copy_end(handle) != 1 { ok = false }
    var failure: PostgresError? = ok ? nil : failureOfConnection(statement)
    var cancelled = false
    while true {
      guard awaitResult(&cancelled) else {
        if failure == nil { failure = failureOfConnection(statement) }
        break
      }
      guard let next = dq_pq_get_result(handle) else { break }
      if failure == nil, dq_pq_result_kind(next) == 3 { failure = Self.error(next, statement) }
      dq_pq_clear(next)
    }
    if cancelled { throw Self.interruption }
    if let failure { throw failure }
  }

  /// Waits until a result can be taken without blocking, in steps of a tenth of a second (a
  /// signal ends a step at once), cancelling the statement the first time `interrupted` says
  /// so. False when the connection failed.
  private func awaitResult(_ cancelled: inout Bool) -> Bool {
    while true {
      switch dq_pq_wait(handle, 100) {
      case 1: return true
      case 0:
        if !cancelled, interrupted?() == true {
          cancelled = true
          _ = dq_pq_cancel(handle)
        }
      default: return false
      }
    }
  }

  /// Sends `sql` and returns its result as PQexec would (the last statement's, or the first
  /// error), waiting as `awaitResult` does so that Ctrl-C cancels it: then the interruption is
  /// thrown, as the native engine reports it.
  private func run(_ sql: String, expectCopy: Bool = false) throws(PostgresError) -> OpaquePointer {
    if interrupted?() == true { throw Self.interruption }
    dq_pq_clear_notice()
    guard dq_pq_send(handle, sql) == 1 else { throw failureOfConnection(sql) }
    var cancelled = false
    var kept: OpaquePointer? = nil
    var lost = false
    while true {
      guard awaitResult(&cancelled) else {
        lost = true
        break
      }
      guard let next = dq_pq_get_result(handle) else { break }
      let nextKind = dq_pq_result_kind(next)
      if let k = kept, dq_pq_result_kind(k) == 3 {
        dq_pq_clear(next)  // after an error, the first error is the one reported
      } else {
        dq_pq_clear(kept)
        kept = next
      }
      if nextKind == 2 { break }  // COPY FROM STDIN: the caller sends the data now
    }
    if cancelled {
      dq_pq_clear(kept)
      throw Self.interruption
    }
    guard !lost, let r = kept else {
      dq_pq_clear(kept)
      throw failureOfConnection(sql)
    }
    let kind = dq_pq_result_kind(r)
    if kind == 3 || (kind == 2) != expectCopy {
      let e = Self.error(r, sql)
      dq_pq_clear(r)
      if dq_pq_ok(handle) == 0 { throw failureOfConnection(sql) }
      throw e
    }
    return r
  }

  /// The connection was lost while `sql` ran: libpq's reason (its first line), after the
  /// warning the server sent before closing, if any ("terminating connection due to
  /// administrator command" when it is shut down).
  private func failureOfConnection(_ sql: String) -> PostgresError {
    var reasons: [String] = []
    var notice = Self.firstLine(String(cString: dq_pq_last_notice()))
    if notice.hasPrefix("WARNING:") { notice = Self.firstLine(String(notice.dropFirst(8))) }
    if !notice.isEmpty { reasons.append(notice) }
    let reason = Self.firstLine(String(cString: dq_pq_error_message(handle)))
    if !reason.isEmpty { reasons.append(reason) }
    return PostgresError(
      unavailable: true, message: "lost the connection to the server" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")),
      statement: Self.shortened(sql))
  }

  /// The first line of a libpq message, without surrounding white space.
  static func firstLine(_ s: String) -> String {
    let line = s.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
    return trimmed(String(line.drop { $0 == " " || $0 == "\t" }))
  }

  private static func error(_ r: OpaquePointer, _ sql: String) -> PostgresError {
    func field(_ f: Character) -> String? {
      guard let a = f.asciiValue, let p = dq_pq_error_field(r, Int32(a)) else { return nil }
      return String(cString: p)
    }
    let message = field("M") ?? trimmed(String(cString: dq_pq_result_error(r)))
    let code = field("C")
    // Class 08 is a connection exception, 53 insufficient resources, 57 operator intervention.
    let unavailable = code.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } ?? false
    return PostgresError(unavailable: unavailable, message: message, code: code, detail: field("D"), statement: shortened(sql), hint: field("H"))
  }

  static func trimmed(_ s: String) -> String {
    var t = Substring(s)
    while let last = t.last, last.isWhitespace { t.removeLast() }
    return String(t)
  }

  /// A statement's first line, cut to 100 characters, for error messages; for a PL/pgSQL
  /// block (`DO $dq$`, a stratum), its first `INSERT`, which names the relation it computes.
  static func shortened(_ sql: String) -> String {
    var first = sql.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? sql
    if first.hasPrefix("DO "), let insert = sql.split(separator: "\n").first(where: { $0.contains("INSERT INTO") }) {
      first = "DO block: " + insert.drop { $0 == " " }
    }
    return first.count > 100 ? String(first.prefix(100)) + "…" : first
  }
}
