import CEngine

/// A set of tuples of one arity, stored row after row in one flat buffer, with a hash set for
/// deduplication and the column indexes the plans asked for.
///
/// While a relation is written, rows are only appended (a reset empties the whole relation), so a
/// row number is stable and "the rows before row n" is a snapshot: semi-naive evaluation reads
/// ranges of row numbers, and `--why` reads derivation order from them.
///
/// At rest a relation keeps less. The deduplication table is working memory of whoever writes:
/// `settle()` releases it when a stratum is done, and the next insert or whole-tuple lookup
/// rebuilds it. A relation of explicit facts (`clusterable`), whose row order means nothing, is
/// sorted by the key of the first index a plan reads (`cluster(by:)`): that index is then a
/// directory of where each key's rows start, with no per-row links, and needs no table at all.
/// Adding a fact later turns the directory into a chained index (`uncluster`).
///
/// Memory per tuple of a binary relation: 8 bytes of row; plus, while there is a table, 5 1/3
/// bytes a slot. A relation of facts, which may keep its table at rest, grows it by 40% at 7/8
/// full (so 5/8 to 7/8 full: 14.1 to 16.5 bytes a tuple in all); a derived one, which releases it
/// when computed, doubles it (fewer rehashes; 7/16 to 7/8 full). Clustered: 8 bytes plus 5.7
/// bytes per distinct key.
public final class Relation {
  public let arity: Int
  /// `count * arity` values; row `r` starts at `r * arity`.
  @usableFromInline var data: UnsafeMutablePointer<Value>
  @usableFromInline var capacity: Int
  public private(set) var count: Int = 0
  /// The deduplication table: `groupCount` groups of 12 slots, each group one 64-byte cache
  /// line: 12 control bytes (0 = empty, else 0x80 | seven bits of the tuple's hash), 4 spare,
  /// then the 12 slots' row numbers. A probe reads its home group's control bytes (two words),
  /// compares a row only where a byte agrees, and goes on to the next group only when this one
  /// is full; a new tuple takes the group's first empty slot. So a probe touches one line of the
  /// table, plus a row when a byte agrees (nearly always a duplicate).
  private var groups: UnsafeMutableRawPointer
  /// The allocation `groups` lies in (aligned up to 64 bytes inside it).
  private var groupsMemory: UnsafeMutablePointer<UInt8>
  private var groupCount: Int
  /// Slots in the table.
  private var tableSize: Int { groupCount &* 12 }
  /// Whether the table exists (`settle` and `cluster` release it; `ensureTable` rebuilds it).
  private var hasTable = true
  /// Indexes by their key columns.
  private(set) var indexes: [Index] = []

  /// Whether `cluster(by:)` may reorder the rows: set for relations of explicit facts. A derived
  /// relation keeps the order it was derived in (`--why` relies on it).
  public var clusterable = false
  /// Whether the rows are sorted by the key of one of the indexes (see `cluster(by:)`).
  public private(set) var isClustered = false
  /// Called when clustering moves the rows, with each new row's old row number (parallel data,
  /// such as citations, follows).
  var onReorder: ((UnsafeBufferPointer<UInt32>) -> Void)?

  public init(arity: Int) {
    self.arity = arity
    self.capacity = 16
    self.data = Memory.allocate(Value.self, count: 16 * arity)
    // One group to start with: most relations a program states are small.
    (self.groupsMemory, self.groups) = Relation.allocateGroups(1)
    self.groupCount = 1
  }

  deinit {
    Memory.release(data)
    releaseTable()
  }

  @inline(__always) public subscript(row: Int, column: Int) -> Value { data[row &* arity &+ column] }

  /// The values of one row.
  public func row(_ r: Int) -> [Value] { Array(UnsafeBufferPointer(start: data + r * arity, count: arity)) }

  /// Bytes held for the tuples: rows in use, the table if there is one, and every index built.
  public var bytes: Int {
    count * arity * MemoryLayout<Value>.stride + (hasTable ? groupCount * 64 + 64 : 0) + indexes.reduce(0) { $0 + $1.bytes }
  }

  /// Whether the deduplication table is there now (for `.memory` and the tests).
  public var holdsTable: Bool { hasTable }

  // MARK: - Hashing

  @inline(__always) static func mix(_ h: UInt64) -> UInt64 {
    var x = h
    x ^= x >> 33
    x = x &* 0xff51_afd7_ed55_8ccd
    x ^= x >> 33
    x = x &* 0xc4ce_b9fe_1a85_ec53
    x ^= x >> 33
    return x
  }

  @inline(__always) static func hash(_ p: UnsafePointer<Value>, _ n: Int) -> UInt64 {
    if n == 2 { return mix(UInt64(p[0]) << 32 | UInt64(p[1])) }
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(n &+ 1)
    for i in 0..<n { h = (h ^ UInt64(p[i])) &* 0x1000_0000_01B3 &+ 0x9E37_79B9 }
    return mix(h)
  }

  /// The home group of a hash (its high half scaled to the table) and its control byte.
  @inline(__always) private func home(_ h: UInt64) -> Int {
    Int(truncatingIfNeeded: ((h >> 32) &* UInt64(groupCount)) >> 32)
  }
  @inline(__always) private func group(_ g: Int) -> UnsafeMutableRawPointer { groups + g &<< 6 }
  @inline(__always) private static func controlByte(_ h: UInt64) -> UInt8 { 0x80 | UInt8(truncatingIfNeeded: h & 0x7F) }

  @inline(__always) private func rowEquals(_ r: Int, _ t: UnsafePointer<Value>) -> Bool {
    let base = data + r &* arity
    for i in 0..<arity where base[i] != t[i] { return false }
    return true
  }

  private static let ones: UInt64 = 0x0101_0101_0101_0101
  private static let highs: UInt64 = 0x8080_8080_8080_8080
  /// The high bits of a group's control bytes 8 to 11 (12 to 15 are spare).
  private static let highsOfLast4: UInt64 = 0x0000_0000_8080_8080

  /// The slots of a group whose control bytes may equal `byte` (bit 8k + 7 for slot k; a false
  /// candidate is possible, a missed one is not) and the empty slots, for its two words.
  @inline(__always)
  private static func scan(_ line: UnsafeRawPointer, _ pattern: UInt64) -> (UInt64, UInt64, UInt64, UInt64) {
    let w0 = line.load(as: UInt64.self), w1 = line.load(fromByteOffset: 8, as: UInt64.self)
    let x0 = w0 ^ pattern, x1 = w1 ^ pattern
    return (
      (x0 &- ones) & ~x0 & highs, (x1 &- ones) & ~x1 & highsOfLast4,
      ~w0 & highs, ~w1 & highsOfLast4
    )
  }

  /// The row number in slot `k` of a group.
  @inline(__always) private static func row(_ line: UnsafeRawPointer, _ k: Int) -> Int {
    Int(line.load(fromByteOffset: 16 &+ k &<< 2, as: UInt32.self))
  }

  /// The row number in a slot, given as group << 4 | index in the group.
  @inline(__always) private func rowOf(_ slot: Int) -> Int { Relation.row(group(slot &>> 4), slot & 15) }

  /// The first of a group's `candidates` (slot `offset + k` at bit 8k + 7) whose row is `t`, or -1.
  @inline(__always)
  private func slot(
    holding t: UnsafePointer<Value>, _ line: UnsafeRawPointer, _ byte: UInt8, _ candidates: UInt64, offset: Int
  ) -> Int {
    var c = candidates
    while c != 0 {
      let k = offset &+ c.trailingZeroBitCount &>> 3
      if line.load(fromByteOffset: k, as: UInt8.self) == byte, rowEquals(Relation.row(line, k), t) { return k }
      c &= c &- 1
    }
    return -1
  }

  /// Probes for the tuple: its slot when present (`found`), else the empty slot to fill.
  @inline(__always)
  private func probe(_ t: UnsafePointer<Value>, _ h: UInt64) -> (found: Bool, at: Int) {
    let byte = Relation.controlByte(h)
    let pattern = Relation.ones &* UInt64(byte)
    var g = home(h)
    while true {
      let line = group(g)
      let (c0, c1, e0, e1) = Relation.scan(line, pattern)
      // Slots fill in order, so every candidate lies before the first empty slot.
      var k = slot(holding: t, line, byte, c0, offset: 0)
      if k < 0 { k = slot(holding: t, line, byte, c1, offset: 8) }
      if k >= 0 { return (true, g &<< 4 | k) }
      if e0 != 0 { return (false, g &<< 4 | e0.trailingZeroBitCount &>> 3) }
      if e1 != 0 { return (false, g &<< 4 | (8 &+ e1.trailingZeroBitCount &>> 3)) }
      g &+= 1
      if g == groupCount { g = 0 }
    }
  }

  // MARK: - Membership and insertion

  /// The row number of the tuple, or nil.
  public func find(_ t: UnsafePointer<Value>) -> Int? {
    ensureTable()
    let (found, at) = probe(t, Relation.hash(t, arity))
    return found ? rowOf(at) : nil
  }

  public func contains(_ t: [Value]) -> Bool { find(t) != nil }

  /// The row number of the tuple, or nil.
  public func find(_ t: [Value]) -> Int? {
    precondition(t.count == arity)
    return t.withUnsafeBufferPointer { find($0.baseAddress ?? UnsafePointer(data)) }
  }

  /// Adds the tuple unless present; returns true when it was new.
  @discardableResult
  public func insert(_ t: UnsafePointer<Value>) -> Bool {
    prepareToWrite()
    return insert(t, hash: Relation.hash(t, arity))
  }

  /// Inserts `n` tuples stored one after another; returns how many were new.
  ///
  /// The table is far larger than the caches, so each probe waits on memory. The loop runs
  /// ahead of itself: it hashes the tuple 24 places ahead and prefetches its home slot, reads
  /// the control bytes of the tuple `rowDistance` ahead (arrived by then) and
  /// prefetches the rows they name where the bytes agree (a likely duplicate, which needs the row
  /// compared), and only then probes the current tuple, whose loads are already on their way.
  public func insertAll(_ base: UnsafePointer<Value>, count n: Int) -> Int {
    if n == 0 { return 0 }
    prepareToWrite()
    let rowDistance = 12
    var fresh = 0
    forEachHashedAhead(base, count: n) { k, hashOf in
      if k &+ rowDistance < n { prefetchCandidateRows(hashOf(k &+ rowDistance)) }
      if insert(base + k &* arity, hash: hashOf(k)) { fresh += 1 }
    }
    return fresh
  }

  /// Calls `body(k, hashOf)` for each of `n` tuples in order. Every tuple is hashed
  /// `lookahead` places ahead of `body` and its home slot prefetched then; `hashOf(j)` gives the
  /// hash of any tuple from `k` to `k + lookahead`.
  @inline(__always)
  private func forEachHashedAhead(
    _ tuples: UnsafePointer<Value>, count n: Int, _ body: (Int, (Int) -> UInt64) -> Void
  ) {
    let lookahead = 24, ringSize = 32  // the ring holds the hashes of tuples k to k + lookahead
    withUnsafeTemporaryAllocation(of: UInt64.self, capacity: ringSize) { ring in
      @inline(__always) func hashAhead(_ j: Int) {
        let h = Relation.hash(tuples + j &* arity, arity)
        ring[j & (ringSize - 1)] = h
        dq_prefetch(group(home(h)))
      }
      for j in 0..<min(n, lookahead) { hashAhead(j) }
      for k in 0..<n {
        if k &+ lookahead < n { hashAhead(k &+ lookahead) }
        body(k) { ring[$0 & (ringSize - 1)] }
      }
    }
  }

  /// Prefetches the rows of the slots of a hash's home group whose control bytes match it.
  @inline(__always) private func prefetchCandidateRows(_ h: UInt64) {
    let line = group(home(h))
    let (c0, c1, _, _) = Relation.scan(line, Relation.ones &* UInt64(Relation.controlByte(h)))
    prefetchRows(line, c0, offset: 0)
    prefetchRows(line, c1, offset: 8)
  }

  @inline(__always) private func prefetchRows(_ line: UnsafeRawPointer, _ candidates: UInt64, offset: Int) {
    var c = candidates
    while c != 0 {
      dq_prefetch(data + Relation.row(line, offset &+ c.trailingZeroBitCount &>> 3) &* arity)
      c &= c &- 1
    }
  }

  @inline(__always)
  private func insert(_ t: UnsafePointer<Value>, hash h: UInt64) -> Bool {
    let (found, at) = probe(t, h)
    if found { return false }
    if count == capacity { grow() }
    (data + count &* arity).update(from: t, count: arity)
    let row = count
    count += 1
    occupy(at, Relation.controlByte(h), row)
    for index in indexes where index.isBuilt { index.add(row: row) }
    if count * 8 > tableSize * 7 { resizeTable(to: clusterable ? tableSize * 7 / 5 : tableSize * 2) }
    return true
  }

  @inline(__always) private func occupy(_ at: Int, _ byte: UInt8, _ row: Int) {
    let line = group(at &>> 4), k = at & 15
    line.storeBytes(of: byte, toByteOffset: k, as: UInt8.self)
    line.storeBytes(of: UInt32(truncatingIfNeeded: row), toByteOffset: 16 &+ k &<< 2, as: UInt32.self)
  }

  /// `n` zeroed groups, aligned to the cache line: the allocation and the groups.
  private static func allocateGroups(_ n: Int) -> (UnsafeMutablePointer<UInt8>, UnsafeMutableRawPointer) {
    let memory = Memory.zeroedTable(UInt8.self, count: n * 64 + 64)
    let aligned = (Int(bitPattern: memory) + 63) & ~63
    return (memory, UnsafeMutableRawPointer(memory) + (aligned - Int(bitPattern: memory)))
  }

  @discardableResult
  public func insert(_ t: [Value]) -> Bool {
    precondition(t.count == arity)
    return t.withUnsafeBufferPointer { insert($0.baseAddress ?? UnsafePointer(data)) }
  }

  private func grow() {
    capacity *= 2
    data = Memory.resize(data, count: capacity * arity)
  }

  /// Rebuilds the table with `size` slots, rehashing every row (read in order).
  private func resizeTable(to size: Int) {
    releaseTable()
    hasTable = true
    groupCount = max(1, (size + 11) / 12)
    (groupsMemory, groups) = Relation.allocateGroups(groupCount)
    // The rows are read in order; their groups are prefetched some rows ahead.
    forEachHashedAhead(data, count: count) { r, hashOf in
      let h = hashOf(r)
      var g = home(h)
      while true {
        let line = group(g)
        let e0 = ~line.load(as: UInt64.self) & Relation.highs
        if e0 != 0 {
          occupy(g &<< 4 | e0.trailingZeroBitCount &>> 3, Relation.controlByte(h), r)
          break
        }
        let e1 = ~line.load(fromByteOffset: 8, as: UInt64.self) & Relation.highsOfLast4
        if e1 != 0 {
          occupy(g &<< 4 | (8 &+ e1.trailingZeroBitCount &>> 3), Relation.controlByte(h), r)
          break
        }
        g &+= 1
        if g == groupCount { g = 0 }
      }
    }
  }

  /// Makes room for `n` more rows at once.
  public func reserve(_ n: Int) {
    while capacity < count + n { grow() }
    if !hasTable || (count + n) * 8 > tableSize * 7 { resizeTable(to: max(12, (count + n) * 8 / 7 + 8)) }
  }

  /// Empties the relation, keeping its indexes' definitions.
  public func removeAll() {
    count = 0
    if hasTable { groupsMemory.update(repeating: 0, count: groupCount * 64 + 64) }
    for index in indexes { index.removeAll() }
    isClustered = false
  }

  // MARK: - At rest

  /// Before rows are added: a clustered relation stops being one (its directory would miss the
  /// new rows), and the table comes back if it was released.
  @inline(__always) private func prepareToWrite() {
    if isClustered { uncluster() }
    ensureTable()
  }

  /// The rows stay where they are and the directory becomes a chained index over them, which
  /// inserts keep current: a session that adds facts one at a time between queries pays for
  /// this once, not for a sort per query (`clusterForFirstLookup` sorts only unbuilt indexes).
  private func uncluster() {
    for index in indexes where index.isClustered {
      index.unbuild()
      index.build()
    }
    isClustered = false
  }

  @inline(__always) private func ensureTable() {
    if !hasTable { resizeTable(to: max(12, count + count / 2 + 8)) }
  }

  private func releaseTable() {
    guard hasTable else { return }
    Memory.releaseTable(groupsMemory, count: groupCount * 64 + 64)
    hasTable = false
  }

  /// Writing is over for now (a stratum is done): releases the deduplication table, which only
  /// writers need; the next insert or whole-tuple lookup rebuilds it from the rows.
  public func settle() { releaseTable() }

  /// Clusters the relation by `index` if it is a relation of facts, not clustered yet, and
  /// `index` has never been built (or was dropped since): the first lookup of a relation at rest.
  public func clusterForFirstLookup(by index: Index) {
    if clusterable && !isClustered && !index.isBuilt { cluster(by: index) }
  }

  /// Sorts the rows by the key of `index` (stably: rows with one key keep their order) and
  /// makes `index` a directory of where each key's rows start. Other indexes are dropped (they
  /// are rebuilt when next read) and so is the table (rebuilt when next needed).
  ///
  /// Only between runs of plans: rows move, so nothing may be reading them.
  public func cluster(by index: Index) {
    guard clusterable, !isClustered, arity > 0, index.columns.count < arity else { return }
    if count > 1, arity == 2, index.columns.count == 1, onReorder == nil {
      Relation.sortBinaryRows(data, count: count, by: index.columns[0])
    } else if count > 1 {
      let order = Relation.sortedOrder(data, arity: arity, count: count, by: index.columns)
      let sorted = Memory.allocate(Value.self, count: count * arity)
      // Rows are read at random: each is prefetched some rows ahead. Binary rows move as one word.
      let ahead = 16
      for r in 0..<count {
        if r &+ ahead < count { dq_prefetch(data + Int(order[r &+ ahead]) &* arity) }
        let from = data + Int(order[r]) &* arity, to = sorted + r &* arity
        if arity == 2 {
          UnsafeMutableRawPointer(to).storeBytes(of: UnsafeRawPointer(from).loadUnaligned(as: UInt64.self), as: UInt64.self)
        } else {
          for c in 0..<arity { to[c] = from[c] }
        }
      }
      Memory.release(data)
      data = sorted
      capacity = count
      onReorder?(UnsafeBufferPointer(start: order, count: count))
      Memory.release(order)
    }
    releaseTable()
    for other in indexes where other !== index { other.unbuild() }
    index.unbuild()
    index.buildDirectory()
    isClustered = true
  }

  /// The order of the rows sorted by `columns` (first column most significant), stably: for
  /// each new position, the old row. (value, row) pairs are sorted one column at a time from the
  /// last (`sortByHighHalf`), so each column's pass keeps the order of the ones after it.
  static func sortedOrder(
    _ data: UnsafePointer<Value>, arity: Int, count n: Int, by columns: [Int]
  ) -> UnsafeMutablePointer<UInt32> {
    var a = Memory.allocate(UInt64.self, count: n)
    var b = Memory.allocate(UInt64.self, count: n)
    for (k, column) in columns.reversed().enumerated() {
      for i in 0..<n {
        let row = k == 0 ? i : Int(truncatingIfNeeded: a[i] & 0xFFFF_FFFF)
        a[i] = UInt64(data[row &* arity &+ column]) << 32 | UInt64(truncatingIfNeeded: row)
      }
      sortByHighHalf(&a, &b, count: n)
    }
    let order = Memory.allocate(UInt32.self, count: n)
    for i in 0..<n { order[i] = UInt32(truncatingIfNeeded: a[i]) }
    Memory.release(a)
    Memory.release(b)
    return order
  }

  /// Sorts a binary relation's rows in place by one column, stably: each row is one word with
  /// the key in its high half, so the sort moves rows themselves (no order, no gather).
  static func sortBinaryRows(_ data: UnsafeMutablePointer<Value>, count n: Int, by column: Int) {
    var a = Memory.allocate(UInt64.self, count: n)
    var b = Memory.allocate(UInt64.self, count: n)
    let other = 1 &- column
    for i in 0..<n { a[i] = UInt64(data[2 &* i &+ column]) << 32 | UInt64(data[2 &* i &+ other]) }
    sortByHighHalf(&a, &b, count: n)
    for i in 0..<n {
      data[2 &* i &+ column] = Value(truncatingIfNeeded: a[i] >> 32)
      data[2 &* i &+ other] = Value(truncatingIfNeeded: a[i])
    }
    Memory.release(a)
    Memory.release(b)
  }

  /// A stable least-significant-digit radix sort of `a` by the high 32 bits of each word, 11
  /// bits a pass (`b` is scratch; the two may be swapped, `a` ends up holding the result). A
  /// pass whose digit is the same in every word is skipped.
  static func sortByHighHalf(_ a: inout UnsafeMutablePointer<UInt64>, _ b: inout UnsafeMutablePointer<UInt64>, count n: Int) {
    let histogram = Memory.allocate(Int.self, count: 3 << 11)
    defer { Memory.release(histogram) }
    histogram.update(repeating: 0, count: 3 << 11)
    let h0 = histogram, h1 = histogram + 2048, h2 = histogram + 4096
    for i in 0..<n {
      let x = a[i]
      h0[Int(truncatingIfNeeded: (x >> 32) & 0x7FF)] &+= 1
      h1[Int(truncatingIfNeeded: (x >> 43) & 0x7FF)] &+= 1
      h2[Int(truncatingIfNeeded: x >> 54)] &+= 1
    }
    for (d, (shift, width)) in [(32, 11), (43, 11), (54, 10)].enumerated() {
      let counts = histogram + d << 11
      let buckets = 1 << width
      if (0..<buckets).contains(where: { counts[$0] == n }) { continue }
      var sum = 0
      for j in 0..<buckets {
        let c = counts[j]
        counts[j] = sum
        sum &+= c
      }
      let mask = UInt64(buckets - 1)
      for i in 0..<n {
        let x = a[i]
        let j = Int(truncatingIfNeeded: (x >> UInt64(shift)) & mask)
        b[counts[j]] = x
        counts[j] &+= 1
      }
      swap(&a, &b)
    }
  }

  // MARK: - Indexes

  /// The index on exactly these columns, built now if it is not yet.
  public func index(on columns: [Int]) -> Index {
    let i = plannedIndex(on: columns)
    i.build()
    return i
  }

  /// The index on exactly these columns, built only when first read: a plan may never read it
  /// (a lookup behind an atom that matches nothing, say), and an index that is not built costs
  /// neither memory nor upkeep on every insert.
  func plannedIndex(on columns: [Int]) -> Index {
    if let i = indexes.first(where: { $0.columns == columns }) { return i }
    let i = Index(relation: self, columns: columns)
    indexes.append(i)
    return i
  }
}

/// An index on some columns, in one of two forms.
///
/// Chained (the relation is written, or sorted by another key): for each distinct key, a chain
/// of the rows having it, newest first, so a range of row numbers can be read by skipping to it
/// and stopping early. 4 bytes a row and 12 a key slot.
///
/// Clustered (the relation is sorted by this key, see `Relation.cluster(by:)`): each key's rows
/// are contiguous, and a directory gives the first of them: 5 bytes a slot, 8 slots for 7 keys.
public final class Index {
  public let columns: [Int]
  private unowned(unsafe) let relation: Relation
  /// Open-addressing table, one slot per key: the key's 32-bit hash in the high half and its
  /// newest row + 1 in the low half (0 = empty), so mismatches are rejected without reading rows.
  private var heads: UnsafeMutablePointer<UInt64>
  /// Rows per key, beside `heads`: a count over a whole relation reads it instead of a chain.
  private var sizes: UnsafeMutablePointer<UInt32>
  private var headMask: Int
  private var keys = 0
  /// For each row, the next older row + 1 with the same key (0 = none).
  @usableFromInline var next: UnsafeMutablePointer<UInt32>
  private var nextCapacity: Int
  let columnBuffer: UnsafeMutablePointer<Int>
  let keyCount: Int
  /// The clustered form's directory: linear probing over `directorySize` slots, a control byte
  /// (0 = empty, else 0x80 | seven hash bits; the first eight repeated after the end) and the
  /// first row of the key.
  private var directoryControl: UnsafeMutablePointer<UInt8>?
  private var directoryStart: UnsafeMutablePointer<UInt32>?
  private var directorySize = 0
  /// Whether the index is in its clustered form.
  public private(set) var isClustered = false

  init(relation: Relation, columns: [Int]) {
    self.relation = relation
    self.columns = columns
    self.keyCount = columns.count
    self.columnBuffer = .allocate(capacity: max(1, columns.count))
    for (i, c) in columns.enumerated() { columnBuffer[i] = c }
    self.headMask = 15
    self.heads = Memory.zeroedTable(UInt64.self, count: 16)
    self.sizes = Memory.zeroedTable(UInt32.self, count: 16)
    self.nextCapacity = 16
    self.next = Memory.allocate(UInt32.self, count: 16)
  }

  deinit {
    Memory.releaseTable(heads, count: headMask + 1)
    Memory.releaseTable(sizes, count: headMask + 1)
    Memory.release(next)
    releaseDirectory()
    columnBuffer.deallocate()
  }

  /// The hash of a row's key; its low half is the tag of the chained form.
  @inline(__always) private func rowHash(_ r: Int) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(keyCount &+ 1)
    let base = relation.data + r &* relation.arity
    for i in 0..<keyCount { h = (h ^ UInt64(base[columnBuffer[i]])) &* 0x1000_0000_01B3 &+ 0x9E37_79B9 }
    return Relation.mix(h)
  }

  @inline(__always) private func keyHash(_ key: UnsafePointer<Value>) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(keyCount &+ 1)
    for i in 0..<keyCount { h = (h ^ UInt64(key[i])) &* 0x1000_0000_01B3 &+ 0x9E37_79B9 }
    return Relation.mix(h)
  }

  @inline(__always) private func rowTag(_ r: Int) -> UInt32 { UInt32(truncatingIfNeeded: rowHash(r)) }
  @inline(__always) private func keyTag(_ key: UnsafePointer<Value>) -> UInt32 { UInt32(truncatingIfNeeded: keyHash(key)) }

  @inline(__always) private func rowMatches(_ r: Int, key: UnsafePointer<Value>) -> Bool {
    let base = relation.data + r &* relation.arity
    for i in 0..<keyCount where base[columnBuffer[i]] != key[i] { return false }
    return true
  }

  @inline(__always) private func rowsShareKey(_ a: Int, _ b: Int) -> Bool {
    let arity = relation.arity
    let x = relation.data + a &* arity, y = relation.data + b &* arity
    for i in 0..<keyCount where x[columnBuffer[i]] != y[columnBuffer[i]] { return false }
    return true
  }

  private func reserveNext(through r: Int) {
    guard r >= nextCapacity else { return }
    var n = nextCapacity * 2
    while n <= r { n *= 2 }
    next = Memory.resize(next, count: n)
    nextCapacity = n
  }

  func add(row r: Int) {
    reserveNext(through: r)
    add(row: r, tag: rowTag(r))
  }

  /// Adds a range of rows, hashing each row some places ahead and prefetching its slot.
  func addAll(_ rows: Range<Int>) {
    guard let last = rows.last else { return }
    reserveNext(through: last)
    let distance = 16, ringSize = 32  // the ring holds the rows from r to r + distance
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: ringSize) { ring in
      @inline(__always) func hashAhead(_ r: Int) {
        let tag = rowTag(r)
        ring[r & (ringSize - 1)] = tag
        dq_prefetch(heads + (Int(tag) & headMask))
      }
      for r in rows.prefix(distance) { hashAhead(r) }
      for r in rows {
        if r &+ distance < rows.upperBound { hashAhead(r &+ distance) }
        add(row: r, tag: ring[r & (ringSize - 1)])
      }
    }
  }

  @inline(__always) private func add(row r: Int, tag: UInt32) {
    var i = Int(tag) & headMask
    let entry = UInt64(tag) << 32 | UInt64(r &+ 1)
    while true {
      let s = heads[i]
      if s == 0 {
        heads[i] = entry
        sizes[i] = 1
        next[r] = 0
        keys += 1
        if keys * 10 > (headMask + 1) * 7 { rehash() }
        return
      }
      if UInt32(truncatingIfNeeded: s >> 32) == tag, rowsShareKey(Int(truncatingIfNeeded: s & 0xFFFF_FFFF) &- 1, r) {
        next[r] = UInt32(truncatingIfNeeded: s)
        heads[i] = entry
        sizes[i] &+= 1
        return
      }
      i = (i &+ 1) & headMask
    }
  }

  private func rehash() {
    let size = (headMask + 1) * 2
    let old = heads, oldSizes = sizes, oldSize = headMask + 1
    heads = Memory.zeroedTable(UInt64.self, count: size)
    sizes = Memory.zeroedTable(UInt32.self, count: size)
    headMask = size - 1
    for j in 0..<oldSize where old[j] != 0 {
      var i = Int(truncatingIfNeeded: old[j] >> 32) & headMask
      while heads[i] != 0 { i = (i &+ 1) & headMask }
      heads[i] = old[j]
      sizes[i] = oldSizes[j]
    }
    Memory.releaseTable(old, count: oldSize)
    Memory.releaseTable(oldSizes, count: oldSize)
  }

  func removeAll() {
    if isClustered {
      unbuild()
      return
    }
    heads.update(repeating: 0, count: headMask + 1)
    keys = 0
  }

  /// The slot of the key, or -1 when no row has it.
  @inline(__always)
  public func slot(_ key: UnsafePointer<Value>) -> Int {
    let tag = keyTag(key)
    var i = Int(tag) & headMask
    while true {
      let s = heads[i]
      if s == 0 { return -1 }
      if UInt32(truncatingIfNeeded: s >> 32) == tag, rowMatches(Int(truncatingIfNeeded: s & 0xFFFF_FFFF) &- 1, key: key) {
        return i
      }
      i = (i &+ 1) & headMask
    }
  }

  /// The newest row + 1 whose key columns equal `key` (0 when none); follow `next` for older rows.
  @inline(__always)
  public func first(_ key: UnsafePointer<Value>) -> UInt32 {
    let i = slot(key)
    return i < 0 ? 0 : UInt32(truncatingIfNeeded: heads[i])
  }

  /// The newest row + 1 of the key in slot `i` (from `slot`).
  @inline(__always) func head(atSlot i: Int) -> UInt32 { UInt32(truncatingIfNeeded: heads[i]) }

  /// Bytes held: chained, the key table (12 bytes a slot) and a link per row; clustered, the
  /// directory (5 bytes a slot).
  var bytes: Int {
    if isClustered { return directorySize * 5 + 8 }
    return isBuilt ? (headMask + 1) * 12 + relation.count * 4 : 0
  }

  /// Whether the index holds every row (see `Relation.plannedIndex`).
  private(set) var isBuilt = false

  /// Builds the index over the rows there now, if not built yet; inserts then keep it current.
  @inline(__always) func build() {
    if !isBuilt {
      isBuilt = true
      addAll(0..<relation.count)
    }
  }

  /// Forgets the rows (either form); the next `build` starts again.
  func unbuild() {
    if isBuilt && !isClustered {
      Memory.releaseTable(heads, count: headMask + 1)
      Memory.releaseTable(sizes, count: headMask + 1)
      headMask = 15
      heads = Memory.zeroedTable(UInt64.self, count: 16)
      sizes = Memory.zeroedTable(UInt32.self, count: 16)
      Memory.release(next)
      nextCapacity = 16
      next = Memory.allocate(UInt32.self, count: 16)
      keys = 0
    }
    releaseDirectory()
    isClustered = false
    isBuilt = false
  }

  private func releaseDirectory() {
    if let c = directoryControl { Memory.releaseTable(c, count: directorySize + 8) }
    if let s = directoryStart { Memory.releaseTable(s, count: directorySize) }
    directoryControl = nil
    directoryStart = nil
    directorySize = 0
  }

  /// Builds the clustered form over rows sorted by this key (`Relation.cluster(by:)`).
  func buildDirectory() {
    let n = relation.count
    // Where each run of rows with one key starts.
    let runStarts = Memory.allocate(UInt32.self, count: n)
    defer { Memory.release(runStarts) }
    var runs = 0
    if keyCount == 1 {
      let data = relation.data, arity = relation.arity, column = columnBuffer[0]
      for r in 0..<n where r == 0 || data[r &* arity &+ column] != data[(r &- 1) &* arity &+ column] {
        runStarts[runs] = UInt32(truncatingIfNeeded: r)
        runs &+= 1
      }
    } else {
      for r in 0..<n where r == 0 || !rowsShareKey(r &- 1, r) {
        runStarts[runs] = UInt32(truncatingIfNeeded: r)
        runs &+= 1
      }
    }
    let size = runs + runs / 7 + 8
    let control = Memory.zeroedTable(UInt8.self, count: size + 8)
    let start = Memory.zeroedTable(UInt32.self, count: size)
    for k in 0..<runs {
      let r = Int(runStarts[k])
      let h = rowHash(r)
      var i = Int(truncatingIfNeeded: ((h >> 32) &* UInt64(size)) >> 32)
      while control[i] != 0 {
        i &+= 1
        if i == size { i = 0 }
      }
      let byte = 0x80 | UInt8(truncatingIfNeeded: h & 0x7F)
      control[i] = byte
      if i < 8 { control[size &+ i] = byte }
      start[i] = UInt32(truncatingIfNeeded: r)
    }
    directoryControl = control
    directoryStart = start
    directorySize = size
    isClustered = true
    isBuilt = true
  }

  /// Clustered form: the rows whose key columns equal `key` (empty when none).
  @inline(__always)
  public func rows(_ key: UnsafePointer<Value>) -> Range<Int> {
    guard let control = directoryControl, let start = directoryStart else { return 0..<0 }
    let h = keyHash(key)
    let byte = 0x80 | UInt8(truncatingIfNeeded: h & 0x7F)
    let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
    let pattern = ones &* UInt64(byte)
    let size = directorySize
    var i = Int(truncatingIfNeeded: ((h >> 32) &* UInt64(size)) >> 32)
    while true {
      let window = UnsafeRawPointer(control + i).loadUnaligned(as: UInt64.self)
      let empties = ~window & highs
      let x = window ^ pattern
      var candidates = (x &- ones) & ~x & highs
      if empties != 0 { candidates &= (empties &- 1) }
      while candidates != 0 {
        var j = i &+ (candidates.trailingZeroBitCount >> 3)
        if j >= size { j &-= size }
        let first = Int(start[j])
        if control[j] == byte, rowMatches(first, key: key) { return first..<runEnd(first, key) }
        candidates &= candidates &- 1
      }
      if empties != 0 { return 0..<0 }
      i &+= 8
      if i >= size { i &-= size }
    }
  }

  /// Where the run of rows with `key` that begins at `first` ends: rows with one key are
  /// contiguous, so "has the key" holds up to the end and nowhere after; gallop, then bisect.
  @inline(__always) private func runEnd(_ first: Int, _ key: UnsafePointer<Value>) -> Int {
    let n = relation.count
    var known = first  // the last row known to have the key
    var probe = first &+ 1
    var stride = 1
    while probe < n, rowMatches(probe, key: key) {
      known = probe
      stride &<<= 1
      probe = first &+ stride
    }
    var low = known &+ 1, high = min(probe, n)
    while low < high {
      let mid = (low &+ high) >> 1
      if rowMatches(mid, key: key) { low = mid &+ 1 } else { high = mid }
    }
    return low
  }

  /// How many rows with the key in slot `i` (from `slot`) lie in `low ..< high`: over the whole
  /// relation the kept size, otherwise by walking the chain.
  func count(atSlot i: Int, low: Int, high: Int) -> Int {
    if low <= 0 && high >= relation.count { return Int(sizes[i]) }
    var e = head(atSlot: i)
    var n = 0
    while e != 0 {
      let r = Int(e) &- 1
      if r < low { break }
      if r < high { n &+= 1 }
      e = next[r]
    }
    return n
  }
}
