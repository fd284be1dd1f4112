#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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
