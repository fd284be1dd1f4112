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
/// when computed, doubles it while it is small (fewer rehashes; 7/16 to 7/8 full) and grows it by
/// half past a million slots (7/12 to 7/8 full: 6.1 to 9.1 bytes a tuple of table, so the
/// peak of a large closure stays within twice its rows). Clustered: 8 bytes plus about 6 bytes
/// per distinct key.
public final class Relation {
  public let arity: Int
  /// `count * arity` values; row `r` starts at `r * arity`.
  @usableFromInline var data: UnsafeMutablePointer<Value>
  @usableFromInline var capacity: Int
  public private(set) var count: Int = 0
  /// The deduplication table: row numbers by tuple hash. A probe touches one cache line of it,
  /// plus a row where a control byte agrees (nearly always a duplicate).
  private(set) var table: SlotTable
  /// Whether the table exists (`settle` and `cluster` release it; `ensureTable` rebuilds it).
  private var hasTable = true
  /// Slots of the table whose rows were removed (`removeRows`), or whose tuples a wave inserted
  /// concurrently gave up (`giveUpInserted`): they hold row 0, which any search compares as it
  /// would any other row, and count as filled until the table is rebuilt.
  private var deadSlots = 0
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
    self.table = SlotTable(slots: 12)
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
    count * arity * MemoryLayout<Value>.stride + (hasTable ? table.bytes : 0) + indexes.reduce(0) { $0 + $1.bytes }
  }

  /// Whether the deduplication table is there now (for `.memory` and the tests).
  public var holdsTable: Bool { hasTable }

  // MARK: - Hashing

  @inline(__always) static func hash(_ p: UnsafePointer<Value>, _ n: Int) -> UInt64 {
    if n == 2 { return TupleHash.mix(UInt64(p[0]) << 32 | UInt64(p[1])) }
    return TupleHash.of(p, n)
  }

  /// Whether row `r` holds the tuple at `t`.
  @inline(__always) func rowEquals(_ r: Int, _ t: UnsafePointer<Value>) -> Bool {
    let base = data + r &* arity
    for i in 0..<arity where base[i] != t[i] { return false }
    return true
  }

  /// Probes for the tuple: its slot when present (`found`), else the empty slot to fill.
  @inline(__always)
  private func probe(_ t: UnsafePointer<Value>, _ h: UInt64) -> (found: Bool, slot: Int) {
    table.find(h) { rowEquals(Int($0), t) }
  }

  // MARK: - Membership and insertion

  /// The row number of the tuple, or nil.
  public func find(_ t: UnsafePointer<Value>) -> Int? {
    ensureTable()
    let (found, at) = probe(t, Relation.hash(t, arity))
    return found ? Int(table.value(at: at)) : nil
  }

  public func contains(_ t: [Value]) -> Bool { find(t) != nil }

  // MARK: - Probes announced ahead

  /// Before a run of `find`s announced ahead (`Executor.visitRowsProbingAhead`): the table is
  /// there to prefetch from.
  func prepareForFinds() { ensureTable() }

  /// Prefetches the home group of a tuple's hash (`Relation.hash`) for a `find` to come.
  @inline(__always) func prefetchGroup(forHash h: UInt64) {
    if hasTable { table.prefetch(h) }
  }

  /// Prefetches the rows a `find` of the tuple with this hash will compare, once its home
  /// group (`prefetchGroup`) has arrived.
  @inline(__always) func prefetchRows(forHash h: UInt64) {
    if hasTable { prefetchCandidateRows(h) }
  }

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

  /// Moves the tuples of `n` not stored here to the front of `tuples`, in order; returns how
  /// many. Probes run ahead of themselves as in `insertAll`.
  public func keepAbsent(_ tuples: UnsafeMutablePointer<Value>, count n: Int) -> Int {
    if n == 0 { return 0 }
    ensureTable()
    let rowDistance = 12
    var kept = 0
    forEachHashedAhead(tuples, count: n) { k, hashOf in
      if k &+ rowDistance < n { prefetchCandidateRows(hashOf(k &+ rowDistance)) }
      let t = tuples + k &* arity
      if !probe(t, hashOf(k)).found {
        // Only places already probed are written: the tuples hashed ahead stay as they were.
        if kept != k { (tuples + kept &* arity).update(from: t, count: arity) }
        kept &+= 1
      }
    }
    return kept
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
        table.prefetch(h)
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
    table.forEachCandidate(h) { dq_prefetch(data + Int($0) &* arity) }
  }

  @inline(__always)
  private func insert(_ t: UnsafePointer<Value>, hash h: UInt64) -> Bool {
    let (found, at) = probe(t, h)
    if found { return false }
    if count == capacity { grow() }
    (data + count &* arity).update(from: t, count: arity)
    let row = count
    count += 1
    table.fill(at, h, UInt32(truncatingIfNeeded: row))
    for index in indexes where index.isBuilt { index.add(row: row) }
    let slots = table.slotCount
    if (count &+ deadSlots) * 8 > slots * 7 { resizeTable(to: grown(slots)) }
    return true
  }

  /// Appends `n` tuples stored one after another, with no probe: the caller knows they are
  /// distinct and none is stored here (`Evaluator.run` and `DistinctSplit`, for a rule that
  /// derives no tuple twice into a relation that was empty). The table is released rather than kept current (the
  /// next insert or `find` rebuilds it from the rows, as after `settle`); built indexes learn
  /// the rows.
  func appendDistinct(_ base: UnsafePointer<Value>, count n: Int) {
    if n == 0 { return }
    if isClustered { uncluster() }
    releaseTable()
    while capacity < count + n { grow() }
    (data + count &* arity).update(from: base, count: n &* arity)
    let from = count
    count += n
    for index in indexes where index.isBuilt {
      for row in from..<count { index.add(row: row) }
    }
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

  /// Slots above which a derived relation's table grows by half instead of doubling (about
  /// 5 MiB of table): past it the table is the larger part of a stratum's peak memory, so the
  /// extra rebuilds (each reads the rows in order) buy a smaller peak.
  static let gentleGrowthSlots = 1 << 20

  /// The smallest size of a derived relation's table above `slots` (or at least `slots`, when
  /// `orEqual`): sizes come from one ladder, 12 doubled up to `gentleGrowthSlots`, then grown
  /// by half, so the table a relation ends with depends on its tuples only, not on the size
  /// its table happened to start at (after `settle` or `appendDistinct`; `reserve`, which
  /// sizes a table for the tuples about to come, is off the ladder until the table next grows).
  static func rung(above slots: Int, orEqual: Bool = false) -> Int {
    var r = 12
    while r < slots || (!orEqual && r == slots) { r = r < gentleGrowthSlots ? r * 2 : r + r / 2 }
    return r
  }

  /// The slot count a full table grows to. A relation of facts, which may keep its table at
  /// rest, grows by 40%; a derived one, which releases it when computed, takes the next size
  /// of the ladder (`rung`): doubled while small (fewer rebuilds), grown by half once large
  /// (less memory at the peak).
  @inline(__always) private func grown(_ slots: Int) -> Int {
    clusterable ? max(slots + 12, slots * 7 / 5) : Relation.rung(above: slots)
  }

  /// Rebuilds the table with `size` slots, rehashing every row (read in order).
  private func resizeTable(to size: Int) {
    releaseTable()
    hasTable = true
    deadSlots = 0
    table = SlotTable(slots: size)
    table.populate(part: 0, of: 1)
    // The rows are read in order; their groups are prefetched some rows ahead.
    forEachHashedAhead(data, count: count) { r, hashOf in table.add(hashOf(r), UInt32(truncatingIfNeeded: r)) }
  }

  /// Before `appendNew` (ParallelAppend.swift) writes the table from several threads: the
  /// relation is writable and its table has room for `tuples` tuples, so it never resizes
  /// while they write. `tuples` counts repeats and stored tuples too, so up to 15/16 full is
  /// let be (the slots are grown afterwards, when what was new is known, as `insert` would
  /// have grown them); a table of `parallelFrom` rows or more is rebuilt by the threads.
  func prepareForAppend(upTo tuples: Int, threads: Int, parallelFrom: Int) {
    prepareToWrite()
    if (tuples + deadSlots) * 16 <= table.slotCount * 15 { return }
    growTable(toFit: tuples, fullness: (15, 16), threads: threads, parallelFrom: parallelFrom)
  }

  /// How many tuples `prepareForAppend` has room for without growing the table (at least 1;
  /// the relation is made writable first).
  func appendRoom() -> Int {
    prepareToWrite()
    return max(1, table.slotCount * 15 / 16 - count - deadSlots)
  }

  /// After `appendNew`: the table is grown as `insert` would have grown it.
  func finishAppend(threads: Int, parallelFrom: Int) {
    if (count + deadSlots) * 8 > table.slotCount * 7 {
      growTable(toFit: count, fullness: (7, 8), threads: threads, parallelFrom: parallelFrom)
    }
  }

  /// Grows the table until `tuples` fill it at most to `fullness` (parts, of).
  private func growTable(toFit tuples: Int, fullness: (Int, Int), threads: Int, parallelFrom: Int) {
    var slots = table.slotCount
    while tuples * fullness.1 > slots * fullness.0 { slots = grown(slots) }
    // A large table is rebuilt by every thread, each adding the rows homed in its groups.
    guard threads > 1, count >= parallelFrom else { return resizeTable(to: slots) }
    releaseTable()
    hasTable = true
    deadSlots = 0
    table = SlotTable(slots: slots)
    table.fill(from: data, count: count, arity: arity, threads: threads)
  }

  /// Room for `n` more rows (`appendNew`, `appendInserted`).
  func reserveRows(_ n: Int) {
    while capacity < count + n { grow() }
  }

  /// The rows up to `n` hold tuples whose table entries `appendNew` has written.
  func setCount(_ n: Int) { count = n }

  /// `n` slots of the table were given up (they hold row 0; `giveUpInserted`).
  func noteDeadSlots(_ n: Int) { deadSlots += n }

  /// Makes room for `n` more rows at once.
  public func reserve(_ n: Int) {
    while capacity < count + n { grow() }
    if !hasTable || (count + n + deadSlots) * 8 > table.slotCount * 7 { resizeTable(to: max(12, (count + n) * 8 / 7 + 8)) }
  }

  /// Empties the relation, keeping its indexes' definitions.
  public func removeAll() {
    count = 0
    deadSlots = 0
    if hasTable { table.clear() }
    for index in indexes { index.removeAll() }
    isClustered = false
  }

  /// Empties the relation and gives its memory back (after an evaluation stopped half way:
  /// what it had derived is not kept, so it must not stay held either).
  public func removeAllReleasingMemory() {
    removeAll()
    for index in indexes { index.unbuild() }
    releaseTable()
    table = SlotTable(slots: 12)
    hasTable = true
    capacity = 16
    data = Memory.resize(data, count: 16 * arity)
  }

  /// Removes the rows whose numbers are given (ascending, each once), keeping the others in
  /// their order: a derived relation's row order is its derivation order (`--why`), and the
  /// rows that stay keep derivations among the rows before them. Chained indexes are
  /// renumbered in place (`Index.remove`), clustered ones dropped (rebuilt when next read).
  /// The table is renumbered in place when few rows go (cheaper than building it again, which
  /// a retraction would do twice: to find what to remove, and to add back what is derived
  /// again); their slots stay, dead, until the table is next rebuilt. Else it is dropped
  /// (rebuilt when next needed).
  public func removeRows(_ sorted: [Int]) {
    guard let first = sorted.first else { return }
    let before = count
    // Chained indexes renumber their links (the rows are still where they were); clustered ones are unbuilt.
    for index in indexes { index.remove(sorted) }
    var write = first
    var k = 0
    for r in first..<count {
      if k < sorted.count && sorted[k] == r {
        k += 1
        continue
      }
      if write != r { (data + write &* arity).update(from: data + r &* arity, count: arity) }
      write += 1
    }
    count = write
    isClustered = false
    if hasTable && count > 0 && (deadSlots + sorted.count) * 32 <= count {
      // Removed rows before each block of 1,024 rows: a row's new number is a look-up away.
      let blocks = before >> 10 + 1
      var shift = [Int](repeating: 0, count: blocks)
      var k = 0
      for b in 0..<blocks {
        while k < sorted.count && sorted[k] < b << 10 { k += 1 }
        shift[b] = k
      }
      shift.withUnsafeBufferPointer { shift in
        sorted.withUnsafeBufferPointer { sorted in
          table.remapValues { v in
            let r = Int(v)
            if r < first { return v }
            var k = shift[r >> 10]
            while k < sorted.count && sorted[k] < r { k += 1 }
            if k < sorted.count && sorted[k] == r { return 0 }
            return UInt32(truncatingIfNeeded: r - k)
          }
        }
      }
      deadSlots += sorted.count
    } else {
      releaseTable()
    }
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
    if !hasTable {
      // A derived relation's table is rebuilt at a size of the ladder its growth follows.
      resizeTable(to: clusterable ? max(12, count + count / 2 + 8) : Relation.rung(above: (count * 8 + 6) / 7, orEqual: true))
    }
  }

  private func releaseTable() {
    deadSlots = 0
    guard hasTable else { return }
    table.release()
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
