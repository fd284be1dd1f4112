/// Runtime values: every constant interned or encoded into one 32-bit word.
///
/// Layout: the top three bits are a tag, the low 29 bits the payload.
/// - `0` small integer (29-bit two's complement, -2^28 ..< 2^28), `1` boxed number (any other
///   integer, or a decimal, by index), `2` date (days + 2^28), `3` symbol (by index).
/// Encoding is canonical, so two values are equal exactly when their words are equal. Half the
/// width of a machine word: a binary tuple is 8 bytes, so rows and tables take half the memory.
public typealias Value = UInt32

/// The kinds a value can have, in the contract's cross-kind order.
public enum ValueKind: Int, Sendable, Comparable {
  case number = 0, date = 1, symbol = 2
  public static func < (a: ValueKind, b: ValueKind) -> Bool { a.rawValue < b.rawValue }
}

/// A number too large for the inline encoding, or a decimal.
enum BoxedNumber: Hashable {
  case integer(Int64)
  case decimal(UInt64)  // bit pattern, so -0.0 and 0.0 stay distinct keys and NaN never occurs
}

/// Interns symbols and boxed numbers; encodes and decodes values.
public final class ValueStore {
  private var symbols: [String] = []
  private var symbolIDs: [String: UInt32] = [:]
  private var boxes: [BoxedNumber] = []
  private var boxIDs: [BoxedNumber: UInt32] = [:]
  /// Rank of each symbol in code-point order, rebuilt lazily for sorting.
  private var symbolRanks: [UInt32] = []

  static let tagShift: Value = 29
  static let payloadMask: Value = (1 << 29) - 1
  static let smallMin: Int64 = -(1 << 28)
  static let smallMax: Int64 = (1 << 28) - 1
  static let dateBias: Int64 = 1 << 28
  /// Symbols and boxed numbers get ids below this (half a billion: memory runs out first).
  static let idLimit = 1 << 29

  public init() {}

  /// An estimate of the bytes the symbols and boxes take (array and dictionary entries, long
  /// strings' storage), counted in `Memory.held` so the memory budget sees them.
  private var estimatedBytes = 0

  private func count(_ bytes: Int) {
    estimatedBytes &+= bytes
    Memory.note(bytes)
  }

  deinit { Memory.note(-estimatedBytes) }


  // MARK: - Encoding

  public func symbol(_ s: String) -> Value {
    if let id = symbolIDs[s] { return (3 << Self.tagShift) | id }
    let id = Self.nextID(symbols.count)
    symbols.append(s)
    symbolIDs[s] = id
    let length = s.utf8.count
    count(56 + (length > 15 ? length + 32 : 0))
    return (3 << Self.tagShift) | id
  }

  /// The value of a symbol if it was ever interned (no side effect).
  public func existingSymbol(_ s: String) -> Value? {
    symbolIDs[s].map { (3 << Self.tagShift) | $0 }
  }

  public func integer(_ i: Int64) -> Value {
    if i >= Self.smallMin, i <= Self.smallMax { return Value(truncatingIfNeeded: i) & Self.payloadMask }
    return box(.integer(i))
  }

  public func decimal(_ d: Double) -> Value {
    box(.decimal((d == 0 ? 0.0 : d).bitPattern))
  }

  public func date(_ days: Int64) -> Value {
    // Dates span the years 0000-9999, about ±3.6 million days: well inside the payload.
    (2 << Self.tagShift) | (Value(truncatingIfNeeded: days &+ Self.dateBias) & Self.payloadMask)
  }

  public func constant(_ c: Constant) -> Value {
    switch c {
    case .symbol(let s): return symbol(s)
    case .integer(let i): return integer(i)
    case .decimal(let d): return decimal(d)
    case .date(let d): return date(d)
    }
  }

  private func box(_ b: BoxedNumber) -> Value {
    if let id = boxIDs[b] { return (1 << Self.tagShift) | id }
    let id = Self.nextID(boxes.count)
    boxes.append(b)
    boxIDs[b] = id
    count(56)
    return (1 << Self.tagShift) | id
  }

  // MARK: - Decoding

  /// The id for the next symbol or box.
  private static func nextID(_ count: Int) -> UInt32 {
    if count >= idLimit { Memory.exhausted("more than 2^29 distinct symbols or large numbers") }
    return UInt32(count)
  }

  @inline(__always) static func tag(_ v: Value) -> Value { v >> tagShift }

  public func kind(_ v: Value) -> ValueKind {
    switch Self.tag(v) {
    case 0, 1: return .number
    case 2: return .date
    default: return .symbol
    }
  }

  public func decode(_ v: Value) -> Constant {
    let payload = v & Self.payloadMask
    switch Self.tag(v) {
    case 0: return .integer(Self.signExtended(v))
    case 1:
      switch boxes[Int(payload)] {
      case .integer(let i): return .integer(i)
      case .decimal(let bits): return .decimal(Double(bitPattern: bits))
      }
    case 2: return .date(Int64(payload) - Self.dateBias)
    default: return .symbol(symbols[Int(payload)])
    }
  }

  /// The symbol's text, or nil when the value is not a symbol.
  public func symbolText(_ v: Value) -> String? {
    Self.tag(v) == 3 ? symbols[Int(v & Self.payloadMask)] : nil
  }

  /// The inline integer fast path: nil when the value is not a small integer.
  @inline(__always) static func smallInteger(_ v: Value) -> Int64? {
    tag(v) == 0 ? signExtended(v) : nil
  }

  /// A small integer's payload as a signed number.
  @inline(__always) static func signExtended(_ v: Value) -> Int64 {
    Int64(Int32(bitPattern: v << 3) >> 3)
  }

  /// Text for output: symbols raw, numbers in decimal, dates ISO.
  public func text(_ v: Value) -> String {
    switch decode(v) {
    case .symbol(let s): return s
    case .integer(let i): return String(i)
    case .decimal(let d): return DecimalSyntax.format(d)
    case .date(let d): return DateCodec.format(days: d)
    }
  }

  /// dq source for the value (symbols quoted when needed).
  public func source(_ v: Value) -> String { decode(v).description }

  // MARK: - Ordering

  /// The contract's value order: numbers numerically, then dates, then symbols by code point.
  /// A total order: an integer and a decimal of the same magnitude (1 and 1.0) are different
  /// values, and the integer comes first, so sorting and `min`/`max` never depend on fact order.
  public func compare(_ a: Value, _ b: Value) -> Int {
    let c = compareNumerically(a, b)
    if c != 0 || a == b { return c }
    // Numerically equal, different values: only an integer and a decimal.
    if case .integer = decode(a) { return -1 }
    return 1
  }

  /// The order `<`, `<=`, `>`, `>=` use: like `compare`, but 1 and 1.0 rank the same.
  public func compareNumerically(_ a: Value, _ b: Value) -> Int {
    if a == b { return 0 }
    let ta = Self.tag(a), tb = Self.tag(b)
    if ta == 0 && tb == 0 {
      let x = Self.signExtended(a), y = Self.signExtended(b)
      return x < y ? -1 : (x > y ? 1 : 0)
    }
    let ka = kind(a), kb = kind(b)
    if ka != kb { return ka < kb ? -1 : 1 }
    switch ka {
    case .date:
      return a < b ? -1 : 1
    case .symbol:
      let ra = rank(a), rb = rank(b)
      return ra < rb ? -1 : (ra > rb ? 1 : 0)
    case .number:
      return compareNumbers(decode(a), decode(b))
    }
  }

  private func compareNumbers(_ a: Constant, _ b: Constant) -> Int {
    switch (a, b) {
    case (.integer(let x), .integer(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    case (.decimal(let x), .decimal(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    case (.integer(let x), .decimal(let y)): return -compareDecimalToInteger(y, x)
    case (.decimal(let x), .integer(let y)): return compareDecimalToInteger(x, y)
    default: return 0
    }
  }

  /// Exact comparison of a double with a 64-bit integer.
  private func compareDecimalToInteger(_ d: Double, _ i: Int64) -> Int {
    // 2^63 is exactly representable: every double at or above it exceeds Int64.max.
    if d >= 9_223_372_036_854_775_808.0 { return 1 }
    if d < -9_223_372_036_854_775_808.0 { return -1 }
    let t = d.rounded(.down)  // now exactly an Int64
    let ti = Int64(t)
    if ti < i { return -1 }
    if ti > i { return 1 }
    return d > t ? 1 : 0
  }

  /// The position of a symbol in code-point order among all interned symbols.
  private func rank(_ v: Value) -> UInt32 {
    if symbolRanks.count != symbols.count { rebuildRanks() }
    return symbolRanks[Int(v & Self.payloadMask)]
  }

  /// Computes now what `<` and friends would compute when first comparing symbols, so that
  /// threads may then compare values with only reads (`ParallelRound.prepare`).
  func prepareForConcurrentReads() {
    if symbolRanks.count != symbols.count { rebuildRanks() }
  }

  private func rebuildRanks() {
    let order = symbols.indices.sorted { symbols[$0].utf8.lexicographicallyPrecedes(symbols[$1].utf8) }
    symbolRanks = [UInt32](repeating: 0, count: symbols.count)
    for (r, i) in order.enumerated() { symbolRanks[i] = UInt32(r) }
  }

}
