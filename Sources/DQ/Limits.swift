/// The limits dq puts on what it is given, in one place, so the command line, `% options:` under
/// `--check`, the README and the readers all state the same numbers: a value past a limit is
/// reported (or, for the per-query budgets, read as "no limit"), never left to trap later.
public enum Limits {
  // MARK: - Per-query budgets

  /// The largest `--max-tuples` taken as a number; anything larger means "no limit" (0).
  /// No machine holds 10^10 tuples, and the executor's `(max + 1) * arity` stays far from
  /// overflow even for the widest relation a source line can write.
  public static let maxTuplesCeiling = 10_000_000_000
  /// The longest `--timeout` taken as a number of seconds (about 31 years); anything longer,
  /// `inf` included, means "no limit" (0). Milliseconds of it fit in 64 bits many times over.
  public static let timeoutCeiling: Double = 1_000_000_000

  /// `--max-tuples N`: a whole number >= 0 (0: no limit); past `maxTuplesCeiling`, no limit.
  /// A failure carries the message to show.
  public static func parseMaxTuples(_ text: String) -> Result<Int, OptionError> {
    let digits = text.hasPrefix("+") ? Substring(text.dropFirst()) : Substring(text)
    guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
      return .failure(OptionError("--max-tuples needs a whole number >= 0 (0: no limit), got '\(text)'"))
    }
    // Any run of digits is valid: one too long for Int is simply past the ceiling.
    guard let n = Int(digits), n <= maxTuplesCeiling else { return .success(0) }
    return .success(n)
  }

  /// `--timeout SECONDS`: a number >= 0 (0: no limit); past `timeoutCeiling` (or `inf`), no
  /// limit. `nan` and negative numbers are refused.
  public static func parseTimeout(_ text: String) -> Result<Double, OptionError> {
    guard let t = Double(text), !t.isNaN, t >= 0 else {
      return .failure(OptionError("--timeout needs a number of seconds >= 0 (0: no limit), got '\(text)'"))
    }
    return .success(t > timeoutCeiling ? 0 : t)
  }

  /// `--memory SIZE`: a size as `byteSize` reads it (0: no limit).
  public static func parseMemory(_ text: String) -> Result<Int, OptionError> {
    guard let n = byteSize(text) else {
      return .failure(OptionError("--memory needs a size such as 4G, 800M or 25% (0: no limit), got '\(text)'"))
    }
    return .success(n)
  }

  /// Bytes from a size as people write it: `0` (no limit), `4096`, `512K`, `800M`, `1.5G`,
  /// `2GiB`, `1T` (powers of 1024), or `25%` of the machine's memory; nil when unreadable
  /// or too large to hold.
  public static func byteSize(_ text: String) -> Int? {
    var t = text.trimmingSpaces.uppercased()
    if t.hasSuffix("%") {
      guard let p = Double(t.dropLast()), p.isFinite, p >= 0, p <= 100 else { return nil }
      return Int(Double(Memory.physical) * p / 100)
    }
    if t.hasSuffix("IB") { t.removeLast(2) } else if t.hasSuffix("B") { t.removeLast() }
    var scale = 1.0
    if let last = t.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
      scale = Double(1 << (10 * power))
      t.removeLast()
    }
    guard let n = Double(t), n.isFinite, n >= 0 else { return nil }
    let bytes = n * scale
    guard bytes < 9e18 else { return nil }
    return Int(bytes)
  }

  /// The tuple budget a query gets for an option value set in code: outside 0...ceiling, none.
  public static func budgetMaxTuples(_ n: Int) -> Int { n < 0 || n > maxTuplesCeiling ? 0 : n }
  /// The time budget a query gets for an option value set in code: NaN, negative or past the
  /// ceiling, none.
  public static func budgetTimeout(_ t: Double) -> Double { t.isNaN || t < 0 || t > timeoutCeiling ? 0 : t }

  /// The most threads `--threads` takes.
  public static let maxThreads = 256

  /// `--threads N` (and `.limit threads N`): a whole number from 1 to `maxThreads`; 1 is the
  /// single-threaded path.
  public static func parseThreads(_ text: String) -> Result<Int, OptionError> {
    guard let n = Int(text), n > 0, n <= maxThreads else {
      return .failure(OptionError("--threads needs a whole number from 1 to \(maxThreads), got '\(text)'"))
    }
    return .success(n)
  }

  /// `--depth N` (and `.why --depth N`): a whole number from 1 to `maxDepth`.
  public static func parseDepth(_ text: String) -> Result<Int, OptionError> {
    guard let n = Int(text), n > 0, n <= maxDepth else {
      return .failure(OptionError("--depth needs a whole number from 1 to \(maxDepth), got '\(text)'"))
    }
    return .success(n)
  }

  /// The deepest derivation tree `--why` draws: each level indents the tree, so a deeper one
  /// is unreadable (and its recursion would be unbounded).
  public static let maxDepth = 1000
  /// The widest `.width` a table may be fitted to, in columns.
  public static let maxShownWidth = 100_000

  /// A command-line or `% options:` value that cannot be used.
  public struct OptionError: Error, Sendable, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
  }

  // MARK: - Input sizes

  /// The most bytes dq reads as one source file (a script, `.load`, standard input, `-e`).
  public static let maxSourceBytes = 1 << 30
  /// The longest line of a source file, in bytes.
  public static let maxSourceLineBytes = 16 << 20
  /// The most bytes a JSON Lines `.import` reads (TSV, CSV and the event formats stream any size).
  public static let maxImportBytes = 16 << 30
  /// The longest line (record) of an imported file, in bytes.
  public static let maxImportLineBytes = 16 << 20
  /// How deeply `.load` may nest (a file that loads a file that loads ...).
  public static let maxLoadDepth = 100

  /// A byte count as people write it: "16 MiB", "1 GiB".
  public static func describe(bytes: Int) -> String {
    if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
    if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
    if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
    return "\(bytes) bytes"
  }
}
