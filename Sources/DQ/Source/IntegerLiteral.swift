/// Whole numbers written in decimal digits, read in one place for the lexer, the parser (which
/// applies a leading minus) and `.import`: the magnitude is read unsigned, so -9223372036854775808
/// fits while 9223372036854775808 does not.
enum IntegerLiteral {
  /// The value of ASCII decimal digits, or nil when it does not fit in 64 unsigned bits.
  @inline(__always)
  static func magnitude<Digits: Collection<UInt8>>(_ digits: Digits) -> UInt64? {
    var v: UInt64 = 0
    for d in digits {
      let (m, o1) = v.multipliedReportingOverflow(by: 10)
      let (a, o2) = m.addingReportingOverflow(UInt64(d &- 48))
      if o1 || o2 { return nil }
      v = a
    }
    return v
  }

  /// The decimal digits at the start of `p[from...]`: where they end, and their value (nil
  /// past 64 unsigned bits). One pass over raw bytes, for `.import`'s millions of fields: any
  /// 19 digits fit in 64 bits, so only longer runs are read again with overflow checks.
  @inline(__always)
  static func leadingDigits(_ p: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, magnitude: UInt64?) {
    var v: UInt64 = 0
    var k = start
    while k < p.count {
      let d = p[k] &- 48
      if d > 9 { break }
      v = v &* 10 &+ UInt64(d)
      k &+= 1
    }
    if k &- start <= 19 { return (k, v) }
    return (k, magnitude(UnsafeBufferPointer(rebasing: p[start..<k])))
  }

  /// The signed value of a magnitude, negated when `negative`, or nil outside Int64.
  @inline(__always)
  static func value(magnitude: UInt64, negative: Bool) -> Int64? {
    if negative {
      if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
      return magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : nil
    }
    return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
  }

  /// The largest magnitude a literal may have: that of Int64.min, written with a minus.
  static let largestMagnitude = UInt64(Int64.max) + 1
}
