/// The hash of tuples and index keys, defined once: relations hash whole rows (pairs by a
/// faster path of their own), indexes hash the key columns of a row or a key given apart, and
/// both must agree with themselves wherever they hash.
enum TupleHash {
  /// The starting value for `n` values.
  @inline(__always) static func seed(_ n: Int) -> UInt64 { 0x9E37_79B9_7F4A_7C15 &* UInt64(truncatingIfNeeded: n &+ 1) }

  /// Folds one more value in.
  @inline(__always) static func add(_ h: UInt64, _ v: Value) -> UInt64 { (h ^ UInt64(v)) &* 0x1000_0000_01B3 &+ 0x9E37_79B9 }

  /// The final mix (MurmurHash3's), spreading every input bit over the word.
  @inline(__always) static func mix(_ h: UInt64) -> UInt64 {
    var x = h
    x ^= x >> 33
    x = x &* 0xff51_afd7_ed55_8ccd
    x ^= x >> 33
    x = x &* 0xc4ce_b9fe_1a85_ec53
    x ^= x >> 33
    return x
  }

  /// The hash of `n` consecutive values.
  @inline(__always) static func of(_ p: UnsafePointer<Value>, _ n: Int) -> UInt64 {
    var h = seed(n)
    for i in 0..<n { h = add(h, p[i]) }
    return mix(h)
  }
}
