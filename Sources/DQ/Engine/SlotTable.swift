import CEngine

/// An open-addressing hash table of 32-bit values (row numbers) whose keys live elsewhere (in
/// rows): the caller gives a key's 64-bit hash and says whether a value's key matches.
///
/// Slots come in groups of 12, each group one 64-byte cache line: 12 control bytes (0 = empty,
/// else 0x80 | seven bits of the hash), 4 spare, then the 12 values. A search reads its home
/// group's control bytes as two words, asks about a value only where a byte agrees (a failing
/// comparison is nearly always spared), and goes on to the next group only when this one is full.
/// Nothing is ever removed and a new value takes the first empty slot of its group, so the
/// filled slots of a group are a prefix, and a search touches one line unless groups overflow.
///
/// The relation's deduplication table and a sorted index's directory are both this table. It is
/// a value holding raw memory: its one owner calls `release()`.
struct SlotTable {
  /// The allocation, and the groups inside it aligned to 64 bytes.
  private var memory: UnsafeMutablePointer<UInt8>
  private var lines: UnsafeMutableRawPointer
  private(set) var groupCount: Int

  /// Room for `slots` values (12 a group), all empty.
  init(slots: Int) {
    groupCount = max(1, (slots + 11) / 12)
    memory = Memory.zeroedTable(UInt8.self, count: groupCount * 64 + 64)
    let offset = (64 - Int(bitPattern: memory) & 63) & 63
    lines = UnsafeMutableRawPointer(memory) + offset
  }

  func release() { Memory.releaseTable(memory, count: groupCount * 64 + 64) }

  /// Maps the pages of the part `p` of `parts` of a fresh table before it is filled
  /// (`Memory.populate`); a small table, in the C heap, is left as it is. Whether the kernel
  /// did it.
  @discardableResult
  func populate(part p: Int, of parts: Int) -> Bool {
    let n = groupCount * 64 + 64
    guard n >= Memory.mappingThreshold else { return false }
    let low = n * p / parts, high = n * (p + 1) / parts
    return Memory.populate(UnsafeMutableRawPointer(memory + low), bytes: high - low)
  }

  /// Empties every slot.
  func clear() { memory.update(repeating: 0, count: groupCount * 64 + 64) }

  var slotCount: Int { groupCount &* 12 }
  var bytes: Int { groupCount * 64 + 64 }

  // MARK: - Slots

  /// The home group of a hash (its high half scaled to the table).
  @inline(__always) private func home(_ h: UInt64) -> Int {
    Int(truncatingIfNeeded: ((h >> 32) &* UInt64(groupCount)) >> 32)
  }
  /// Group g's cache line (`insertConcurrently`, ParallelInsert.swift, reads and writes it too).
  @inline(__always) func line(_ g: Int) -> UnsafeMutableRawPointer { lines + g &<< 6 }
  /// A value with this bit is not a row number but a pending entry of a parallel append or a
  /// concurrent insertion (the rest says whose); rows stay below it.
  static let pendingBit: UInt32 = 1 << 31
  @inline(__always) static func controlByte(_ h: UInt64) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: h & 0x7F) }
  @inline(__always) private static func value(_ line: UnsafeRawPointer, _ k: Int) -> UInt32 {
    line.load(fromByteOffset: 16 &+ k &<< 2, as: UInt32.self)
  }

  private static let ones: UInt64 = 0x0101_0101_0101_0101
  private static let highs: UInt64 = 0x8080_8080_8080_8080
  /// The high bits of control bytes 8 to 11 (12 to 15 are spare).
  private static let highsOfLast4: UInt64 = 0x0000_0000_8080_8080

  /// A group's slots whose control bytes may equal the hash's (bit 8k + 7 for slot k, slots
  /// 0-7 then 8-11; a false candidate is possible, a missed one is not) and its empty slots.
  @inline(__always)
  private static func scan(_ line: UnsafeRawPointer, _ h: UInt64) -> (UInt64, UInt64, UInt64, UInt64) {
    let pattern = ones &* UInt64(controlByte(h))
    let w0 = line.load(as: UInt64.self), w1 = line.load(fromByteOffset: 8, as: UInt64.self)
    let x0 = w0 ^ pattern, x1 = w1 ^ pattern
    return ((x0 &- ones) & ~x0 & highs, (x1 &- ones) & ~x1 & highsOfLast4, ~w0 & highs, ~w1 & highsOfLast4)
  }

  /// The first of a group's candidates (slot `offset + k` at bit 8k + 7) whose value `matches`, or -1.
  @inline(__always)
  private static func slot(
    _ line: UnsafeRawPointer, _ byte: UInt8, _ candidates: UInt64, offset: Int, _ matches: (UInt32) -> Bool
  ) -> Int {
    var c = candidates
    while c != 0 {
      let k = offset &+ c.trailingZeroBitCount &>> 3
      if line.load(fromByteOffset: k, as: UInt8.self) == byte, matches(value(line, k)) { return k }
      c &= c &- 1
    }
    return -1
  }

  /// Searches for a value with this hash that `matches`: its slot when found, else the empty
  /// slot to `fill`. A slot is group << 4 | index in the group.
  @inline(__always)
  func find(_ h: UInt64, _ matches: (UInt32) -> Bool) -> (found: Bool, slot: Int) {
    let byte = SlotTable.controlByte(h)
    var g = home(h)
    while true {
      let line = line(g)
      let (c0, c1, e0, e1) = SlotTable.scan(line, h)
      // The filled slots are a prefix: every candidate lies before the first empty slot.
      var k = SlotTable.slot(line, byte, c0, offset: 0, matches)
      if k < 0 { k = SlotTable.slot(line, byte, c1, offset: 8, matches) }
      if k >= 0 { return (true, g &<< 4 | k) }
      if e0 != 0 { return (false, g &<< 4 | e0.trailingZeroBitCount &>> 3) }
      if e1 != 0 { return (false, g &<< 4 | (8 &+ e1.trailingZeroBitCount &>> 3)) }
      g &+= 1
      if g == groupCount { g = 0 }
    }
  }

  /// The value in a slot found by `find`.
  @inline(__always) func value(at slot: Int) -> UInt32 { SlotTable.value(line(slot &>> 4), slot & 15) }

  /// Puts a value with this hash in the empty slot `find` gave.
  @inline(__always) func fill(_ slot: Int, _ h: UInt64, _ value: UInt32) {
    let line = line(slot &>> 4), k = slot & 15
    line.storeBytes(of: SlotTable.controlByte(h), toByteOffset: k, as: UInt8.self)
    line.storeBytes(of: value, toByteOffset: 16 &+ k &<< 2, as: UInt32.self)
  }

  /// Adds a value whose key the table does not hold yet (a rebuild): no comparisons.
  @inline(__always) func add(_ h: UInt64, _ value: UInt32) {
    var g = home(h)
    while true {
      let line = line(g)
      let e0 = ~line.load(as: UInt64.self) & SlotTable.highs
      if e0 != 0 { return fill(g &<< 4 | e0.trailingZeroBitCount &>> 3, h, value) }
      let e1 = ~line.load(fromByteOffset: 8, as: UInt64.self) & SlotTable.highsOfLast4
      if e1 != 0 { return fill(g &<< 4 | (8 &+ e1.trailingZeroBitCount &>> 3), h, value) }
      g &+= 1
      if g == groupCount { g = 0 }
    }
  }

  // MARK: - Shared out among threads (`Relation.appendNew`)

  /// The group a hash's search starts at; groups are shared out among threads by it.
  @inline(__always) func homeGroup(_ h: UInt64) -> Int { home(h) }

  /// `find`, kept to the groups before `end` (a thread's share of the table): nil when the
  /// search would go on past them.
  @inline(__always)
  func find(_ h: UInt64, before end: Int, _ matches: (UInt32) -> Bool) -> (found: Bool, slot: Int)? {
    let byte = SlotTable.controlByte(h)
    var g = home(h)
    while g < end {
      let line = line(g)
      let (c0, c1, e0, e1) = SlotTable.scan(line, h)
      var k = SlotTable.slot(line, byte, c0, offset: 0, matches)
      if k < 0 { k = SlotTable.slot(line, byte, c1, offset: 8, matches) }
      if k >= 0 { return (true, g &<< 4 | k) }
      if e0 != 0 { return (false, g &<< 4 | e0.trailingZeroBitCount &>> 3) }
      if e1 != 0 { return (false, g &<< 4 | (8 &+ e1.trailingZeroBitCount &>> 3)) }
      g &+= 1
    }
    return nil
  }

  /// `add`, kept to the groups before `end`: false (nothing added) when the search would go on
  /// past them.
  @inline(__always) func add(_ h: UInt64, _ value: UInt32, before end: Int) -> Bool {
    var g = home(h)
    while g < end {
      let line = line(g)
      let e0 = ~line.load(as: UInt64.self) & SlotTable.highs
      if e0 != 0 {
        fill(g &<< 4 | e0.trailingZeroBitCount &>> 3, h, value)
        return true
      }
      let e1 = ~line.load(fromByteOffset: 8, as: UInt64.self) & SlotTable.highsOfLast4
      if e1 != 0 {
        fill(g &<< 4 | (8 &+ e1.trailingZeroBitCount &>> 3), h, value)
        return true
      }
      g &+= 1
    }
    return false
  }

  /// `add` while other threads add too (`fill(from:count:arity:threads:)`; no one reads
  /// meanwhile): a slot is claimed by setting its control byte in the group's control word
  /// atomically (the first empty one, so the filled slots stay a prefix), then its value is
  /// written, which no other thread does.
  @inline(__always) func addConcurrently(_ h: UInt64, _ value: UInt32) {
    let byte = UInt64(SlotTable.controlByte(h))
    var g = home(h)
    while true {
      let line = line(g)
      var k = SlotTable.claim(line, byte, highs: SlotTable.highs)
      if k < 0 { k = SlotTable.claim(line + 8, byte, highs: SlotTable.highsOfLast4) &+ 8 }
      if k >= 0 {
        line.storeBytes(of: value, toByteOffset: 16 &+ k &<< 2, as: UInt32.self)
        return
      }
      g &+= 1
      if g == groupCount { g = 0 }
    }
  }

  /// Sets the first empty control byte of the word at `word` (among `highs`) to `byte`,
  /// atomically: its index in the word, or -9 when none is empty.
  @inline(__always) private static func claim(_ word: UnsafeMutableRawPointer, _ byte: UInt64, highs: UInt64) -> Int {
    var w = dq_load_u64(word)
    while true {
      let empty = ~w & highs
      if empty == 0 { return -9 }
      let k = empty.trailingZeroBitCount &>> 3
      if dq_cas_u64(word, &w, w | byte &<< (k &<< 3)) != 0 { return k }
    }
  }

  /// Replaces the value of every filled slot by what `f` makes of it (control bytes stay).
  func remapValues(_ f: (UInt32) -> UInt32) {
    for g in 0..<groupCount {
      let line = line(g)
      for k in 0..<12 where line.load(fromByteOffset: k, as: UInt8.self) != 0 {
        line.storeBytes(of: f(SlotTable.value(line, k)), toByteOffset: 16 &+ k &<< 2, as: UInt32.self)
      }
    }
  }

  /// Replaces the value in a filled slot (its control byte stays).
  @inline(__always) func setValue(_ slot: Int, _ value: UInt32) {
    line(slot &>> 4).storeBytes(of: value, toByteOffset: 16 &+ (slot & 15) &<< 2, as: UInt32.self)
  }

  // MARK: - Prefetching

  /// Asks for the group of a slot to be fetched into the cache.
  @inline(__always) func prefetchSlot(_ slot: Int) { dq_prefetch(line(slot &>> 4)) }

  /// Asks for the home group of a hash to be fetched into the cache.
  @inline(__always) func prefetch(_ h: UInt64) { dq_prefetch(line(home(h))) }

  /// Calls `body` with each value in the home group whose control byte may match the hash (read
  /// once the group has arrived, to prefetch the rows a `find` will compare).
  @inline(__always) func forEachCandidate(_ h: UInt64, _ body: (UInt32) -> Void) {
    let line = line(home(h))
    let (c0, c1, _, _) = SlotTable.scan(line, h)
    SlotTable.forEach(line, c0, offset: 0, body)
    SlotTable.forEach(line, c1, offset: 8, body)
  }

  @inline(__always)
  private static func forEach(_ line: UnsafeRawPointer, _ candidates: UInt64, offset: Int, _ body: (UInt32) -> Void) {
    var c = candidates
    while c != 0 {
      body(value(line, offset &+ c.trailingZeroBitCount &>> 3))
      c &= c &- 1
    }
  }
}
