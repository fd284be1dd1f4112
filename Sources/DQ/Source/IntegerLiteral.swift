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
